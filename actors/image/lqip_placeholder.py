"""LQIP placeholder: a tiny blurred / pixelated / flat-colour version of an image, plus its data URI."""

from __future__ import annotations

import base64
from typing import Literal

from pydantic import Field

from actors.common import imageio as v
from actors.image import _layout as lay
from protocols.tools import Section, ToolCall, ToolResult, ToolSettings, tool

MIME = {"webp": "image/webp", "png": "image/png", "jpeg": "image/jpeg"}


class LqipSettings(ToolSettings):
    width: int = Field(16, ge=4, le=64, description="Placeholder width in px (height keeps the aspect)")
    blur: float = Field(1.0, ge=0, le=10, description="Gaussian blur sigma applied to the tiny image (blur strategy)")
    strategy: Literal["blur", "pixelate", "solid"] = Field("blur", description="How to reduce the image")
    format: Literal["webp", "png", "jpeg", "jpg"] = Field("webp", description="Output format")
    quality: int = Field(50, ge=1, le=100, description="Quality for webp/jpeg")


@tool("lqip-placeholder", section=Section.IMAGE, settings=LqipSettings, accepts={"image", "svg"})
def run(call: ToolCall[LqipSettings]) -> ToolResult:
    """Make a low-quality image placeholder (a few hundred bytes) and its data URI."""
    s = call.settings
    fmt = "jpeg" if s.format == "jpg" else s.format
    header, src = v.open_image(call.inputs[0], call.limits)
    up_w, up_h = v.upright_size(header)
    height = max(1, round(s.width * up_h / up_w))
    image = lay.srgb(v.load_shrunk(call.inputs[0], header, src, s.width, height))

    def reduce():
        small = v.resize_exact(image.thumbnail_image(s.width, height=height, size="force"), s.width, height)
        small = small.copy_memory()
        if s.strategy == "blur" and s.blur > 0:
            margin = max(1, int(s.blur * 3))
            small = small.embed(margin, margin, s.width + 2 * margin, height + 2 * margin, extend="mirror")
            small = small.gaussblur(s.blur).crop(margin, margin, s.width, height)
        elif s.strategy == "solid":
            mean = [round(small[i].avg()) for i in range(small.bands)]
            small = lay.solid(s.width, height, (mean + [255])[:4])[: small.bands]
        return small.cast("uchar").copy(interpretation="srgb")

    small = v.run_vips("reduced", reduce)
    data = v.encode(small, fmt, s.quality)
    out = call.workdir / f"{call.stem()}-lqip.{v.EXTENSIONS[fmt]}"
    out.write_bytes(data)
    uri = f"data:{MIME[fmt]};base64,{base64.b64encode(data).decode('ascii')}"
    return ToolResult([out], {"dataUri": uri, "width": s.width, "height": height,
                              "originalWidth": up_w, "originalHeight": up_h, "bytes": len(data)})
