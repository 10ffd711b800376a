"""Passport/visa photo specifications: photo size (mm), head height from chin to crown (mm), background.

Values follow each issuer's published photo rules (the common ICAO 35x45 mm format unless stated)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class PhotoSpec:
    code: str
    name: str
    width_mm: float
    height_mm: float
    head_min_mm: float
    head_max_mm: float
    background: str  # hex

    def as_json(self) -> dict:
        return {"code": self.code, "name": self.name, "widthMm": self.width_mm, "heightMm": self.height_mm,
                "headMinMm": self.head_min_mm, "headMaxMm": self.head_max_mm, "background": self.background}


_WHITE, _LIGHT = "#ffffff", "#eeeeee"
_ICAO = (35, 45, 32, 36)

SPECS: dict[str, PhotoSpec] = {s.code: s for s in (
    PhotoSpec("us", "United States", 50.8, 50.8, 25.4, 34.9, _WHITE),
    PhotoSpec("gb", "United Kingdom", 35, 45, 29, 34, _LIGHT),
    PhotoSpec("ca", "Canada", 50, 70, 31, 36, _WHITE),
    PhotoSpec("au", "Australia", *_ICAO, _WHITE),
    PhotoSpec("nz", "New Zealand", *_ICAO, _LIGHT),
    PhotoSpec("ie", "Ireland", *_ICAO, _WHITE),
    PhotoSpec("de", "Germany", *_ICAO, _LIGHT),
    PhotoSpec("fr", "France", *_ICAO, _LIGHT),
    PhotoSpec("it", "Italy", *_ICAO, _WHITE),
    PhotoSpec("es", "Spain", *_ICAO, _WHITE),
    PhotoSpec("pt", "Portugal", *_ICAO, _WHITE),
    PhotoSpec("nl", "Netherlands", *_ICAO, _LIGHT),
    PhotoSpec("be", "Belgium", *_ICAO, _WHITE),
    PhotoSpec("at", "Austria", *_ICAO, _LIGHT),
    PhotoSpec("ch", "Switzerland", *_ICAO, _LIGHT),
    PhotoSpec("se", "Sweden", *_ICAO, _LIGHT),
    PhotoSpec("no", "Norway", *_ICAO, _LIGHT),
    PhotoSpec("dk", "Denmark", *_ICAO, _LIGHT),
    PhotoSpec("fi", "Finland", 36, 47, 32, 36, _LIGHT),
    PhotoSpec("pl", "Poland", *_ICAO, _WHITE),
    PhotoSpec("cz", "Czech Republic", *_ICAO, _LIGHT),
    PhotoSpec("gr", "Greece", *_ICAO, _LIGHT),
    PhotoSpec("ru", "Russia", *_ICAO, _WHITE),
    PhotoSpec("ua", "Ukraine", *_ICAO, _WHITE),
    PhotoSpec("tr", "Turkey", 50, 60, 32, 36, _WHITE),
    PhotoSpec("in", "India", 50.8, 50.8, 25.4, 34.9, _WHITE),
    PhotoSpec("cn", "China", 33, 48, 28, 33, _WHITE),
    PhotoSpec("jp", "Japan", *_ICAO, _WHITE),
    PhotoSpec("kr", "South Korea", *_ICAO, _WHITE),
    PhotoSpec("sg", "Singapore", 35, 45, 25, 35, _WHITE),
    PhotoSpec("my", "Malaysia", 35, 50, 30, 35, _WHITE),
    PhotoSpec("ph", "Philippines", *_ICAO, _WHITE),
    PhotoSpec("id", "Indonesia", 40, 60, 32, 36, _WHITE),
    PhotoSpec("br", "Brazil", 50, 70, 32, 36, _WHITE),
    PhotoSpec("mx", "Mexico", *_ICAO, _WHITE),
    PhotoSpec("za", "South Africa", *_ICAO, _WHITE),
    PhotoSpec("ae", "United Arab Emirates", 43, 55, 32, 36, _WHITE),
)}

# print sheets at 300 dpi: (width px, height px)
LAYOUTS = {"4x6": (1200, 1800), "A4": (2480, 3508)}
DPI = 300


def mm_to_px(mm: float, dpi: int = DPI) -> int:
    return round(mm / 25.4 * dpi)
