"""The file library's internal jobs for pictures: a thumbnail (of an image or a PDF's first page), a
browser preview and the dimensions of a stored image. They run in the image actor's workers like any
tool (slots, deadline, stats) but are internal (`@tool(internal=True)`): no route, listing or form
offers them."""

from __future__ import annotations

import subprocess
from typing import Literal

from pydantic import Field

from actors import sandbox
from actors.image._any_image import dimensions, load_scaled, normalise
from protocols.errors import ErrorCode, ToolError
from protocols.tools import Section, ToolCall, ToolResult, ToolSettings, tool

THUMBNAIL_FAILED = "A thumbnail could not be made from this file."


class ThumbnailSettings(ToolSettings):
    kind: Literal["image", "pdf"] = "image"
    width: int = Field(300, ge=16, le=2048)


class PreviewSettings(ToolSettings):
    box: int = Field(1200, ge=16, le=4096)  # the preview fits inside box x box


class ProbeSettings(ToolSettings):
    pass


def _max_pixels(call: ToolCall) -> float:
    return call.limits.max_megapixels * 1e6


@tool("library-thumbnail", section=Section.IMAGE, settings=ThumbnailSettings, internal=True)
def thumbnail(call: ToolCall[ThumbnailSettings]) -> ToolResult:
    """A JPEG `width` px wide of an image (any format a decoder here reads) or of a PDF's first page."""
    width = call.settings.width
    out = call.workdir / "thumbnail.jpg"
    if call.settings.kind == "pdf":
        if not _pdf_first_page(call, width):
            raise ToolError(THUMBNAIL_FAILED)
        return ToolResult([out])
    image = load_scaled(str(call.inputs[0]), width, 1_000_000, "both", _max_pixels(call))
    if image is None:
        raise ToolError(THUMBNAIL_FAILED)
    image = normalise(image, flatten=True)
    if image.width != width:
        image = image.resize(width / image.width)
    image.jpegsave(str(out), Q=80, keep="none")
    return ToolResult([out])


def _pdf_first_page(call: ToolCall[ThumbnailSettings], width: int) -> bool:
    src, out = call.inputs[0], call.workdir / "thumbnail.jpg"
    try:
        import pypdfium2 as pdfium

        pdf = pdfium.PdfDocument(str(src))
        try:
            page = pdf[0]
            page_width, _height = page.get_size()
            pil = page.render(scale=width / max(1.0, page_width)).to_pil().convert("RGB")
        finally:
            pdf.close()
        if pil.size[0] != width:
            pil = pil.resize((width, max(1, round(pil.size[1] * width / pil.size[0]))))
        pil.save(out, "JPEG", quality=80)
        return True
    except Exception:  # pdfium raises its own and Pillow's types for a PDF it cannot render
        pass
    stem = call.workdir / "pdftoppm"
    try:  # poppler as a fallback
        done = sandbox.run(["pdftoppm", "-f", "1", "-l", "1", "-singlefile", "-jpeg", "-scale-to-x", str(width),
                            "-scale-to-y", "-1", str(src), str(stem)], timeout=60, readable=[src],
                           writable=[call.workdir])
    except subprocess.TimeoutExpired:
        return False
    rendered = stem.with_suffix(".jpg")
    if done.returncode != 0 or not rendered.is_file():
        return False
    rendered.replace(out)
    return True


@tool("library-preview", section=Section.IMAGE, settings=PreviewSettings, internal=True)
def preview(call: ToolCall[PreviewSettings]) -> ToolResult:
    """A browser-friendly WebP inside box x box of any image a decoder here reads (HEIC, TIFF, RAW, PSD...)."""
    box = call.settings.box
    image = load_scaled(str(call.inputs[0]), box, box, "down", _max_pixels(call))
    if image is None:
        raise ToolError("The file could not be decoded as an image.", ErrorCode.UNSUPPORTED_MEDIA_TYPE, 415)
    out = call.workdir / "preview.webp"
    normalise(image, flatten=False).webpsave(str(out), Q=82, keep="none")
    return ToolResult([out])


@tool("library-probe", section=Section.IMAGE, settings=ProbeSettings, internal=True)
def probe(call: ToolCall[ProbeSettings]) -> ToolResult:
    """Width and height of an image from its header (null when no decoder reads it); no output file."""
    width, height = dimensions(str(call.inputs[0]))
    return ToolResult([], {"width": width, "height": height})
