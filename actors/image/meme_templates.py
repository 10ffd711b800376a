"""Meme templates and meme text: our own template images, drawn by code, plus the text layout engine.

The templates are listed with their text boxes in `memes/templates.json`; their pictures are drawn here
with Pillow (no third-party artwork ships with the project). `ensure_assets()` draws the full-size
images and thumbnails once into a cache folder keyed by the manifest and this module's version, so
every worker and the HTTP side find the same files. Run `python -m actors.image.meme_templates OUTDIR` to draw
them into a folder of your choice.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import sys
import tempfile
from functools import lru_cache
from pathlib import Path
from typing import Any

from PIL import Image, ImageDraw, ImageFilter

from actors.image import _fonts

DRAW_VERSION = "1"
MANIFEST = Path(__file__).resolve().parent / "memes" / "templates.json"
THUMB_WIDTH = 240


@lru_cache(maxsize=1)
def manifest() -> dict[str, Any]:
    return json.loads(MANIFEST.read_text())


def templates() -> dict[str, dict[str, Any]]:
    return {t["id"]: t for t in manifest()["templates"]}


def full_name(template_id: str) -> str:
    return f"{template_id}.jpg"


def thumb_name(template_id: str) -> str:
    return f"{template_id}.jpg"


# ---- drawing --------------------------------------------------------------------------------------

def _vertical_gradient(size: tuple[int, int], top: tuple[int, int, int], bottom: tuple[int, int, int]) -> Image.Image:
    w, h = size
    column = Image.new("RGB", (1, h))
    for y in range(h):
        t = y / max(1, h - 1)
        column.putpixel((0, y), tuple(round(a + (b - a) * t) for a, b in zip(top, bottom, strict=True)))
    return column.resize((w, h))


def _stick_figure(draw: ImageDraw.ImageDraw, x: int, y: int, scale: float, color=(40, 40, 40), arms_up=False):
    """A simple person: head centre at (x, y)."""
    r = round(30 * scale)
    lw = max(3, round(7 * scale))
    draw.ellipse((x - r, y - r, x + r, y + r), fill=(250, 220, 180), outline=color, width=lw)
    body_end = y + round(130 * scale)
    draw.line((x, y + r, x, body_end), fill=color, width=lw)
    arm_y = y + round(60 * scale)
    reach = round(60 * scale)
    if arms_up:
        draw.line((x, arm_y, x - reach, arm_y - reach), fill=color, width=lw)
        draw.line((x, arm_y, x + reach, arm_y - reach), fill=color, width=lw)
    else:
        draw.line((x, arm_y, x - reach, arm_y + reach // 2), fill=color, width=lw)
        draw.line((x, arm_y, x + reach, arm_y + reach // 2), fill=color, width=lw)
    draw.line((x, body_end, x - reach // 2, body_end + reach), fill=color, width=lw)
    draw.line((x, body_end, x + reach // 2, body_end + reach), fill=color, width=lw)


def _draw_classic(w: int, h: int) -> Image.Image:
    im = _vertical_gradient((w, h), (70, 130, 200), (190, 225, 250))
    d = ImageDraw.Draw(im)
    d.ellipse((w - 190, 60, w - 90, 160), fill=(255, 214, 80))
    d.polygon([(0, h), (0, h - 220), (180, h - 320), (380, h - 180), (560, h - 300), (w, h - 160), (w, h)],
              fill=(60, 140, 80))
    d.polygon([(0, h), (0, h - 120), (260, h - 190), (520, h - 110), (w, h - 150), (w, h)], fill=(40, 110, 60))
    _stick_figure(d, w // 2, h - 330, 1.1, arms_up=True)
    return im


def _draw_approve(w: int, h: int) -> Image.Image:
    im = Image.new("RGB", (w, h), (255, 255, 255))
    d = ImageDraw.Draw(im)
    half = h // 2
    d.rectangle((0, 0, w // 2, half), fill=(250, 200, 120))
    d.rectangle((0, half, w // 2, h), fill=(250, 200, 120))
    d.line((0, half, w, half), fill=(30, 30, 30), width=4)
    d.line((w // 2, 0, w // 2, h), fill=(30, 30, 30), width=4)
    cx, cy = w // 4, half // 2
    d.ellipse((cx - 120, cy - 120, cx + 120, cy + 120), fill=(220, 50, 50))
    d.line((cx - 60, cy - 60, cx + 60, cy + 60), fill=(255, 255, 255), width=28)
    d.line((cx - 60, cy + 60, cx + 60, cy - 60), fill=(255, 255, 255), width=28)
    cy += half
    d.ellipse((cx - 120, cy - 120, cx + 120, cy + 120), fill=(60, 170, 80))
    d.line((cx - 65, cy + 5, cx - 15, cy + 55, cx + 70, cy - 50), fill=(255, 255, 255), width=28, joint="curve")
    return im


def _draw_two_buttons(w: int, h: int) -> Image.Image:
    im = Image.new("RGB", (w, h), (235, 235, 240))
    d = ImageDraw.Draw(im)
    d.rounded_rectangle((30, 60, w - 30, 420), radius=30, fill=(200, 200, 210), outline=(90, 90, 100), width=6)
    for left in (60, 380):
        d.rounded_rectangle((left, 130, left + 260, 290), radius=40, fill=(140, 20, 20))
        d.rounded_rectangle((left, 120, left + 260, 280), radius=40, fill=(225, 45, 45), outline=(120, 10, 10), width=5)
    d.rectangle((0, 460, w, h), fill=(210, 225, 240))
    _stick_figure(d, w // 2, 520, 1.3)
    for dx in (-18, 22):  # sweat drops
        d.ellipse((w // 2 + dx * 3, 470, w // 2 + dx * 3 + 14, 494), fill=(80, 160, 230))
    return im


def _draw_brain(w: int, h: int) -> Image.Image:
    im = Image.new("RGB", (w, h), (255, 255, 255))
    d = ImageDraw.Draw(im)
    rows = 4
    row_h = h // rows
    for i in range(rows):
        top = i * row_h
        d.rectangle((w // 2, top, w, top + row_h), fill=(10 + i * 10, 10 + i * 20, 40 + i * 40))
        glow = Image.new("RGBA", (w // 2, row_h), (0, 0, 0, 0))
        g = ImageDraw.Draw(glow)
        cx, cy = w // 4, row_h // 2
        radius = 40 + i * 22
        for k in range(6 + i * 3, 0, -1):
            rr = radius + k * (4 + i * 3)
            alpha = max(10, 60 - k * 5) if i else 30
            g.ellipse((cx - rr, cy - rr, cx + rr, cy + rr), fill=(255, 230 - i * 20, 120 + i * 30, alpha))
        g.ellipse((cx - radius, cy - radius, cx + radius, cy + radius),
                  fill=(240, 150 + i * 25, 170 + i * 20, 255))
        glow = glow.filter(ImageFilter.GaussianBlur(2 + i * 2))
        im.paste(glow, (w // 2, top), glow)
        d.line((0, top, w, top), fill=(30, 30, 30), width=4)
    d.line((w // 2, 0, w // 2, h), fill=(30, 30, 30), width=4)
    return im


def _draw_change_my_mind(w: int, h: int) -> Image.Image:
    im = _vertical_gradient((w, h), (120, 170, 110), (80, 130, 80))
    d = ImageDraw.Draw(im)
    d.rectangle((0, 0, w, 200), fill=(150, 200, 235))
    _stick_figure(d, 220, 250, 1.2)
    d.rectangle((300, 420, 860, 450), fill=(120, 80, 40))
    d.rectangle((330, 450, 350, 600), fill=(100, 65, 30))
    d.rectangle((810, 450, 830, 600), fill=(100, 65, 30))
    d.polygon([(380, 420), (400, 240), (800, 240), (820, 420)], fill=(245, 245, 245), outline=(80, 80, 80))
    d.ellipse((560, 395, 640, 420), fill=(140, 90, 50))  # mug
    return im


def _draw_this_vs_that(w: int, h: int) -> Image.Image:
    im = Image.new("RGB", (w, h), (245, 245, 245))
    d = ImageDraw.Draw(im)
    d.rectangle((0, 0, w, 110), fill=(40, 40, 60))
    d.rectangle((0, 110, w // 2, h), fill=(225, 90, 80))
    d.rectangle((w // 2, 110, w, h), fill=(80, 150, 225))
    d.line((w // 2, 110, w // 2, h), fill=(255, 255, 255), width=8)
    _stick_figure(d, w // 4, 170, 1.0)
    _stick_figure(d, 3 * w // 4, 170, 1.0, arms_up=True)
    vs = _fonts.load("anton", 90)
    d.ellipse((w // 2 - 70, 210, w // 2 + 70, 350), fill=(255, 255, 255))
    d.text((w // 2, 280), "VS", font=vs, fill=(30, 30, 30), anchor="mm")
    return im


DRAWERS = {
    "classic": _draw_classic,
    "approve-disapprove": _draw_approve,
    "two-buttons": _draw_two_buttons,
    "expanding-brain": _draw_brain,
    "change-my-mind": _draw_change_my_mind,
    "this-vs-that": _draw_this_vs_that,
}


def draw_template(template_id: str) -> Image.Image:
    spec = templates()[template_id]
    return DRAWERS[template_id](spec["width"], spec["height"])


def generate(folder: Path) -> None:
    """Draw every template into folder/full and folder/thumbs."""
    (folder / "full").mkdir(parents=True, exist_ok=True)
    (folder / "thumbs").mkdir(parents=True, exist_ok=True)
    for template_id in templates():
        image = draw_template(template_id)
        image.save(folder / "full" / full_name(template_id), quality=90)
        thumb = image.copy()
        thumb.thumbnail((THUMB_WIDTH, THUMB_WIDTH * 4))
        thumb.save(folder / "thumbs" / thumb_name(template_id), quality=85)


def _digest() -> str:
    h = hashlib.sha256(MANIFEST.read_bytes())
    h.update(DRAW_VERSION.encode())
    h.update(Path(__file__).read_bytes())
    return h.hexdigest()[:16]


def assets_dir() -> Path:
    """The folder with full/ and thumbs/, drawn on first use (atomically, safe across processes)."""
    folder = Path(tempfile.gettempdir()) / f"lutra-memes-{_digest()}"
    if (folder / "done").is_file():
        return folder
    staging = Path(tempfile.mkdtemp(prefix="lutra-memes-staging-"))
    try:
        generate(staging)
        (staging / "done").write_text("ok")
        try:
            os.rename(staging, folder)
        except OSError:  # another process won the race: use its copy
            if not (folder / "done").is_file():
                raise
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return folder


# ---- text -----------------------------------------------------------------------------------------

def wrap(text: str, font, max_width: int) -> list[str]:
    """Greedy word wrap by measured width; a word wider than the box is split by characters."""
    lines: list[str] = []
    for paragraph in text.split("\n"):
        current = ""
        for word in paragraph.split():
            candidate = f"{current} {word}".strip()
            if font.getlength(candidate) <= max_width:
                current = candidate
                continue
            if current:
                lines.append(current)
            while font.getlength(word) > max_width and len(word) > 1:
                cut = len(word)
                while cut > 1 and font.getlength(word[:cut]) > max_width:
                    cut -= 1
                lines.append(word[:cut])
                word = word[cut:]
            current = word
        lines.append(current)
    return lines


def fit_text(text: str, family: str, box_w: int, box_h: int, size: int | None) -> tuple[Any, list[str], int]:
    """The largest font size (or the given one) whose wrapped text fits the box; returns font, lines, stroke."""
    def layout(px: int):
        font = _fonts.load(family, px)
        stroke = max(1, round(px / 14))
        lines = wrap(text, font, max(1, box_w - 2 * stroke))
        ascent, descent = font.getmetrics()
        height = len(lines) * (ascent + descent) + 2 * stroke
        return font, lines, stroke, height

    if size:
        font, lines, stroke, _ = layout(size)
        return font, lines, stroke
    lo, hi = 8, max(8, min(box_h, 200))
    best = layout(lo)
    while lo <= hi:
        mid = (lo + hi) // 2
        candidate = layout(mid)
        widest = max((candidate[0].getlength(line) for line in candidate[1]), default=0)
        if candidate[3] <= box_h and widest <= box_w:
            best = candidate
            lo = mid + 1
        else:
            hi = mid - 1
    return best[0], best[1], best[2]


def draw_box_text(canvas: Image.Image, box: dict[str, int], text: str, *, family: str, size: int | None,
                  fill, stroke_fill, align: str, vertical: str = "middle") -> dict[str, int]:
    """Draw `text` fitted into box on canvas (RGBA or RGB); returns the box actually used."""
    x, y, w, h = box["x"], box["y"], box["width"], box["height"]
    font, lines, stroke = fit_text(text, family, w, h, size)
    ascent, descent = font.getmetrics()
    line_h = ascent + descent
    total = len(lines) * line_h
    top = {"top": y, "middle": y + (h - total) // 2, "bottom": y + h - total}[vertical]
    draw = ImageDraw.Draw(canvas)
    for i, line in enumerate(lines):
        width = font.getlength(line)
        left = {"left": x + stroke, "center": x + (w - width) / 2, "right": x + w - width - stroke}[align]
        draw.text((left, top + i * line_h), line, font=font, fill=fill, stroke_width=stroke, stroke_fill=stroke_fill)
    return {"x": x, "y": top, "width": w, "height": total, "fontSize": font.size}


def custom_boxes(layout: str, width: int, height: int) -> list[dict[str, Any]]:
    """Text boxes for a custom image by layout name."""
    m = max(4, round(min(width, height) * 0.03))
    band = max(20, round(height * 0.22))
    inner_w = width - 2 * m
    if layout == "top-only":
        return [{"id": "top", "x": m, "y": m, "width": inner_w, "height": band, "vertical": "top"}]
    if layout == "bottom-only":
        return [{"id": "bottom", "x": m, "y": height - m - band, "width": inner_w, "height": band,
                 "vertical": "bottom"}]
    if layout == "center":
        return [{"id": "center", "x": m, "y": (height - band) // 2, "width": inner_w, "height": band}]
    if layout == "side-by-side":
        half = (width - 3 * m) // 2
        tall = height - 2 * m
        return [{"id": "left", "x": m, "y": m, "width": half, "height": tall},
                {"id": "right", "x": 2 * m + half, "y": m, "width": half, "height": tall}]
    return [{"id": "top", "x": m, "y": m, "width": inner_w, "height": band, "vertical": "top"},
            {"id": "bottom", "x": m, "y": height - m - band, "width": inner_w, "height": band, "vertical": "bottom"}]


def font_listing() -> list[dict[str, str]]:
    """The meme font families with the file each is drawn with (served by /meme-templates/fonts)."""
    out = []
    for family in _fonts.MEME_FAMILIES:
        path = _fonts.font_file(family)
        out.append({"family": family, "filename": f"{family}{path.suffix}", "drawnWith": path.stem})
    return out


def font_for_filename(filename: str) -> Path | None:
    for item in font_listing():
        if item["filename"] == filename:
            return _fonts.font_file(item["family"])
    return None


if __name__ == "__main__":  # python -m actors.image.meme_templates OUTDIR
    target = Path(sys.argv[1] if len(sys.argv) > 1 else "meme-templates")
    generate(target)
    print(f"drew {len(templates())} templates into {target}")
