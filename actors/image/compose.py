"""Compose: layer a second image (the `overlay` part) on the first at x/y with opacity and a blend mode.

Blend modes are libvips' (the PDF/W3C compositing modes); `normal` is an alias of `over`.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from actors.common import imageio as v
from actors.image import _draw as d
from protocols.tools import Section, ToolCall, ToolResult, ToolSettings, tool

Blend = Literal["normal", "over", "multiply", "screen", "overlay", "darken", "lighten", "color-dodge",
                "color-burn", "hard-light", "soft-light", "difference", "exclusion", "add"]
VIPS_MODES = {"normal": "over", "color-dodge": "colour-dodge", "color-burn": "colour-burn"}


class ComposeSettings(ToolSettings):
    x: int = Field(0, ge=-65535, le=65535, description="Left of the overlay in px (may be negative)")
    y: int = Field(0, ge=-65535, le=65535, description="Top of the overlay in px (may be negative)")
    opacity: float = Field(100, ge=0, le=100, description="Overlay opacity in percent")
    blend: Blend = Field("over", description="Blend mode")


@tool("compose", section=Section.IMAGE, settings=ComposeSettings, accepts={"image", "svg"},
      inputs=(2, 2), roles=("overlay",))
def run(call: ToolCall[ComposeSettings]) -> ToolResult:
    """Layer a second image on top of the first."""
    s = call.settings
    base, fmt = d.load_streaming(call.inputs[0], call.limits)
    top, _ = v.load_upright(call.inputs[1], call.limits)
    mode = VIPS_MODES.get(s.blend, s.blend)
    out_image = v.run_vips("composed", lambda: d.composite(base, d.scale_alpha(top, s.opacity / 100), s.x, s.y, mode))
    out = d.save_streamed(out_image, call.workdir, call.stem(), fmt)
    return ToolResult([out], {"width": out_image.width, "height": out_image.height})
