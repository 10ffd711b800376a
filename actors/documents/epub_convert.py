"""EPUB to PDF, Word, HTML or Markdown with pandoc (images only from the
book itself, nothing fetched). The PDF is rendered from pandoc's
self-contained HTML by WeasyPrint, offline."""

from __future__ import annotations

import zipfile
import zlib
from typing import Literal

from pydantic import Field

from actors.common import pdfs
from actors.documents import _web
from protocols.errors import bad_input
from protocols.tools import Mode, Section, ToolCall, ToolResult, ToolSettings, tool


class EpubConvertSettings(ToolSettings):
    format: Literal["pdf", "docx", "html", "md"] = Field("pdf", description="Output format")


def check_epub(path) -> None:
    try:
        with zipfile.ZipFile(path) as zf:
            names = set(zf.namelist())
            mime = zf.read("mimetype").decode("ascii", "replace").strip() if "mimetype" in names else ""
            if mime != "application/epub+zip" or "META-INF/container.xml" not in names:
                raise bad_input("The file is not a valid EPUB.")
            if sum(i.file_size for i in zf.infolist()) > 1024 * 1024 * 1024:
                raise bad_input("The EPUB unpacks to more than 1 GB.")
    except (zipfile.BadZipFile, zlib.error, EOFError, OSError, KeyError, NotImplementedError):
        raise bad_input("The file is not a valid EPUB.") from None


@tool("epub-convert", section=Section.PDF, settings=EpubConvertSettings, mode=Mode.LONG,
      accepts={"epub"})
def run(call: ToolCall[EpubConvertSettings]) -> ToolResult:
    """Convert an EPUB e-book to PDF, Word, HTML or Markdown."""
    fmt: str = call.settings.format
    check_epub(call.inputs[0])
    source = call.workdir / "_input.epub"
    source.write_bytes(call.inputs[0].read_bytes())
    out = pdfs.out_path(call, ext=fmt)
    what = "Converting the EPUB"
    if fmt == "docx":
        _web.pandoc_convert(source, "epub", "docx", out, what=what)
    elif fmt == "md":
        _web.pandoc_convert(source, "epub", "gfm", out, extra=["--wrap=none"], what=what)
    else:
        html_out = out if fmt == "html" else call.workdir / "_book.html"
        _web.pandoc_convert(source, "epub", "html5", html_out, what=what,
                            extra=["-s", "--self-contained", "--metadata", f"pagetitle={call.stem()}"])
        if fmt == "pdf":
            markup = html_out.read_text("utf-8", errors="replace")
            _web.render_pdf(markup, out, stylesheet=True)
            html_out.unlink(missing_ok=True)
            pdfs.check_input(out, call.limits)
    source.unlink(missing_ok=True)
    return ToolResult([out], {"format": fmt})
