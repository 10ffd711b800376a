"""PDF files, for every family that reads them (documents, vision): safe opening (not-a-PDF, encrypted and page-limit checks), qpdf page ranges,
saving, and output naming. Every error becomes a client-safe message that names no path."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pikepdf

from protocols.errors import ErrorCode, ToolError, bad_input
from protocols.tools import Limits, ToolCall

ENCRYPTED_MESSAGE = "The PDF is password-protected; remove the password first with unlock-pdf."
CORRUPT_MESSAGE = "The file is not a readable PDF: it may be corrupt (try repair-pdf)."
# what a damaged PDF can raise while it is read or written (qpdf's runtime errors, e.g. a content stream
# that fails to decode while it is being overlaid, are not PdfError subclasses)
DAMAGED = (pikepdf.PikepdfError, RecursionError)


def check_pdf_header(path: Path) -> None:
    """A file that does not start like a PDF is refused before any library parses it."""
    with open(path, "rb") as f:
        head = f.read(1024)
    if b"%PDF-" not in head:
        raise bad_input("The file is not a PDF.")


def check_pages(count: int, limits: Limits, what: str = "The PDF") -> None:
    if count <= 0:
        raise bad_input(f"{what} has no pages.")
    if limits.max_pdf_pages and count > limits.max_pdf_pages:
        raise ToolError(
            f"{what} has {count} pages, over this server's limit of {limits.max_pdf_pages}.",
            ErrorCode.PAYLOAD_TOO_LARGE,
            413,
        )


def open_pdf(path: Path, limits: Limits, *, password: str = "", allow_encrypted: bool = False) -> pikepdf.Pdf:
    """Open with pikepdf: refuse non-PDFs, encrypted files (unless allowed), and too many pages."""
    check_pdf_header(path)
    try:
        pdf = pikepdf.open(path, password=password)
    except pikepdf.PasswordError:
        if allow_encrypted:
            raise bad_input("The password is wrong for this PDF.") from None
        raise bad_input(ENCRYPTED_MESSAGE) from None
    except (*DAMAGED, ValueError, OSError):
        raise bad_input(CORRUPT_MESSAGE) from None
    if pdf.is_encrypted and not allow_encrypted:
        pdf.close()
        raise bad_input(ENCRYPTED_MESSAGE)
    try:
        count = len(pdf.pages)
    except DAMAGED:
        pdf.close()
        raise bad_input(CORRUPT_MESSAGE) from None
    try:
        check_pages(count, limits)
    except ToolError:
        pdf.close()
        raise
    return pdf


@contextmanager
def opened(path: Path, limits: Limits, **kwargs) -> Iterator[pikepdf.Pdf]:
    pdf = open_pdf(path, limits, **kwargs)
    try:
        yield pdf
    except DAMAGED:
        raise bad_input(CORRUPT_MESSAGE) from None
    finally:
        pdf.close()


def check_input(path: Path, limits: Limits) -> int:
    """For tools that hand the file to another program: the same checks as open_pdf; returns the page count."""
    with opened(path, limits) as pdf:
        return len(pdf.pages)


def save(pdf: pikepdf.Pdf, out: Path, **kwargs) -> Path:
    try:
        pdf.save(out, **kwargs)
    except DAMAGED:
        raise ToolError("The PDF could not be written: it may be damaged (try repair-pdf first).") from None
    return out


def out_path(call: ToolCall, suffix: str = "", ext: str = "pdf", stem: str | None = None) -> Path:
    return call.workdir / f"{stem or call.stem()}{suffix}.{ext}"


# ---- qpdf page-range syntax -----------------------------------------------------------------
_TOKEN = re.compile(r"^(r?\d+|z)$")


def _page_number(token: str, count: int, text: str) -> int:
    token = token.strip().lower()
    if not _TOKEN.match(token):
        raise bad_input(f"Invalid page range '{text}': '{token}' is not a page number.")
    if token == "z":
        return count
    value = count - int(token[1:]) + 1 if token.startswith("r") else int(token)
    if value < 1 or value > count:
        raise bad_input(f"Invalid page range '{text}': page {token} is outside 1-{count}.")
    return value


def parse_group(group: str, count: int, text: str | None = None) -> list[int]:
    """One qpdf range item: 'N', 'z', 'rN', 'A-B' (either direction), with an optional ':odd'/':even'."""
    text = text if text is not None else group
    item = group.strip().lower()
    parity = None
    if ":" in item:
        item, parity = item.split(":", 1)
        if parity not in ("odd", "even"):
            raise bad_input(f"Invalid page range '{text}': unknown modifier ':{parity}'.")
    if not item:
        pages = list(range(1, count + 1))
    elif "-" in item:
        first, _, last = item.partition("-")
        a, b = _page_number(first, count, text), _page_number(last, count, text)
        pages = list(range(a, b + 1)) if a <= b else list(range(a, b - 1, -1))
    else:
        pages = [_page_number(item, count, text)]
    if parity == "odd":
        pages = pages[0::2]
    elif parity == "even":
        pages = pages[1::2]
    return pages


def parse_groups(text: str, count: int) -> list[list[int]]:
    """'1-3,5,8-z' -> [[1,2,3],[5],[8..count]] (1-based page numbers, in the order given)."""
    if text is None or not text.strip():
        raise bad_input("A page range is required (e.g. '1-3,5,8-z').")
    groups = [g for g in text.split(",")]
    if any(not g.strip() for g in groups):
        raise bad_input(f"Invalid page range '{text}': empty item.")
    return [parse_group(g, count, text) for g in groups]


def parse_pages(text: str, count: int) -> list[int]:
    """A qpdf page list flattened, in the order given (duplicates kept)."""
    return [p for group in parse_groups(text, count) for p in group]
