"""Image info: width, height, format, size, channels, hasAlpha, DPI, EXIF (+ a JSON download)."""

from __future__ import annotations

from pathlib import Path

import pyvips

from actors.image import _layout as lay
from actors.image import _vips as v
from protocols.tools import Section, ToolCall, ToolResult, ToolSettings, tool


class InfoSettings(ToolSettings):
    """No settings."""


def _plain(value):
    if isinstance(value, bytes):
        try:
            text = value.decode("utf-8").rstrip("\x00").strip()
            return text if text.isprintable() else f"<{len(value)} bytes>"
        except UnicodeDecodeError:
            return f"<{len(value)} bytes>"
    if isinstance(value, (tuple, list)):
        return [_plain(x) for x in value]
    if isinstance(value, (int, float, str, bool)) or value is None:
        return value
    try:
        return float(value)  # IFDRational
    except (TypeError, ValueError, ZeroDivisionError):
        return str(value)


def read_exif(path: Path) -> dict:
    """EXIF tags by name (IFD0, Exif sub-IFD and GPS), through Pillow; {} when there are none."""
    from PIL import ExifTags, Image

    try:
        with Image.open(path) as pil:
            exif = pil.getexif()
            out: dict = {}
            for tag, value in exif.items():
                out[ExifTags.TAGS.get(tag, str(tag))] = _plain(value)
            for ifd_id, names in ((ExifTags.IFD.Exif, ExifTags.TAGS), (ExifTags.IFD.GPSInfo, ExifTags.GPSTAGS)):
                try:
                    ifd = exif.get_ifd(ifd_id)
                except (KeyError, ValueError, OSError):
                    continue
                for tag, value in ifd.items():
                    out[names.get(tag, str(tag))] = _plain(value)
            out.pop("ExifOffset", None)
            out.pop("GPSInfo", None)
            return out
    except Exception:
        return {}


def describe(path: Path, limits) -> dict:
    image, fmt = v.open_image(path, limits)
    width, height = v.upright_size(image)
    try:
        xres = image.get("xres")
        yres = image.get("yres")
        dpi = [round(xres * 25.4, 2), round(yres * 25.4, 2)]
    except pyvips.Error:
        dpi = None
    if dpi is not None and dpi[0] <= 1 and dpi[1] <= 1:
        dpi = None  # libvips' default of 1 px/mm: the file has no resolution
    pages = image.get("n-pages") if image.get_typeof("n-pages") else 1
    return {
        "width": width,
        "height": height,
        "format": fmt,
        "size": path.stat().st_size,
        "channels": image.bands,
        "hasAlpha": bool(image.hasalpha()),
        "dpi": dpi,
        "space": str(image.interpretation),
        "bitDepth": {"uchar": 8, "char": 8, "ushort": 16, "short": 16}.get(str(image.format), 32),
        "orientation": v.orientation(image),
        "pages": pages,
        "exif": read_exif(path),
    }


@tool("info", section=Section.IMAGE, settings=InfoSettings, accepts={"image"})
def run(call: ToolCall) -> ToolResult:
    """Read an image's dimensions, format, channels, DPI and EXIF."""
    data = describe(call.inputs[0], call.limits)
    out = lay.write_json(call.workdir / f"{call.stem()}-info.json", data)
    return ToolResult([out], data)
