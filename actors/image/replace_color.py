"""Replace color: every pixel within `tolerance` of the source colour (CIE ΔE*76 in Lab, so 0..100 reads
like a perceptual distance) becomes the target colour, or transparent."""

from __future__ import annotations

from pydantic import Field

from actors.common import imageio as v
from actors.image import _draw as d
from protocols.tools import Section, ToolCall, ToolResult, ToolSettings, tool


class ReplaceColorSettings(ToolSettings):
    source_color: str = Field("#ffffff", pattern=d.HEX, description="Colour to replace (hex)")
    target_color: str = Field("#000000", pattern=d.HEX, description="Replacement colour (hex)")
    make_transparent: bool = Field(False, description="Make matching pixels transparent instead")
    tolerance: float = Field(30, ge=0, le=100, description="Largest colour distance (ΔE*76) that still matches")


@tool("replace-color", section=Section.IMAGE, settings=ReplaceColorSettings, accepts={"image", "svg"})
def run(call: ToolCall[ReplaceColorSettings]) -> ToolResult:
    """Replace one colour with another, or with transparency."""
    s = call.settings
    image, fmt = v.load_upright(call.inputs[0], call.limits)
    rgb, alpha = d.split_alpha(image)

    def build():
        lab = rgb.colourspace("lab")
        source = d.constant_like(rgb, list(d.rgba(s.source_color)[:3])).copy(interpretation="srgb")
        distance = lab.dE76(source.colourspace("lab"))
        mask = distance <= (s.tolerance + 0.5)
        if s.make_transparent:
            base_alpha = alpha if alpha is not None else d.constant_like(rgb[0], [255]).cast("uchar")
            return rgb.bandjoin(mask.ifthenelse(0, base_alpha).cast("uchar")), mask
        target = d.constant_like(rgb, list(d.rgba(s.target_color)[:3]))
        return d.join_alpha(mask.ifthenelse(target, rgb), alpha), mask

    out_image, mask = v.run_vips("recoloured", build)
    matched = mask.avg() / 255
    out_fmt = d.output_fmt_for_alpha(fmt, s.make_transparent)
    out = v.save(out_image.copy(interpretation="srgb"), call.workdir, call.stem(), out_fmt)
    return ToolResult([out], {"pixelsReplaced": round(matched * image.width * image.height),
                              "percentReplaced": round(matched * 100, 2)})
