"""Image to Base64: a data URI (or plain base64) of each image, in the body and as a .txt download.

One file answers as it always did (`dataUri` or `base64`, `mimeType`, ...). Every answer also carries
`results: [{filename, mimeType, width, height, originalSize, encodedSize, base64, dataUri}]`, one entry
per file, the shape the peer's clients read when they send several files.
"""

from __future__ import annotations

import base64
from pathlib import Path
from typing import Literal

from pydantic import Field

from actors.common import imageio as v
from protocols.errors import bad_input
from protocols.tools import Section, ToolCall, ToolResult, ToolSettings, tool

MIME = {"jpeg": "image/jpeg", "png": "image/png", "webp": "image/webp", "gif": "image/gif", "avif": "image/avif",
        "tiff": "image/tiff", "heic": "image/heic", "heif": "image/heif", "svg": "image/svg+xml",
        "bmp": "image/bmp", "ico": "image/x-icon", "psd": "image/vnd.adobe.photoshop", "jxl": "image/jxl"}
BODY_LIMIT = 10 * 1024 * 1024  # the strings go in the JSON body while the texts of all files stay under this
MAX_FILES = 100


class ImageToBase64Settings(ToolSettings):
    format: Literal["data-uri", "plain"] = Field("data-uri", description="A data: URI or the bare base64 text")
    mime_type: Literal["auto", "image/jpeg", "image/png", "image/webp", "image/avif", "image/gif"] = Field(
        "auto", description="Re-encode to this type first ('auto' keeps the file as it is)")


def encode_one(path: Path, s: ImageToBase64Settings, limits) -> tuple[str, bytes, int, int]:
    """(mime type, bytes to encode, width, height) of one input."""
    image, fmt = v.open_image(path, limits)
    width, height = v.upright_size(image)
    if fmt == "svg":
        if s.mime_type != "auto":
            raise bad_input("SVG input can only be encoded as it is (mimeType 'auto').")
        return MIME["svg"], path.read_bytes(), width, height
    if s.mime_type == "auto":
        return MIME.get(fmt, "application/octet-stream"), path.read_bytes(), width, height
    target = {v_: k for k, v_ in MIME.items()}[s.mime_type]
    upright, _ = v.load_upright(path, limits)
    return s.mime_type, v.encode(upright, target), width, height


@tool("image-to-base64", section=Section.IMAGE, settings=ImageToBase64Settings,
      inputs=(1, MAX_FILES), accepts={"image", "svg"})
def run(call: ToolCall[ImageToBase64Settings]) -> ToolResult:
    """Encode one or more images as base64 or data URIs."""
    s = call.settings
    outputs: list[Path] = []
    results: list[dict] = []
    body_size = 0
    for index, path in enumerate(call.inputs):
        name = call.names[index] if index < len(call.names) else path.name
        try:
            mime, data, width, height = encode_one(path, s, call.limits)
        except Exception as err:
            if len(call.inputs) == 1:
                raise
            raise bad_input(f"'{name}': {getattr(err, 'message', None) or 'could not be read'}") from None
        plain = base64.b64encode(data).decode("ascii")
        uri = f"data:{mime};base64,{plain}"
        text = uri if s.format == "data-uri" else plain
        out = call.workdir / f"{call.stem(index)}-base64.txt"
        if out in outputs:
            out = call.workdir / f"{call.stem(index)}-{index + 1}-base64.txt"
        out.write_text(text)
        outputs.append(out)
        entry = {"filename": name, "mimeType": mime, "width": width, "height": height,
                 "originalSize": path.stat().st_size, "encodedSize": len(text), "bytes": len(data)}
        body_size += len(text)
        if body_size <= BODY_LIMIT:  # beyond it, the downloads carry the text
            entry |= {"base64": plain, "dataUri": uri}
        results.append(entry)
    extra: dict = {"results": results}
    if len(results) == 1:
        first = results[0]
        extra |= {"mimeType": first["mimeType"], "length": first["encodedSize"], "bytes": first["bytes"]}
        if "dataUri" in first:
            extra["base64" if s.format == "plain" else "dataUri"] = first["base64" if s.format == "plain" else "dataUri"]
    return ToolResult(outputs, extra)
