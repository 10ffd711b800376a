"""Helpers shared by the utilities, layout and format tools (part 2): loading to sRGB(A), canvases,
gradients and rounded masks (drawn as SVG and rendered by libvips), shadows, output encoding.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pyvips

from actors.common import imageio as v
from protocols.errors import bad_input
from protocols.tools import Limits

HEX_PATTERN = r"^#?([0-9a-fA-F]{3,4}|[0-9a-fA-F]{6}|[0-9a-fA-F]{8})$"
_HEX = re.compile(HEX_PATTERN)


def rgba(color: str, alpha: int | None = None) -> list[int]:
    """'#rgb', '#rrggbb', '#rrggbbaa' (or 'transparent') -> [r, g, b, a]."""
    if color.strip().lower() == "transparent":
        return [0, 0, 0, 0]
    if not _HEX.match(color.strip()):
        raise bad_input(f"Not a colour: {color[:20]!r} (use #rrggbb).")
    values = v.hex_color(color)
    if len(values) == 3:
        values.append(255 if alpha is None else alpha)
    return values


def css(color: list[int]) -> str:
    r, g, b, a = (color + [255])[:4]
    return f"rgba({r},{g},{b},{a / 255:.4f})"


def srgb(image: pyvips.Image) -> pyvips.Image:
    """Any loaded image -> 8-bit sRGB with 3 or 4 bands."""
    if image.interpretation not in ("srgb", "b-w") or image.format != "uchar":
        image = image.colourspace("srgb")
    if image.format != "uchar":
        image = image.cast("uchar")
    if image.bands == 1:
        image = image.bandjoin([image, image])
    elif image.bands == 2:
        grey = image[0]
        image = grey.bandjoin([grey, grey, image[1]])
    elif image.bands > 4:
        image = image[:4]
    return image.copy(interpretation="srgb")


def load_rgb(path: Path, limits: Limits) -> tuple[pyvips.Image, str]:
    """Decoded, upright, 8-bit sRGB(A) image in memory, and its source format."""
    image, fmt = v.load_upright(path, limits)
    return v.run_vips("decoded", lambda: srgb(image).copy_memory()), fmt


def load_rgba(path: Path, limits: Limits) -> tuple[pyvips.Image, str]:
    image, fmt = load_rgb(path, limits)
    return v.with_alpha(image), fmt


def solid(width: int, height: int, color: list[int]) -> pyvips.Image:
    """A flat RGBA canvas."""
    base = pyvips.Image.black(max(1, width), max(1, height), bands=4) + list(color)
    return base.cast("uchar").copy(interpretation="srgb")


def render_svg(svg: str, width: int, height: int) -> pyvips.Image:
    """Render our own (trusted, generated) SVG to an RGBA image of exactly width×height."""
    image = pyvips.Image.svgload_buffer(svg.encode(), unlimited=False)
    if image.width != width or image.height != height:
        image = v.resize_exact(image, width, height)
    return srgb(image)


def svg_doc(width: int, height: int, body: str, defs: str = "") -> str:
    return (f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
            f'viewBox="0 0 {width} {height}"><defs>{defs}</defs>{body}</svg>')


def gradient_stops(stops: list[tuple[float, list[int]]]) -> str:
    return "".join(
        f'<stop offset="{off:.4f}" stop-color="rgb({c[0]},{c[1]},{c[2]})" stop-opacity="{(c[3] if len(c) > 3 else 255) / 255:.4f}"/>'
        for off, c in stops
    )


def linear_gradient(width: int, height: int, stops: list[tuple[float, list[int]]], angle: float = 135) -> pyvips.Image:
    """CSS-like linear gradient (0 deg = to top, 90 = to right)."""
    import math

    rad = math.radians(angle)
    dx, dy = math.sin(rad), -math.cos(rad)
    x1, y1 = 0.5 - dx / 2, 0.5 - dy / 2
    x2, y2 = 0.5 + dx / 2, 0.5 + dy / 2
    defs = (f'<linearGradient id="g" x1="{x1:.4f}" y1="{y1:.4f}" x2="{x2:.4f}" y2="{y2:.4f}">'
            f"{gradient_stops(stops)}</linearGradient>")
    return render_svg(svg_doc(width, height, f'<rect width="{width}" height="{height}" fill="url(#g)"/>', defs),
                      width, height)


def radial_gradient(width: int, height: int, stops: list[tuple[float, list[int]]]) -> pyvips.Image:
    defs = f'<radialGradient id="g" cx="0.5" cy="0.5" r="0.75">{gradient_stops(stops)}</radialGradient>'
    return render_svg(svg_doc(width, height, f'<rect width="{width}" height="{height}" fill="url(#g)"/>', defs),
                      width, height)


def rounded_mask(width: int, height: int, radius: float) -> pyvips.Image:
    """One-band uchar mask: 255 inside a rounded rectangle, 0 outside."""
    radius = max(0.0, min(radius, width / 2, height / 2))
    if radius <= 0:
        return (pyvips.Image.black(width, height) + 255).cast("uchar")
    body = f'<rect width="{width}" height="{height}" rx="{radius:.2f}" ry="{radius:.2f}" fill="#fff"/>'
    return render_svg(svg_doc(width, height, body), width, height)[3]


def ellipse_mask(width: int, height: int) -> pyvips.Image:
    body = f'<ellipse cx="{width / 2}" cy="{height / 2}" rx="{width / 2}" ry="{height / 2}" fill="#fff"/>'
    return render_svg(svg_doc(width, height, body), width, height)[3]


def apply_mask(image: pyvips.Image, mask: pyvips.Image) -> pyvips.Image:
    """Multiply the image's alpha by a one-band mask."""
    image = v.with_alpha(image)
    alpha = (image[3] * (mask / 255.0)).cast("uchar")
    return image[:3].bandjoin(alpha).copy(interpretation="srgb")


