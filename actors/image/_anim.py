"""Animated images (GIF, WebP) as frame lists for libvips: load every page, process, re-join, save."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pyvips

from actors.common import imageio as v
from actors.image import _layout as lay
from protocols.errors import bad_input
from protocols.tools import Limits

MAX_FRAMES = 2000


@dataclass
class Animation:
    frames: list[pyvips.Image]
    delays: list[int]  # ms per frame
    loop: int = 0
    source: str = "gif"
    extra: dict = field(default_factory=dict)

    @property
    def width(self) -> int:
        return self.frames[0].width

    @property
    def height(self) -> int:
        return self.frames[0].height

    @property
    def duration_ms(self) -> int:
        return sum(self.delays)


def load(path: Path, limits: Limits) -> Animation:
    header, fmt = v.open_image(path, limits)
    if fmt not in ("gif", "webp"):
        raise bad_input("Expected an animated GIF or WebP image.")
    pages = header.get("n-pages") if header.get_typeof("n-pages") else 1
    if pages > MAX_FRAMES:
        raise bad_input(f"The animation has {pages} frames; the limit is {MAX_FRAMES}.")
    v.check_pixels(header.width, header.height * pages, limits, "The animation (all frames)")
    try:
        full = pyvips.Image.new_from_file(str(path), n=-1, access="sequential", fail_on="error").copy_memory()
    except pyvips.Error:
        raise bad_input("The animation is corrupt or truncated.") from None
    page_h = full.get("page-height") if full.get_typeof("page-height") else full.height
    count = max(1, full.height // page_h)
    delays = list(full.get("delay")) if full.get_typeof("delay") else [100] * count
    delays = [d if d and d > 0 else 100 for d in (delays + [100] * count)[:count]]
    loop = int(full.get("loop")) if full.get_typeof("loop") else 0
    frames = [lay.srgb(v.with_alpha(full.crop(0, i * page_h, full.width, page_h))) for i in range(count)]
    frames = [v.with_alpha(f) for f in frames]
    return Animation(frames, delays, loop, fmt)


def join(anim: Animation) -> pyvips.Image:
    width, height = anim.frames[0].width, anim.frames[0].height
    frames = [f if (f.width, f.height) == (width, height) else v.resize_exact(f, width, height) for f in anim.frames]
    tall = pyvips.Image.arrayjoin(frames, across=1) if len(frames) > 1 else frames[0]
    tall = tall.copy()
    tall.set_type(pyvips.GValue.gint_type, "page-height", height)
    tall.set_type(pyvips.GValue.array_int_type, "delay", [int(d) for d in anim.delays])
    tall.set_type(pyvips.GValue.gint_type, "loop", int(anim.loop))
    return tall


def encode_gif(anim: Animation, *, colours: int = 256, dither: float = 1.0, effort: int = 7,
               interframe_maxerror: float = 0) -> bytes:
    import math

    bitdepth = max(1, min(8, math.ceil(math.log2(max(2, colours)))))
    try:
        return join(anim).gifsave_buffer(bitdepth=bitdepth, dither=dither, effort=effort,
                                         interframe_maxerror=interframe_maxerror, keep="none")
    except pyvips.Error:
        raise bad_input("The animation could not be encoded as GIF.") from None


def encode_webp(anim: Animation, *, quality: int = 80, lossless: bool = False) -> bytes:
    try:
        return join(anim).webpsave_buffer(Q=quality, lossless=lossless, keep="none", effort=4)
    except pyvips.Error:
        raise bad_input("The animation could not be encoded as WebP.") from None
