"""AI colorization of black-and-white photos (DDColor)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, field_validator

from actors.vision import _img, _restore
from protocols.tools import Mode, Runs, Section, ToolCall, ToolResult, ToolSettings, tool


class ColorizeSettings(ToolSettings):
    intensity: float = Field(100, ge=0, le=150, description="Colour strength in percent")
    model: Literal["auto", "ddcolor"] = Field("ddcolor", description="Colorization model (auto = ddcolor, "
                                                                     "the only one)")
    format: Literal["png", "jpeg", "webp"] | None = Field(None, description="Output format (default: as input)")
    quality: int = Field(92, ge=1, le=100, description="Quality for lossy formats")

    @field_validator("model")
    @classmethod
    def _auto_model(cls, value: str) -> str:
        return "ddcolor" if value == "auto" else value


@tool("colorize", section=Section.IMAGE, settings=ColorizeSettings, mode=Mode.LONG,
      accepts={"image", "svg"}, requires=(_restore.COLOR_BUNDLE,), runs=Runs.THREAD)
def run(call: ToolCall[ColorizeSettings]) -> ToolResult:
    """Colorize a black-and-white photo."""
    s = call.settings
    rgb, _alpha, fmt = _img.load(call.inputs[0], call.limits)
    out = _restore.colorize(rgb, s.intensity)
    return ToolResult([_img.save(out, call, _img.output_format(s.format, fmt), s.quality)], {"model": s.model})
