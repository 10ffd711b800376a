"""Image watermark: a second image (the `watermark` part) scaled, faded and placed on the first."""

from __future__ import annotations

from pydantic import Field

from actors.common import imageio as v
from actors.image import _draw as d
from protocols.tools import Section, ToolCall, ToolResult, ToolSettings, tool


class WatermarkImageSettings(ToolSettings):
    opacity: float = Field(50, ge=0, le=100, description="Opacity of the watermark in percent")
    position: d.Position = Field("bottom-right", description="Where the watermark goes")
    scale: float = Field(25, gt=0, le=100, description="Watermark width as a percentage of the image width")


@tool("watermark-image", section=Section.IMAGE, settings=WatermarkImageSettings,
      accepts={"image", "svg"}, inputs=(2, 2), roles=("watermark",))
def run(call: ToolCall[WatermarkImageSettings]) -> ToolResult:
    """Add an image watermark (the second file)."""
    s = call.settings
    image, fmt = d.load_streaming(call.inputs[0], call.limits)
    mark, _ = v.load_upright(call.inputs[1], call.limits)

    def build():
        width = max(1, round(image.width * s.scale / 100))
        scaled = d.rgb_with_alpha(mark).resize(width / mark.width)
        if scaled.height > image.height:  # a very tall mark: fit the height instead
            scaled = d.rgb_with_alpha(mark).resize(image.height / mark.height)
        layer = d.scale_alpha(scaled, s.opacity / 100)
        margin = max(4, round(min(image.width, image.height) * 0.02))
        x, y = d.place(image.width, image.height, layer.width, layer.height, s.position, margin)
        return d.composite(image, layer, x, y), (x, y, layer.width, layer.height)

    out_image, box = v.run_vips("watermarked", build)
    out = d.save_streamed(out_image, call.workdir, call.stem(), fmt)
    return ToolResult([out], {"width": out_image.width, "height": out_image.height,
                              "watermarkBox": {"left": box[0], "top": box[1], "width": box[2], "height": box[3]}})
