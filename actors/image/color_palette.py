"""Color palette: the k dominant colours (k-means on a downscaled copy), as hex or rgb."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from actors.common import imageio as v
from actors.image import _layout as lay
from protocols.tools import Section, ToolCall, ToolResult, ToolSettings, tool


class ColorPaletteSettings(ToolSettings):
    count: int = Field(5, ge=1, le=16, description="How many dominant colours to return")
    format: Literal["hex", "rgb"] = Field("hex", description="Colour notation in the result")


def dominant_colors(pixels, k: int, seed: int = 0):
    """k-means (k-means++ start) on Nx3 float pixels -> [(rgb array, share)] sorted by share."""
    import numpy as np

    rng = np.random.default_rng(seed)
    unique = np.unique(pixels.astype(np.uint8), axis=0)
    k = max(1, min(k, len(unique)))
    centers = [pixels[rng.integers(len(pixels))]]
    for _ in range(1, k):
        d = np.min(((pixels[:, None, :] - np.array(centers)[None]) ** 2).sum(-1), axis=1)
        if d.sum() == 0:
            break
        centers.append(pixels[rng.choice(len(pixels), p=d / d.sum())])
    centers = np.array(centers, dtype=np.float64)
    for _ in range(30):
        labels = np.argmin(((pixels[:, None, :] - centers[None]) ** 2).sum(-1), axis=1)
        moved = np.array([pixels[labels == i].mean(0) if np.any(labels == i) else centers[i]
                          for i in range(len(centers))])
        if np.allclose(moved, centers, atol=0.5):
            centers = moved
            break
        centers = moved
    labels = np.argmin(((pixels[:, None, :] - centers[None]) ** 2).sum(-1), axis=1)
    shares = np.bincount(labels, minlength=len(centers)) / len(pixels)
    order = np.argsort(-shares)
    return [(np.clip(np.rint(centers[i]), 0, 255).astype(int), float(shares[i])) for i in order if shares[i] > 0]


@tool("color-palette", section=Section.IMAGE, settings=ColorPaletteSettings, accepts={"image", "svg"})
def run(call: ToolCall[ColorPaletteSettings]) -> ToolResult:
    """Extract the dominant colours of an image and draw them as a swatch strip."""
    import numpy as np

    s = call.settings
    image, _ = lay.load_rgba(call.inputs[0], call.limits)
    small = v.run_vips("read", lambda: image.thumbnail_image(96, height=96))
    arr = lay.to_numpy(small).reshape(-1, 4).astype(np.float64)
    opaque = arr[arr[:, 3] >= 128][:, :3]
    if len(opaque) == 0:
        opaque = arr[:, :3]
    found = dominant_colors(opaque, s.count)
    colors = []
    for rgb, share in found:
        hexv = "#{:02x}{:02x}{:02x}".format(*rgb)
        colors.append({"hex": hexv, "rgb": [int(c) for c in rgb], "percentage": round(share * 100, 2)})
    palette = [c["hex"] if s.format == "hex" else f"rgb({c['rgb'][0]}, {c['rgb'][1]}, {c['rgb'][2]})" for c in colors]
    swatch = lay.solid(len(colors) * 100, 100, [0, 0, 0, 255])
    for i, c in enumerate(colors):
        swatch = swatch.insert(lay.solid(100, 100, c["rgb"] + [255]), i * 100, 0)
    out = v.save(swatch[:3], call.workdir, f"{call.stem()}-palette", "png")
    return ToolResult([out], {"colors": palette, "palette": colors, "count": len(colors)})
