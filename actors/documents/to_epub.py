"""Word (.docx), Markdown, HTML or plain text to an EPUB e-book with pandoc (images only from the
input itself: nothing is fetched from the network or the server's disk)."""

from __future__ import annotations

from pydantic import Field

from actors.common import pdfs
from actors.documents import _office_input, _web
from protocols.errors import bad_input
from protocols.tools import Mode, Section, ToolCall, ToolResult, ToolSettings, tool

READERS = {"docx": "docx", "md": "markdown", "markdown": "markdown", "html": "html", "htm": "html", "txt": "html"}


class ToEpubSettings(ToolSettings):
    title: str | None = Field(None, max_length=300, description="Book title (default: the file name)")
    author: str | None = Field(None, max_length=300, description="Author shown by e-readers")


def source_kind(call: ToolCall) -> str:
    ext = (call.names[0].rsplit(".", 1)[-1].lower() if call.names and "." in call.names[0] else "")
    actual = _office_input.detect(call.inputs[0])
    if actual == "docx":
        return "docx"
    if actual != "text":
        raise bad_input("to-epub accepts .docx, .md, .html and .txt files.")
    if ext in ("md", "markdown", "html", "htm", "txt"):
        return ext
    head = _web.read_text(call.inputs[0])[:2000].lstrip().lower()
    return "html" if head.startswith(("<!doctype html", "<html")) else "txt"


@tool("to-epub", section=Section.PDF, settings=ToEpubSettings, mode=Mode.LONG,
      accepts={"office", "text"})
def run(call: ToolCall[ToEpubSettings]) -> ToolResult:
    """Make an EPUB e-book from a document."""
    s = call.settings
    kind = source_kind(call)
    title = s.title or call.stem()
    if kind == "docx":
        source = call.workdir / "_input.docx"
        source.write_bytes(call.inputs[0].read_bytes())
    else:
        text = _web.read_text(call.inputs[0])
        source = call.workdir / f"_input.{'md' if READERS[kind] == 'markdown' else 'html'}"
        source.write_text(_web.text_to_html(text, title) if kind == "txt" else text, encoding="utf-8")
    out = pdfs.out_path(call, ext="epub")
    extra = ["--metadata", f"title={title}"]
    if s.author:
        extra += ["--metadata", f"author={s.author}"]
    _web.pandoc_convert(source, READERS[kind], "epub3", out, extra=extra, what="Making the EPUB")
    source.unlink(missing_ok=True)
    return ToolResult([out], {"source": kind})
