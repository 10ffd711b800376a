"""AI canvas expand: grow the canvas on any side and paint the new area (LaMa outpainting; the fast tier
uses OpenCV inpainting and needs no model)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from actors._lazy import cv2, np
from actors.vision import _img, _inpaint
from protocols.errors import ErrorCode, ToolError
from protocols.tools import Mode, Runs, Section, ToolCall, ToolResult, ToolSettings, tool


class CanvasExpandSettings(ToolSettings):
    extend_top: int = Field(0, ge=0, le=4096, description="Pixels to add above")
    extend_right: int = Field(0, ge=0, le=4096, description="Pixels to add on the right")
    extend_bottom: int = Field(0, ge=0, le=4096, description="Pixels to add below")
    extend_left: int = Field(0, ge=0, le=4096, description="Pixels to add on the left")
    tier: Literal["fast", "balanced", "high"] = Field("balanced", description="fast = OpenCV; balanced/high = LaMa "
                                                                             "(high works in smaller steps)")
    format: Literal["png", "jpeg", "webp"] | None = Field(None, description="Output format (default: as input)")
    quality: int = Field(92, ge=1, le=100, description="Quality for lossy formats")

    @model_validator(mode="after")
    def _some(self):
        if not (self.extend_top or self.extend_right or self.extend_bottom or self.extend_left):
            raise ValueError("extend at least one side")
        return self


@tool("ai-canvas-expand", section=Section.IMAGE, settings=CanvasExpandSettings,
      mode=Mode.LONG, accepts={"image", "svg"},
      requires=lambda s: () if s.tier == "fast" else (_inpaint.BUNDLE,), runs=Runs.THREAD)
def run(call: ToolCall[CanvasExpandSettings]) -> ToolResult:
    """Expand the canvas and fill the new borders with matching content."""
    s = call.settings
    rgb, _alpha, fmt = _img.load(call.inputs[0], call.limits)
    h, w = rgb.shape[:2]
    nh, nw = h + s.extend_top + s.extend_bottom, w + s.extend_left + s.extend_right
    if call.limits.max_megapixels and nw * nh / 1e6 > call.limits.max_megapixels:
        raise ToolError("The expanded canvas would exceed this server's megapixel limit.", ErrorCode.PAYLOAD_TOO_LARGE, 413)
    canvas = cv2.copyMakeBorder(rgb, s.extend_top, s.extend_bottom, s.extend_left, s.extend_right,
                                cv2.BORDER_REFLECT_101 if min(h, w) > 2 else cv2.BORDER_REPLICATE)
    hole = np.ones((nh, nw), bool)
    hole[s.extend_top: s.extend_top + h, s.extend_left: s.extend_left + w] = False
    if s.tier == "fast":
        out = _inpaint.telea(canvas, hole, 9)
    else:
        out = canvas
        # grow in bands: each LaMa pass sees real context next to the part it paints
        step = 128 if s.tier == "high" else 256
        remaining = hole.copy()
        dist = cv2.distanceTransform(hole.astype(np.uint8), cv2.DIST_L2, 3)  # distance from the original
        level = 0
        while remaining.any():
            level += step
            band = remaining & (dist <= level)
            out = _inpaint.lama(out, band, exact=True)
            remaining &= ~band
    return ToolResult([_img.save(out, call, _img.output_format(s.format, fmt), s.quality)],
                      {"width": nw, "height": nh})
