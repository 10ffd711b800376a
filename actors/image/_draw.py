"""Drawing helpers shared by the overlay, adjustment and meme tools.

Pixels stay in pyvips; Pillow is used only to rasterise text and shapes (FreeType + raqm), and the
result goes back to pyvips for compositing and encoding.
"""

from __future__ import annotations

from typing import Literal

import pyvips
from PIL import Image, ImageDraw

from actors.common import imageio as v
from actors.image import _fonts
from protocols.errors import bad_input

HEX = r"^#?([0-9a-fA-F]{3,4}|[0-9a-fA-F]{6}|[0-9a-fA-F]{8})$"

Position = Literal[
    "top-left", "top-center", "top-right",
    "center-left", "center", "center-right",
    "bottom-left", "bottom-center", "bottom-right",
]
POSITIONS: tuple[str, ...] = Position.__args__  # type: ignore[attr-defined]


def rgba(color: str, alpha: float = 255) -> tuple[int, int, int, int]:
    """'#rgb', '#rrggbb' or '#rrggbbaa' -> (r, g, b, a); `alpha` scales the colour's own alpha."""
    parts = v.hex_color(color)
    a = parts[3] if len(parts) == 4 else 255
    return parts[0], parts[1], parts[2], round(a * alpha / 255)


def to_pil(image: pyvips.Image) -> Image.Image:
    image = srgb8(image)
    mode = {1: "L", 2: "LA", 3: "RGB", 4: "RGBA"}[image.bands]
    return Image.frombytes(mode, (image.width, image.height), image.write_to_memory())


def from_pil(pil: Image.Image) -> pyvips.Image:
    if pil.mode not in ("L", "LA", "RGB", "RGBA"):
        pil = pil.convert("RGBA")
    bands = len(pil.getbands())
    out = pyvips.Image.new_from_memory(pil.tobytes(), pil.width, pil.height, bands, "uchar")
    return out.copy(interpretation="b-w" if bands <= 2 else "srgb")


def srgb8(image: pyvips.Image) -> pyvips.Image:
    """8-bit sRGB (or grey) with at most one alpha band."""
    if image.interpretation not in ("srgb", "b-w") or image.format != "uchar":
        try:
            image = image.colourspace("srgb" if image.bands >= 3 or image.interpretation == "cmyk" else "b-w")
        except pyvips.Error:
            pass
        if image.format != "uchar":
            image = image.cast("uchar")
    if image.bands > 4:
        image = image.extract_band(0, n=4)
    return image


def rgb_with_alpha(image: pyvips.Image) -> pyvips.Image:
    """8-bit sRGB + alpha (4 bands), whatever came in."""
    image = srgb8(image)
    if image.bands < 3:
        image = image.colourspace("srgb")
    return image if image.bands == 4 else image.bandjoin(255)


