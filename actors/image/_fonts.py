"""Fonts for the text-drawing image tools: named families mapped to freely licensed font files.

Every file comes from a Debian package listed in `deps/image1.apt` (all under the SIL Open Font License,
the Apache License, the Bitstream Vera/DejaVu licence or the GPL-with-font-exception). Where a client
names a proprietary font we draw with its closest free equivalent:

| requested name            | drawn with                            | Debian package          |
|---------------------------|---------------------------------------|-------------------------|
| anton, impact             | Noto Sans ExtraCondensed Black        | fonts-noto-extra        |
|                           | (fallback: Roboto Condensed Bold)     | fonts-roboto-unhinted   |
| arial-black               | Noto Sans Black (fallback Roboto Black)| fonts-noto-extra        |
| comic-sans                | Comic Neue Bold                       | fonts-comic-neue        |
| montserrat                | League Spartan Bold (geometric sans)  | fonts-league-spartan    |
| bebas-neue                | Bebas Neue Bold (the real one, OFL)   | fonts-bebas-neue        |
| permanent-marker          | Yusei Magic (marker lettering, OFL)   | fonts-yusei-magic       |
| roboto                    | Roboto (the real one, Apache-2.0)     | fonts-roboto-unhinted   |
| arial, helvetica, sans    | Liberation Sans (metric-compatible)   | fonts-liberation2       |
| times, times-new-roman    | Liberation Serif (metric-compatible)  | fonts-liberation2       |
| courier, courier-new, mono| Liberation Mono (metric-compatible)   | fonts-liberation2       |
| verdana, dejavu-sans      | DejaVu Sans                           | fonts-dejavu-core       |
| georgia, serif            | DejaVu Serif                          | fonts-dejavu-core       |
| noto-sans                 | Noto Sans                             | fonts-noto-core         |

Each family lists candidate files in order; the first one present is used, and DejaVu Sans (always
installed with the core service) is the last resort, so a missing optional package degrades the look,
never the tool.
"""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path

from protocols.errors import bad_input

_T = "/usr/share/fonts/truetype"
_O = "/usr/share/fonts/opentype"
LAST_RESORT = f"{_T}/dejavu/DejaVuSans-Bold.ttf"

# family -> candidate files, best first
FAMILIES: dict[str, tuple[str, ...]] = {
    "anton": (f"{_T}/noto/NotoSans-ExtraCondensedBlack.ttf", f"{_T}/roboto/unhinted/RobotoCondensed-Bold.ttf"),
    "arial-black": (f"{_T}/noto/NotoSans-Black.ttf", f"{_T}/roboto/unhinted/RobotoTTF/Roboto-Black.ttf"),
    "comic-sans": (f"{_O}/comic-neue/ComicNeue-Bold.otf", f"{_T}/humor-sans/Humor-Sans.ttf"),
    "montserrat": (f"{_O}/league-spartan/LeagueSpartan-Bold.otf", f"{_T}/noto/NotoSans-Bold.ttf"),
    "bebas-neue": (f"{_O}/bebas-neue/BebasNeue-Bold.otf", f"{_T}/roboto/unhinted/RobotoCondensed-Bold.ttf"),
    "permanent-marker": (f"{_T}/yusei-magic/YuseiMagic-Regular.ttf", f"{_T}/humor-sans/Humor-Sans.ttf"),
    "roboto": (f"{_T}/roboto/unhinted/RobotoTTF/Roboto-Bold.ttf", f"{_T}/noto/NotoSans-Bold.ttf"),
    "sans": (f"{_T}/liberation2/LiberationSans-Regular.ttf", f"{_T}/dejavu/DejaVuSans.ttf"),
    "sans-bold": (f"{_T}/liberation2/LiberationSans-Bold.ttf", f"{_T}/dejavu/DejaVuSans-Bold.ttf"),
    "serif": (f"{_T}/liberation2/LiberationSerif-Regular.ttf", f"{_T}/dejavu/DejaVuSerif.ttf"),
    "serif-bold": (f"{_T}/liberation2/LiberationSerif-Bold.ttf", f"{_T}/dejavu/DejaVuSerif-Bold.ttf"),
    "mono": (f"{_T}/liberation2/LiberationMono-Regular.ttf", f"{_T}/dejavu/DejaVuSansMono.ttf"),
    "dejavu-sans": (f"{_T}/dejavu/DejaVuSans.ttf",),
    "dejavu-serif": (f"{_T}/dejavu/DejaVuSerif.ttf",),
    "noto-sans": (f"{_T}/noto/NotoSans-Regular.ttf", f"{_T}/dejavu/DejaVuSans.ttf"),
}

# other names clients send -> a family above
ALIASES: dict[str, str] = {
    "impact": "anton",
    "arial": "sans",
    "helvetica": "sans",
    "liberation-sans": "sans",
    "sans-serif": "sans",
    "arial-bold": "sans-bold",
    "times": "serif",
    "times-new-roman": "serif",
    "liberation-serif": "serif",
    "georgia": "dejavu-serif",
    "courier": "mono",
    "courier-new": "mono",
    "monospace": "mono",
    "liberation-mono": "mono",
    "verdana": "dejavu-sans",
    "dejavu": "dejavu-sans",
    "comic-sans-ms": "comic-sans",
    "comic-neue": "comic-sans",
    "league-spartan": "montserrat",
    "noto": "noto-sans",
}

MEME_FAMILIES = ("anton", "arial-black", "comic-sans", "montserrat", "bebas-neue", "permanent-marker", "roboto")


def normalise(name: str) -> str:
    return re.sub(r"[\s_]+", "-", name.strip().lower())


def family_of(name: str) -> str:
    key = normalise(name)
    key = ALIASES.get(key, key)
    if key not in FAMILIES:
        known = ", ".join(sorted(set(FAMILIES) | set(ALIASES)))
        raise bad_input(f"Unknown font '{name[:40]}'. Known fonts: {known}.")
    return key


@lru_cache(maxsize=64)
def font_file(family: str) -> Path:
    """The file a family is drawn with (first installed candidate, else DejaVu Sans Bold)."""
    for candidate in FAMILIES.get(family, ()):
        path = Path(candidate)
        if path.is_file():
            return path
    return Path(LAST_RESORT)


def font_path(name: str) -> Path:
    """A client's font name (any alias, any case) -> the file to draw with; unknown names are a 400."""
    return font_file(family_of(name))


@lru_cache(maxsize=256)
def load(name_or_path: str, size: int):
    """A Pillow FreeType font at `size` px."""
    from PIL import ImageFont

    path = Path(name_or_path) if name_or_path.startswith("/") else font_path(name_or_path)
    return ImageFont.truetype(str(path), size=max(1, int(size)))
