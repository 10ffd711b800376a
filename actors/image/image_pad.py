"""Image pad: extend the canvas to an aspect ratio with a colour, transparency or a blurred fill."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from actors.common import imageio as v
from actors.image import _layout as lay
from protocols.tools import Section, ToolCall, ToolResult, ToolSettings, tool

RATIOS = {"16:9": (16, 9), "9:16": (9, 16), "1:1": (1, 1), "4:3": (4, 3), "3:4": (3, 4)}


class ImagePadSettings(ToolSettings):
    target: Literal["16:9", "9:16", "1:1", "4:3", "3:4", "custom"] = Field("1:1", description="Aspect ratio")
    ratio_w: float | None = Field(None, gt=0, le=100, description="Custom ratio width")
    ratio_h: float | None = Field(None, gt=0, le=100, description="Custom ratio height")
    background: Literal["color", "transparent", "blur"] = Field("color", description="How to fill the padding")
    color: str = Field("#ffffff", pattern=lay.HEX_PATTERN, description="Padding colour (color mode)")
    padding: float = Field(0, ge=0, le=50, description="Extra margin around the image, % of its larger side")
    blur: float = Field(30, ge=1, le=100, description="Blur strength (blur mode)")

    @model_validator(mode="after")
    def _custom_needs_ratio(self):
        if self.target == "custom" and (self.ratio_w is None or self.ratio_h is None):
            raise ValueError("custom target needs ratioW and ratioH")
        return self


def padded_size(w: int, h: int, rw: float, rh: float) -> tuple[int, int]:
    """The smallest canvas of ratio rw:rh that contains w×h."""
    if w / h > rw / rh:
        return w, max(h, round(w * rh / rw))
    return max(w, round(h * rw / rh)), h


@tool("image-pad", section=Section.IMAGE, settings=ImagePadSettings, accepts={"image", "svg"})
def run(call: ToolCall[ImagePadSettings]) -> ToolResult:
    """Pad an image to an aspect ratio."""
    s = call.settings
    image, src = lay.load_rgb(call.inputs[0], call.limits)
    rw, rh = RATIOS.get(s.target, (s.ratio_w, s.ratio_h))
    margin = round(max(image.width, image.height) * s.padding / 100)
    W, H = padded_size(image.width + 2 * margin, image.height + 2 * margin, rw, rh)
    v.check_pixels(W, H, call.limits, "The padded image")

    def build():
        if s.background == "blur":
            fill = lay.cover(image[:3], W, H).gaussblur(s.blur / 2, precision="approximate").cast("uchar")
            canvas = v.with_alpha(fill.copy(interpretation="srgb"))
        elif s.background == "transparent":
            canvas = lay.solid(W, H, [0, 0, 0, 0])
        else:
            canvas = lay.solid(W, H, lay.rgba(s.color))
        return lay.paste(canvas, image, (W - image.width) // 2, (H - image.height) // 2).copy_memory()

    result = v.run_vips("padded", build)
    transparent = s.background == "transparent" or (s.background == "color" and lay.rgba(s.color)[3] < 255) \
        or image.hasalpha()
    fmt = "png" if transparent and src in ("jpeg",) else v.output_format(src)
    if fmt == "jpeg":
        result = result[:3]
    out = v.save(result, call.workdir, f"{call.stem()}-padded", fmt)
    return ToolResult([out], {"width": W, "height": H, "ratio": f"{rw:g}:{rh:g}"})