def text_block(text: str, font, fill, *, stroke_width: int = 0, stroke_fill=None, align: str = "left",
               spacing: int | None = None) -> Image.Image:
    """Rasterise (multi-line) text into a tight RGBA image."""
    spacing = spacing if spacing is not None else max(2, font.size // 5)
    probe = ImageDraw.Draw(Image.new("RGBA", (1, 1)))
    box = probe.multiline_textbbox((0, 0), text, font=font, stroke_width=stroke_width, spacing=spacing, align=align)
    width, height = max(1, box[2] - box[0]), max(1, box[3] - box[1])
    canvas = Image.new("RGBA", (width, height), (0, 0, 0, 0))
    ImageDraw.Draw(canvas).multiline_text(
        (-box[0], -box[1]), text, font=font, fill=fill, stroke_width=stroke_width, stroke_fill=stroke_fill,
        spacing=spacing, align=align,
    )
    return canvas


def render_text(text: str, font_name: str, size: int, color: str, opacity: float = 1.0) -> Image.Image:
    font = _fonts.load(font_name, size)
    return text_block(text, font, rgba(color, 255 * opacity))


def place(base_w: int, base_h: int, w: int, h: int, position: str, margin: int) -> tuple[int, int]:
    """Top-left corner of a w×h box at a named position with a margin from the edges."""
    vertical, _, horizontal = position.partition("-") if position != "center" else ("center", "", "center")
    if position in ("center-left", "center-right"):
        vertical, horizontal = "center", position.split("-")[1]
    x = {"left": margin, "center": (base_w - w) // 2, "right": base_w - w - margin}[horizontal or "center"]
    y = {"top": margin, "center": (base_h - h) // 2, "bottom": base_h - h - margin}[vertical]
    return x, y


def scale_alpha(overlay: pyvips.Image, opacity: float) -> pyvips.Image:
    """Multiply an RGBA overlay's alpha by opacity (0..1)."""
    overlay = rgb_with_alpha(overlay)
    if opacity >= 1:
        return overlay
    alpha = (overlay.extract_band(3) * opacity).cast("uchar")
    return overlay.extract_band(0, n=3).bandjoin(alpha)


def composite(base: pyvips.Image, overlay: pyvips.Image, x: int, y: int, mode: str = "over") -> pyvips.Image:
    """Blend an RGBA overlay onto base at (x, y) (may hang off the edges); returns 8-bit sRGB(A).

    Only the covered rectangle is blended and inserted back, so the rest of the image streams through
    untouched; an opaque base stays opaque (over an opaque backdrop every blend mode gives alpha 1).
    """
    base = srgb8(base)
    if base.bands < 3:
        base = base.colourspace("srgb")
    overlay = rgb_with_alpha(overlay)
    left, top = max(0, x), max(0, y)
    right, bottom = min(base.width, x + overlay.width), min(base.height, y + overlay.height)
    if right <= left or bottom <= top:
        return base.copy(interpretation="srgb")
    overlay = overlay.crop(left - x, top - y, right - left, bottom - top)
    region = base.crop(left, top, right - left, bottom - top)
    had_alpha = base.hasalpha()
    if not had_alpha:
        region = region.bandjoin(255)
    blended = region.composite2(overlay, mode, compositing_space="srgb").cast("uchar")
    if not had_alpha:
        blended = blended.extract_band(0, n=3)
    return base.insert(blended.copy(interpretation="srgb"), left, top).copy(interpretation="srgb")


def rounded_box(width: int, height: int, radius: int, fill) -> Image.Image:
    box = Image.new("RGBA", (max(1, width), max(1, height)), (0, 0, 0, 0))
    ImageDraw.Draw(box).rounded_rectangle((0, 0, width - 1, height - 1), radius=max(0, radius), fill=fill)
    return box


def output_fmt_for_alpha(fmt: str, has_alpha: bool) -> str:
    """Keep the source format unless it cannot carry transparency we need: then PNG."""
    fmt = v.output_format(fmt)
    if has_alpha and fmt in ("jpeg",):
        return "png"
    return fmt


def require_text(text: str) -> str:
    if not text or not text.strip():
        raise bad_input("The text is empty.")
    return text


def split_alpha(image: pyvips.Image) -> tuple[pyvips.Image, pyvips.Image | None]:
    """8-bit sRGB colour bands (3) and the alpha band (or None)."""
    image = srgb8(image)
    if image.bands < 3:
        alpha = image[1] if image.bands == 2 else None
        return image[0].colourspace("srgb"), alpha
    return image.extract_band(0, n=3), (image[3] if image.bands == 4 else None)


def join_alpha(rgb: pyvips.Image, alpha: pyvips.Image | None) -> pyvips.Image:
    """Clip float results back to 8 bits and put the alpha band back."""
    rgb = rgb.cast("uchar").copy(interpretation="srgb")  # cast clips to 0..255
    return rgb if alpha is None else rgb.bandjoin(alpha.cast("uchar"))


def constant_like(image: pyvips.Image, values: list[float]) -> pyvips.Image:
    """An image of image's size filled with `values` (one per band)."""
    return image.new_from_image(values)


def smoothstep(t: pyvips.Image) -> pyvips.Image:
    t = t.clamp(min=0, max=1)
    return t * t * (3 - 2 * t)


def load_streaming(path, limits) -> tuple[pyvips.Image, str]:
    """Open for one top-to-bottom pass when no rotation is needed (no full decode into memory);
    rotated (EXIF 2..8) inputs are fully decoded upright; formats decoded in memory come back as they are."""
    header, fmt = v.open_image(path, limits)
    if fmt in v.IN_MEMORY:
        return v.run_vips("decoded", lambda: header.autorot().copy_memory()), fmt
    if v.orientation(header) not in (0, 1):
        return v.load_upright(path, limits)
    image, _ = v.open_image(path, limits, access="sequential")
    return image, fmt


def save_streamed(image: pyvips.Image, workdir, stem: str, fmt: str):
    """Save an image opened by load_streaming: decoding happens during the save, so a failure there is
    almost always a corrupt or truncated input (a 400), not an encoder fault."""
    from protocols.errors import ToolError

    try:
        return v.save(image, workdir, stem, output_fmt_for_alpha(fmt, image.hasalpha()))
    except ToolError:
        raise bad_input("The image could not be decoded: it may be corrupt or truncated.") from None
