"""PNG transparency fixer: clean halos and fringes around cut-outs; an image without alpha gets one from
the subject mask first."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from actors._lazy import np
from actors.vision import _img, segmentation
from protocols.tools import Mode, Runs, Section, ToolCall, ToolResult, ToolSettings, tool


class TransparencyFixerSettings(ToolSettings):
    defringe: float = Field(50, ge=0, le=100, description="How strongly edge colours are cleaned (0-100)")
    output_format: Literal["png", "webp"] = Field("png", description="Output format")


@tool("transparency-fixer", section=Section.IMAGE, settings=TransparencyFixerSettings,
      mode=Mode.LONG, accepts={"image", "svg"}, runs=Runs.THREAD)
def run(call: ToolCall[TransparencyFixerSettings]) -> ToolResult:
    """Fix PNG transparency: remove fringes, or cut out an image that has none."""
    s = call.settings
    rgb, alpha, _fmt = _img.load(call.inputs[0], call.limits)
    created = alpha is None or int(alpha.min()) == 255
    # an image without alpha gets one from the subject mask (needs the background-removal bundle: 501 if missing)
    alpha_f = segmentation.subject_mask(rgb) if created else alpha.astype(np.float32) / 255.0
    fixed_rgb, fixed_alpha = segmentation.defringe(rgb, alpha_f, s.defringe)
    out = np.dstack([fixed_rgb, fixed_alpha * 255])
    return ToolResult([_img.save(out, call, s.output_format, 100 if s.output_format == "webp" else None)],
                      {"alphaCreated": created})
