"""Image to Base64: a data URI (or plain base64) of the image, in the body and as a .txt download."""

from __future__ import annotations

import base64
from typing import Literal

from pydantic import Field

from actors.image import _vips as v
from protocols.errors import bad_input
from protocols.tools import Section, ToolCall, ToolResult, ToolSettings, tool

MIME = {"jpeg": "image/jpeg", "png": "image/png", "webp": "image/webp", "gif": "image/gif", "avif": "image/avif",
        "tiff": "image/tiff", "heic": "image/heic", "heif": "image/heif", "svg": "image/svg+xml"}
BODY_LIMIT = 10 * 1024 * 1024  # the string itself goes in the JSON body up to this size


class ImageToBase64Settings(ToolSettings):
    format: Literal["data-uri", "plain"] = Field("data-uri", description="A data: URI or the bare base64 text")
    mime_type: Literal["auto", "image/jpeg", "image/png", "image/webp", "image/avif", "image/gif"] = Field(
        "auto", description="Re-encode to this type first ('auto' keeps the file as it is)")


@tool("image-to-base64", section=Section.IMAGE, settings=ImageToBase64Settings,
      accepts={"image", "svg"})
def run(call: ToolCall[ImageToBase64Settings]) -> ToolResult:
    """Encode an image as base64 or a data URI."""
    s = call.settings
    path = call.inputs[0]
    raw = path.read_bytes()
    if raw.lstrip()[:5].lower() in (b"<?xml", b"<svg ") or b"<svg" in raw[:1024].lower():
        if s.mime_type != "auto":
            raise bad_input("SVG input can only be encoded as it is (mimeType 'auto').")
        mime, data = "image/svg+xml", raw
    else:
        image, fmt = v.open_image(path, call.limits)
        if s.mime_type == "auto":
            mime, data = MIME.get(fmt, "application/octet-stream"), raw
        else:
            target = {v_: k for k, v_ in MIME.items()}[s.mime_type]
            upright, _ = v.load_upright(path, call.limits)
            mime, data = s.mime_type, v.encode(upright, target)
    text = base64.b64encode(data).decode("ascii")
    if s.format == "data-uri":
        text = f"data:{mime};base64,{text}"
    out = call.workdir / f"{call.stem()}-base64.txt"
    out.write_text(text)
    extra = {"mimeType": mime, "length": len(text), "bytes": len(data)}
    if len(text) <= BODY_LIMIT:
        extra["base64" if s.format == "plain" else "dataUri"] = text
    return ToolResult([out], extra)
