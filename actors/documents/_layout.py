"""Placing source pages on new sheets (n-up, booklets) and drawing overlays (watermarks, numbers)."""

from __future__ import annotations

import functools
from pathlib import Path

import pikepdf

FONT_PATHS = ("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
              "/usr/share/fonts/truetype/liberation2/LiberationSans-Regular.ttf",
              "/usr/share/fonts/truetype/liberation/LiberationSans-Regular.ttf")


def visible_size(page: pikepdf.Page) -> tuple[float, float]:
    """Width and height as a viewer shows the page (crop box, after /Rotate)."""
    box = page.cropbox
    w, h = float(box[2]) - float(box[0]), float(box[3]) - float(box[1])
    if int(page.obj.get("/Rotate", 0)) % 180:
        return h, w
    return w, h


def begin_overlay_page(c, page: pikepdf.Page) -> tuple[float, float]:
    """Start a reportlab overlay page for `page`, sized as the viewer sees it (after /Rotate); returns that
    size. add_overlay() undoes the page's rotation when it places the overlay, so it appears upright."""
    w, h = visible_size(page)
    c.setPageSize((w, h))
    return w, h


def best_grid(n: int, page_w: float, page_h: float, sheet_w: float, sheet_h: float,
              grids: list[tuple[int, int]] | None = None) -> tuple[int, int, float, float]:
    """The (cols, rows) and sheet orientation that show n pages the largest: returns cols, rows, sw, sh."""
    best = None
    options = grids or [(c, n // c) for c in range(1, n + 1) if n % c == 0]
    for cols, rows in options:
        for sw, sh in ((sheet_w, sheet_h), (sheet_h, sheet_w)):
            scale = min(sw / cols / page_w, sh / rows / page_h)
            if best is None or scale > best[0] + 1e-9:
                best = (scale, cols, rows, sw, sh)
    assert best is not None
    return best[1], best[2], best[3], best[4]


def impose(src: pikepdf.Pdf, sheets: list[list[int | None]], cols: int, rows: int, sheet_w: float, sheet_h: float,
           margin: float = 0) -> pikepdf.Pdf:
    """A new PDF whose sheets hold the given source pages (0-based, None = blank) in a cols×rows grid,
    filled left to right, top to bottom; each page scaled to fit its cell and centred."""
    out = pikepdf.new()
    cell_w, cell_h = (sheet_w - 2 * margin) / cols, (sheet_h - 2 * margin) / rows
    for cells in sheets:
        sheet = out.add_blank_page(page_size=(sheet_w, sheet_h))
        for slot, index in enumerate(cells):
            if index is None:
                continue
            col, row = slot % cols, slot // cols
            x0 = margin + col * cell_w
            y0 = sheet_h - margin - (row + 1) * cell_h
            rect = pikepdf.Rectangle(x0, y0, x0 + cell_w, y0 + cell_h)
            sheet.add_overlay(src.pages[index], rect, shrink=True, expand=True)
    return out


@functools.cache
def font_name() -> str:
    """A Unicode TrueType font registered with reportlab (embedded, subset), Helvetica as a fallback."""
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont

    for path in FONT_PATHS:
        if Path(path).is_file():
            pdfmetrics.registerFont(TTFont("LutraSans", path))
            return "LutraSans"
    return "Helvetica"


def hex_rgb(value: str) -> tuple[float, float, float]:
    text = value.strip().lstrip("#")
    if len(text) in (3, 4):
        text = "".join(ch * 2 for ch in text)
    return tuple(int(text[i:i + 2], 16) / 255 for i in (0, 2, 4))  # type: ignore[return-value]


def overlay_pages(pdf: pikepdf.Pdf, overlay_path: Path, pages: list[int] | None = None) -> None:
    """Stamp page i of the overlay PDF onto page pages[i] (all pages by default), over the crop box."""
    targets = pages if pages is not None else list(range(len(pdf.pages)))
    with pikepdf.open(overlay_path) as overlay:
        for i, number in enumerate(targets):
            page = pdf.pages[number]
            box = page.cropbox
            rect = pikepdf.Rectangle(float(box[0]), float(box[1]), float(box[2]), float(box[3]))
            page.add_overlay(overlay.pages[i], rect)
