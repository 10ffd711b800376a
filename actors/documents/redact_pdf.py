"""Redact terms: the matching text is removed from the page content (PyMuPDF redaction annotations,
applied), a black box is drawn where it was, and image pixels under it are blanked. The terms are also
removed from the document's metadata. Nothing that was redacted can be selected or extracted."""

from __future__ import annotations

from pydantic import Field, field_validator

from actors._lazy import pymupdf
from actors.common import pdfs
from protocols.errors import bad_input
from protocols.tools import Section, ToolCall, ToolResult, ToolSettings, tool


# what MuPDF raises on a damaged file: its own error classes, RuntimeError subclasses, and ValueError
# (e.g. 'cannot save with zero pages' when nothing of the document could be read)
def mupdf_errors() -> tuple[type[Exception], ...]:
    """What MuPDF raises on a damaged file (a function: PyMuPDF loads at the first use)."""
    return (RuntimeError, ValueError, pymupdf.mupdf.FzErrorBase)


class RedactSettings(ToolSettings):
    terms: list[str] = Field(..., min_length=1, max_length=200, description="Words or phrases to remove")
    case_sensitive: bool = Field(False, description="Match the terms' exact case")

    @field_validator("terms")
    @classmethod
    def _clean(cls, terms: list[str]) -> list[str]:
        cleaned = [" ".join(t.split()) for t in terms]
        cleaned = [t for t in cleaned if t]
        if not cleaned:
            raise ValueError("give at least one non-blank term")
        if any(len(t) > 500 for t in cleaned):
            raise ValueError("a term is longer than 500 characters")
        return cleaned


def _matches(page: pymupdf.Page, term: str, case_sensitive: bool) -> list[pymupdf.Rect]:
    hits = page.search_for(term, quads=False)  # case-insensitive
    if not case_sensitive:
        return hits
    kept = []
    for rect in hits:
        found = page.get_textbox(rect + (-1, -1, 1, 1))
        if term in " ".join(found.split()):
            kept.append(rect)
    return kept


@tool("redact-pdf", section=Section.PDF, settings=RedactSettings, accepts={"pdf"})
def run(call: ToolCall[RedactSettings]) -> ToolResult:
    """Permanently remove words or phrases from a PDF."""
    s = call.settings
    pdfs.check_input(call.inputs[0], call.limits)
    try:
        doc = pymupdf.open(call.inputs[0], filetype="pdf")
    except mupdf_errors():
        raise bad_input(pdfs.CORRUPT_MESSAGE) from None
    counts: dict[str, int] = dict.fromkeys(s.terms, 0)
    try:
        for page in doc:
            found = False
            for term in s.terms:
                for rect in _matches(page, term, s.case_sensitive):
                    page.add_redact_annot(rect, fill=(0, 0, 0))
                    counts[term] += 1
                    found = True
            if found:
                page.apply_redactions(images=pymupdf.PDF_REDACT_IMAGE_PIXELS,
                                      graphics=pymupdf.PDF_REDACT_LINE_ART_NONE)
        metadata = doc.metadata or {}
        changed = False
        for key, value in list(metadata.items()):
            if not isinstance(value, str) or key in ("format", "encryption"):
                continue
            new = value
            for term in s.terms:
                new = _remove(new, term, s.case_sensitive)
            if new != value:
                metadata[key] = new
                changed = True
        if changed:
            doc.set_metadata({k: v for k, v in metadata.items() if k not in ("format", "encryption")})
            doc.del_xml_metadata()
        out = pdfs.out_path(call, "_redacted")
        doc.save(out, garbage=3, deflate=True, clean=True)
    except mupdf_errors():  # damage qpdf tolerated but MuPDF does not (or no page it can keep)
        raise bad_input(pdfs.CORRUPT_MESSAGE) from None
    finally:
        doc.close()
    return ToolResult([out], {"redactions": sum(counts.values()), "matches": counts})


def _remove(text: str, term: str, case_sensitive: bool) -> str:
    if case_sensitive:
        return text.replace(term, "█" * len(term))
    lower, needle, out, i = text.lower(), term.lower(), [], 0
    while True:
        j = lower.find(needle, i)
        if j < 0:
            out.append(text[i:])
            return "".join(out)
        out.append(text[i:j] + "█" * len(term))
        i = j + len(term)
