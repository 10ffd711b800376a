"""Image to SVG (vtracer): black-and-white (with a threshold) or colour tracing, polygon or spline paths."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from actors.common import imageio as v
from actors.image import _layout as lay
from protocols.errors import ToolError
from protocols.tools import Section, ToolCall, ToolResult, ToolSettings, tool


class VectorizeSettings(ToolSettings):
    color_mode: Literal["bw", "color"] = Field("color", description="Black-and-white or colour tracing")
    threshold: int = Field(128, ge=0, le=255, description="Luminance cut between black and white (bw)")
    invert: bool = Field(False, description="Trace the light parts instead of the dark ones (bw)")
    color_precision: int = Field(6, ge=1, le=8, description="Significant bits per colour channel (color)")
    layer_difference: int = Field(16, ge=0, le=255, description="Colour difference between layers (color)")
    filter_speckle: int = Field(4, ge=0, le=128, description="Discard patches smaller than this many px")
    path_mode: Literal["none", "polygon", "spline"] = Field("spline", description="Path fitting")
    corner_threshold: int = Field(60, ge=0, le=180, description="Minimum angle (degrees) that counts as a corner")
    length_threshold: float = Field(4.0, ge=3.5, le=10, description="Minimum segment length")
    splice_threshold: int = Field(45, ge=0, le=180, description="Minimum angle to splice splines")
    hierarchical: Literal["stacked", "cutout"] = Field("stacked", description="Shape layering (color)")
    max_size: int = Field(2048, ge=64, le=4096, description="Downscale larger images to this size first")


@tool("vectorize", section=Section.IMAGE, settings=VectorizeSettings, accepts={"image", "svg"})
def run(call: ToolCall[VectorizeSettings]) -> ToolResult:
    """Trace a raster image into an SVG."""
    import vtracer

    s = call.settings
    image, _ = lay.load_rgba(call.inputs[0], call.limits)
    if max(image.width, image.height) > s.max_size:
        image = v.run_vips("scaled", image.thumbnail_image, s.max_size, height=s.max_size)

    def prepare():
        if s.color_mode == "bw":
            flat = image.flatten(background=[255, 255, 255]) if image.hasalpha() else image
            grey = flat.colourspace("b-w")[0]
            mask = (grey < s.threshold) if not s.invert else (grey >= s.threshold)
            ink = (mask.ifthenelse(0, 255)).cast("uchar")
            return ink.bandjoin([ink, ink, 255 + ink * 0]).cast("uchar").copy(interpretation="srgb")
        return image

    prepared = v.run_vips("prepared", lambda: prepare().copy_memory())
    png = prepared.pngsave_buffer(compression=1)
    try:
        svg = vtracer.convert_raw_image_to_svg(
            png, img_format="png", colormode="binary" if s.color_mode == "bw" else "color",
            hierarchical=s.hierarchical, mode=s.path_mode, filter_speckle=s.filter_speckle,
            color_precision=s.color_precision, layer_difference=s.layer_difference,
            corner_threshold=s.corner_threshold, length_threshold=s.length_threshold, max_iterations=10,
            splice_threshold=s.splice_threshold, path_precision=3)
    except Exception:
        raise ToolError("The image could not be traced.") from None
    out = call.workdir / f"{call.stem()}.svg"
    out.write_text(svg)
    return ToolResult([out], {"width": prepared.width, "height": prepared.height, "paths": svg.count("<path")})
