"""Background replace: the subject over a solid colour or a gradient."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from actors.vision import _img, segmentation
from protocols.tools import Mode, Runs, Section, ToolCall, ToolResult, ToolSettings, tool


class BackgroundReplaceSettings(ToolSettings):
    background_type: Literal["color", "gradient"] = Field("color", description="Solid colour or linear gradient")
    color: str = Field("#ffffff", pattern=_img.HEX, description="Background colour (hex)")
    gradient_color1: str = Field("#4f46e5", pattern=_img.HEX, description="Gradient start colour")
    gradient_color2: str = Field("#ec4899", pattern=_img.HEX, description="Gradient end colour")
    gradient_angle: float = Field(90, ge=0, le=360, description="Gradient direction in degrees")
    feather: float = Field(2, ge=0, le=20, description="Softness of the subject's edge in pixels")
    format: Literal["png", "webp"] = Field("png", description="Output format")


@tool("background-replace", section=Section.IMAGE, settings=BackgroundReplaceSettings,
      mode=Mode.LONG, accepts={"image", "svg"}, requires=(segmentation.BUNDLE,), runs=Runs.THREAD)
def run(call: ToolCall[BackgroundReplaceSettings]) -> ToolResult:
    """Replace the background with a colour or a gradient."""
    s = call.settings
    rgb = _img.load_rgb(call.inputs[0], call.limits)
    h, w = rgb.shape[:2]
    mask = segmentation.feather(segmentation.subject_mask(rgb), s.feather)
    if s.background_type == "color":
        bg = segmentation.solid(h, w, _img.hex_rgb(s.color))
    else:
        bg = segmentation.gradient(h, w, _img.hex_rgb(s.gradient_color1), _img.hex_rgb(s.gradient_color2),
                               s.gradient_angle)
    out = segmentation.composite(rgb, mask, bg)
    return ToolResult([_img.save(out, call, s.format, 95 if s.format == "webp" else None)],
                      {"subjectCoverage": round(float(mask.mean()), 4)})