def round_corners(image: pyvips.Image, radius: float) -> pyvips.Image:
    if radius <= 0:
        return v.with_alpha(image)
    return apply_mask(image, rounded_mask(image.width, image.height, radius))


def shadow(alpha: pyvips.Image, blur: float, color: list[int], opacity: float, spread: int) -> pyvips.Image:
    """A soft RGBA shadow from a one-band alpha mask, padded by `spread` px on every side."""
    padded = alpha.embed(spread, spread, alpha.width + 2 * spread, alpha.height + 2 * spread, extend="black")
    if blur > 0:
        padded = padded.gaussblur(max(0.2, blur / 2), precision="approximate")
    shade = (padded * (opacity * color[3] / 255.0)).cast("uchar")
    rgb = solid(padded.width, padded.height, color[:3] + [255])[:3]
    return rgb.bandjoin(shade).copy(interpretation="srgb")


def paste(canvas: pyvips.Image, tile: pyvips.Image, x: int, y: int) -> pyvips.Image:
    """Alpha-composite `tile` onto an RGBA canvas at (x, y)."""
    tile = v.with_alpha(srgb(tile))
    out = canvas.composite2(tile, "over", x=int(x), y=int(y))
    return out.rint().cast("uchar").copy(interpretation="srgb")


def cover(image: pyvips.Image, width: int, height: int) -> pyvips.Image:
    """Scale and centre-crop to exactly width×height."""
    width, height = max(1, int(width)), max(1, int(height))
    scale = max(width / image.width, height / image.height)
    scaled = image.resize(scale, kernel="lanczos3") if abs(scale - 1) > 1e-9 else image
    left = max(0, (scaled.width - width) // 2)
    top = max(0, (scaled.height - height) // 2)
    scaled = scaled.crop(left, top, min(width, scaled.width), min(height, scaled.height))
    if scaled.width != width or scaled.height != height:
        scaled = v.resize_exact(scaled, width, height)
    return scaled


def contain(image: pyvips.Image, width: int, height: int) -> pyvips.Image:
    """Scale to fit inside width×height, keeping the aspect ratio."""
    scale = min(width / image.width, height / image.height)
    return image.resize(scale, kernel="lanczos3") if abs(scale - 1) > 1e-9 else image


def save_as(image: pyvips.Image, call_workdir: Path, stem: str, fmt: str, quality: int | None = None) -> Path:
    """Encode with the shared encoder; fmt accepts 'jpg' as an alias. The layout tools' quality is for lossy
    formats: a PNG stays lossless (the shared encoder would read a quality as "quantise to a palette",
    which took seconds on a 1200×1200 collage and changed its colours)."""
    fmt = {"jpg": "jpeg"}.get(fmt, fmt)
    return v.save(image, call_workdir, stem, fmt, quality if fmt in LOSSY else None)


LOSSY = frozenset({"jpeg", "webp", "avif", "heic", "heif"})


def write_json(path: Path, data: Any) -> Path:
    path.write_text(json.dumps(data, indent=2, ensure_ascii=False, default=str))
    return path


def to_pil(image: pyvips.Image):
    """pyvips sRGB(A) -> Pillow image."""
    from PIL import Image

    image = srgb(image)
    mode = "RGBA" if image.bands == 4 else "RGB"
    return Image.frombytes(mode, (image.width, image.height), image.write_to_memory())


def from_pil(pil) -> pyvips.Image:
    if pil.mode not in ("RGB", "RGBA"):
        pil = pil.convert("RGBA" if "A" in pil.getbands() or pil.mode == "P" else "RGB")
    bands = 4 if pil.mode == "RGBA" else 3
    image = pyvips.Image.new_from_memory(pil.tobytes(), pil.width, pil.height, bands, "uchar")
    return image.copy(interpretation="srgb")


def to_numpy(image: pyvips.Image):
    import numpy as np

    return np.ndarray(buffer=image.write_to_memory(), dtype=np.uint8, shape=[image.height, image.width, image.bands])


def from_numpy(array) -> pyvips.Image:
    import numpy as np

    array = np.ascontiguousarray(array, dtype=np.uint8)
    if array.ndim == 2:
        array = array[:, :, None]
    height, width, bands = array.shape
    image = pyvips.Image.new_from_memory(array.tobytes(), width, height, bands, "uchar")
    return image.copy(interpretation="srgb" if bands >= 3 else "b-w")
