"""Image to PDF: one page per image (img2pdf: JPEGs are embedded as they are, without re-encoding).

Page sizes are ISO/US paper sizes or `fit` (the page takes the image's size); `margin` is in points
(1/72 inch) on every side; the image is scaled to fit inside the margins, centred. With `targetSize`
the images are re-encoded as JPEG at the highest quality (and, if needed, the largest scale) that
brings the whole PDF under the target; `targetMet` says whether it could.
"""

from __future__ import annotations

from typing import Literal

import img2pdf
import pyvips
from pydantic import BaseModel, ConfigDict, Field

from actors.common import imageio as v
from protocols.errors import ToolError
from protocols.tools import Section, ToolCall, ToolResult, ToolSettings, tool

MM = 72 / 25.4
PAGE_SIZES: dict[str, tuple[float, float]] = {  # portrait, in points
    "A3": (297 * MM, 420 * MM),
    "A4": (210 * MM, 297 * MM),
    "A5": (148 * MM, 210 * MM),
    "B5": (176 * MM, 250 * MM),
    "Letter": (612, 792),
    "Legal": (612, 1008),
    "Tabloid": (792, 1224),
}


class TargetSize(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)
    value: float = Field(..., gt=0, le=1_000_000, description="Target size")
    unit: Literal["KB", "MB", "kb", "mb"] = Field("KB", description="Unit of value")

    @property
    def bytes(self) -> int:
        return int(self.value * (1024 * 1024 if self.unit.upper() == "MB" else 1024))


class ImageToPdfSettings(ToolSettings):
    page_size: Literal["A3", "A4", "A5", "B5", "Letter", "Legal", "Tabloid", "fit"] = Field(
        "A4", description="Paper size, or fit (page = image size)")
    orientation: Literal["portrait", "landscape", "auto"] = Field(
        "portrait", description="Page orientation; auto follows each image")
    margin: float = Field(0, ge=0, le=500, description="Margin on every side, in points (1/72 in)")
    target_size: TargetSize | None = Field(None, description="Largest PDF size {value, unit: KB|MB}")


def prepared(call: ToolCall) -> list[tuple[pyvips.Image, bytes | None]]:
    """Each input upright and flattened; the original bytes too when they can be embedded as they are."""
    items = []
    for path in call.inputs:
        header, fmt = v.open_image(path, call.limits)
        image, _ = v.load_upright(path, call.limits)
        if image.interpretation not in ("srgb", "b-w"):  # CMYK, 16-bit, Lab...: to 8-bit sRGB
            image = image.colourspace("srgb")
        if image.hasalpha():
            image = image.flatten(background=[255] * (image.bands - 1))
        if image.format != "uchar":
            image = image.cast("uchar")
        raw = None
        if fmt == "jpeg" and v.orientation(header) == 1 and header.interpretation in ("srgb", "b-w"):
            raw = path.read_bytes()
        items.append((image, raw))
    return items


def layout(s: ImageToPdfSettings):
    border = (s.margin, s.margin) if s.margin else None
    if s.page_size == "fit":
        return img2pdf.get_layout_fun(None, None, border)
    w, h = PAGE_SIZES[s.page_size]
    if s.orientation == "landscape":
        w, h = h, w
    return img2pdf.get_layout_fun((w, h), None, border, img2pdf.FitMode.into, s.orientation == "auto")


def build_pdf(pages: list[bytes], s: ImageToPdfSettings) -> bytes:
    try:
        return img2pdf.convert(pages, layout_fun=layout(s), rotation=img2pdf.Rotation.ifvalid)
    except Exception:  # img2pdf raises many kinds; none of their texts is for users
        raise ToolError("The images could not be assembled into a PDF.") from None


def encode_all(items, quality: int | None, scale: float = 1.0) -> list[bytes]:
    pages = []
    for image, raw in items:
        if quality is None and raw is not None:
            pages.append(raw)
            continue
        if scale < 1:
            image = image.resize(scale)
        if quality is None:
            pages.append(image.pngsave_buffer(compression=6))
        else:
            pages.append(image.jpegsave_buffer(Q=quality, optimize_coding=True, keep="none"))
    return pages


def fit_target(items, s: ImageToPdfSettings, target: int) -> tuple[bytes, bool, int, float]:
    smallest: tuple[bytes, int, float] | None = None
    for scale in (1.0, 0.75, 0.5, 0.35, 0.25, 0.15, 0.1):
        lo, hi, best = 10, 95, None
        while lo <= hi:
            q = (lo + hi) // 2
            pdf = build_pdf(encode_all(items, q, scale), s)
            if smallest is None or len(pdf) < len(smallest[0]):
                smallest = (pdf, q, scale)
            if len(pdf) <= target:
                best, lo = (pdf, q), q + 1
            else:
                hi = q - 1
        if best is not None:
            return best[0], True, best[1], scale
    assert smallest is not None
    return smallest[0], False, smallest[1], smallest[2]


@tool("image-to-pdf", section=Section.IMAGE, settings=ImageToPdfSettings, accepts={"image", "svg"},
      inputs=(1, 500))
def run(call: ToolCall[ImageToPdfSettings]) -> ToolResult:
    """Put images into a PDF, one per page."""
    s = call.settings
    items = v.run_vips("prepared", prepared, call)
    extra: dict = {"pageCount": len(items), "pageSize": s.page_size, "orientation": s.orientation}
    pdf = v.run_vips("encoded", lambda: build_pdf(encode_all(items, None), s))
    if s.target_size is not None and len(pdf) > s.target_size.bytes:
        pdf, met, quality, scale = v.run_vips("encoded", fit_target, items, s, s.target_size.bytes)
        extra.update({"targetMet": met, "quality": quality, "scale": scale})
        if not met:
            extra["message"] = (f"Could not reach {s.target_size.value:g} {s.target_size.unit.upper()}; the "
                                f"smallest PDF is {len(pdf) / 1024:.1f} KB.")
    elif s.target_size is not None:
        extra["targetMet"] = True
    out = call.workdir / f"{call.stem()}.pdf"
    out.write_bytes(pdf)
    return ToolResult([out], extra)

