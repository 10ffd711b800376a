"""Histogram: an RGB (+ luminance) histogram chart, and per-channel statistics in the body."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from actors.common import imageio as v
from actors.image import _layout as lay
from protocols.tools import Section, ToolCall, ToolResult, ToolSettings, tool

CHART_W, CHART_H, MARGIN = 768, 300, 24


class HistogramSettings(ToolSettings):
    scale: Literal["linear", "log"] = Field("linear", description="Vertical scale of the chart")
    width: int = Field(CHART_W, ge=256, le=2048, description="Chart width in px")
    height: int = Field(CHART_H, ge=128, le=1024, description="Chart height in px")


def channel_stats(values, counts) -> dict:
    import numpy as np

    total = int(counts.sum())
    if total == 0:
        return {"mean": 0, "median": 0, "stdDev": 0, "min": 0, "max": 0}
    mean = float((values * counts).sum() / total)
    std = float(np.sqrt(((values - mean) ** 2 * counts).sum() / total))
    cumulative = np.cumsum(counts)
    median = int(np.searchsorted(cumulative, total / 2))
    nonzero = np.nonzero(counts)[0]
    return {"mean": round(mean, 3), "median": median, "stdDev": round(std, 3),
            "min": int(nonzero[0]), "max": int(nonzero[-1])}


@tool("histogram", section=Section.IMAGE, settings=HistogramSettings, accepts={"image", "svg"})
def run(call: ToolCall[HistogramSettings]) -> ToolResult:
    """Draw the RGB histogram of an image and return per-channel statistics."""
    import numpy as np
    from PIL import Image, ImageDraw

    s = call.settings
    image, _ = lay.load_rgb(call.inputs[0], call.limits)
    rgb = image[:3]
    luma = v.run_vips("read", lambda: rgb.colourspace("b-w")[0])
    hists: dict[str, np.ndarray] = {}
    for name, band in (("red", rgb[0]), ("green", rgb[1]), ("blue", rgb[2]), ("luminance", luma)):
        hist = band.hist_find()
        hists[name] = np.frombuffer(hist.write_to_memory(), dtype=np.uint32).astype(np.float64)[:256]
    values = np.arange(256, dtype=np.float64)
    stats = {name: channel_stats(values, counts) for name, counts in hists.items()}

    w, h = s.width, s.height
    chart = Image.new("RGBA", (w, h), (24, 24, 28, 255))
    plot_w, plot_h = w - 2 * MARGIN, h - 2 * MARGIN
    scaled = {k: (np.log1p(c) if s.scale == "log" else c) for k, c in hists.items()}
    top = max(float(c.max()) for k, c in scaled.items() if k != "luminance") or 1.0
    colours = {"red": (255, 60, 60, 110), "green": (60, 220, 60, 110), "blue": (70, 110, 255, 110)}
    for name, colour in colours.items():
        layer = Image.new("RGBA", (w, h), (0, 0, 0, 0))
        draw = ImageDraw.Draw(layer)
        points = [(MARGIN, MARGIN + plot_h)]
        for i in range(256):
            x = MARGIN + i * plot_w / 255
            points.append((x, MARGIN + plot_h - scaled[name][i] / top * plot_h))
        points.append((MARGIN + plot_w, MARGIN + plot_h))
        draw.polygon(points, fill=colour)
        chart = Image.alpha_composite(chart, layer)
    draw = ImageDraw.Draw(chart)
    draw.rectangle([MARGIN, MARGIN, MARGIN + plot_w, MARGIN + plot_h], outline=(200, 200, 200, 255))
    luma_pts = [(MARGIN + i * plot_w / 255, MARGIN + plot_h - min(1.0, scaled["luminance"][i] / top) * plot_h)
                for i in range(256)]
    draw.line(luma_pts, fill=(240, 240, 240, 255), width=1)
    out = v.save(lay.from_pil(chart.convert("RGB")), call.workdir, f"{call.stem()}-histogram", "png")
    histogram = {k: [int(x) for x in c] for k, c in hists.items()}
    return ToolResult([out], {"stats": stats, "histogram": histogram, "scale": s.scale,
                              "pixels": int(hists["red"].sum())})
