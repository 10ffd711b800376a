"""Rotate & flip: any angle (right angles are lossless), background fill, horizontal/vertical flip."""

from __future__ import annotations

from pydantic import Field

from actors.common import imageio as v
from protocols.tools import Section, ToolCall, ToolResult, ToolSettings, tool

HEX = r"^#?([0-9a-fA-F]{3,4}|[0-9a-fA-F]{6}|[0-9a-fA-F]{8})$"


class RotateSettings(ToolSettings):
    angle: float = Field(0, ge=-360, le=360, description="Clockwise degrees")
    horizontal: bool = Field(False, description="Mirror left-right")
    vertical: bool = Field(False, description="Mirror top-bottom")
    background: str | None = Field(None, pattern=HEX, description="Fill for the corners of a free rotation")


@tool("rotate", section=Section.IMAGE, settings=RotateSettings, accepts={"image", "svg"})
def run(call: ToolCall[RotateSettings]) -> ToolResult:
    """Rotate and/or flip an image."""
    s = call.settings
    image, fmt = v.load_upright(call.inputs[0], call.limits)
    angle = s.angle % 360

    def transform():
        out = image
        if angle in (90, 180, 270):
            out = out.rot(f"d{int(angle)}")
        elif angle:
            out_fmt = v.output_format(fmt)
            if s.background is None and out_fmt in ("png", "webp", "avif", "tiff", "gif", "heic", "heif"):
                out = v.with_alpha(out)
            bg = v.background_for(out, s.background, out_fmt)
            out = out.rotate(angle, background=bg)
        if s.horizontal:
            out = out.fliphor()
        if s.vertical:
            out = out.flipver()
        return out

    result = v.run_vips("rotated", transform)
    v.check_pixels(result.width, result.height, call.limits, "The rotated image")
    out = v.save(result, call.workdir, call.stem(), fmt)
    return ToolResult([out], {"width": result.width, "height": result.height})
