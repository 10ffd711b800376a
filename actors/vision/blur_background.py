"""Blur background: keep the subject sharp, blur everything behind it (portrait mode)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from actors.vision import _img, segmentation
from protocols.tools import Mode, Runs, Section, ToolCall, ToolResult, ToolSettings, tool


class BlurBackgroundSettings(ToolSettings):
    intensity: float = Field(50, ge=1, le=100, description="Blur strength")
    feather: float = Field(4, ge=0, le=20, description="Softness of the subject's edge in pixels")
    format: Literal["png", "webp"] = Field("png", description="Output format")


@tool("blur-background", section=Section.IMAGE, settings=BlurBackgroundSettings,
      mode=Mode.LONG, accepts={"image", "svg"}, requires=(segmentation.BUNDLE,), runs=Runs.THREAD)
def run(call: ToolCall[BlurBackgroundSettings]) -> ToolResult:
    """Blur the background behind the subject."""
    s = call.settings
    rgb = _img.load_rgb(call.inputs[0], call.limits)
    mask = segmentation.feather(segmentation.subject_mask(rgb), s.feather)
    out = segmentation.composite(rgb, mask, segmentation.blurred_background(rgb, mask, s.intensity))
    return ToolResult([_img.save(out, call, s.format, 95 if s.format == "webp" else None)],
                      {"subjectCoverage": round(float(mask.mean()), 4)})
