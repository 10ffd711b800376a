"""Object eraser: remove what the mask covers (the mask is the second file part, named 'mask')."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from actors._lazy import cv2, np
from actors.vision import _img, _inpaint
from protocols.errors import bad_input
from protocols.tools import Mode, Runs, Section, ToolCall, ToolResult, ToolSettings, tool


class EraseObjectSettings(ToolSettings):
    format: Literal["png", "jpeg", "webp"] | None = Field(None, description="Output format (default: as input)")
    quality: int = Field(92, ge=1, le=100, description="Quality for lossy formats")


def read_mask(path, shape, limits) -> np.ndarray:
    rgb, alpha, _fmt = _img.load(path, limits)
    if rgb.shape[:2] != shape:
        raise bad_input(f"The mask is {rgb.shape[1]}x{rgb.shape[0]} but the image is {shape[1]}x{shape[0]}; "
                        "they must be the same size.")
    if alpha is not None and alpha.min() < 255 and alpha.max() > 0 and rgb.max() - rgb.min() < 8:
        return alpha > 127  # a transparent mask: the painted (opaque) pixels
    return cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY) > 127  # white = erase


@tool("erase-object", section=Section.IMAGE, settings=EraseObjectSettings, mode=Mode.LONG,
      inputs=(2, 2), roles=("mask",), accepts={"image", "svg"}, requires=(_inpaint.BUNDLE,), runs=Runs.THREAD)
def run(call: ToolCall[EraseObjectSettings]) -> ToolResult:
    """Erase objects: fill the white area of the mask with plausible background (LaMa)."""
    s = call.settings
    rgb, alpha, fmt = _img.load(call.inputs[0], call.limits)
    mask = read_mask(call.inputs[1], rgb.shape[:2], call.limits)
    if not mask.any():
        raise bad_input("The mask is empty: paint the area to erase in white.")
    out = _inpaint.lama(rgb, mask)
    if alpha is not None:
        out = np.dstack([out, alpha])
    path = _img.save(out, call, _img.output_format(s.format, fmt, alpha=alpha is not None), s.quality)
    return ToolResult([path], {"erasedPixels": int(mask.sum())})
