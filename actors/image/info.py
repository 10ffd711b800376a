"""Image info: width, height, format, size, channels, hasAlpha, DPI, EXIF (+ a JSON download)."""

from __future__ import annotations

from pathlib import Path

from actors.common import imageio as v
from actors.image import _layout as lay
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


def read_dpi(path: Path) -> list[float] | None:
    """The resolution the file declares, or None when it declares none.

    libvips cannot tell: it reports 72 dpi for a PNG or JPEG without a resolution and 25.4 dpi (1 px/mm)
    for other formats, so the file's own header is read through Pillow (JFIF density in inches or cm, then
    EXIF; PNG pHYs; TIFF X/YResolution unless its unit is "none").
    """
    from PIL import Image

    try:
        with Image.open(path) as pil:
            dpi = pil.info.get("dpi")
            if pil.format == "TIFF" and pil.tag_v2.get(296) == 1:  # ResolutionUnit "none": an aspect ratio
                return None
    except Exception:
        return None
    try:
        x, y = (float(value) for value in dpi)
    except (TypeError, ValueError):
        return None
    if x <= 1 or y <= 1:
        return None
    return [round(x, 2), round(y, 2)]


def describe(path: Path, limits, name: str | None = None) -> dict:
    image, fmt = v.open_image(path, limits)
    width, height = v.upright_size(image)
    pages = image.get("n-pages") if image.get_typeof("n-pages") else 1
    exif = read_exif(path)
    size = path.stat().st_size
    return {
        "width": width,
        "height": height,
        "format": fmt,
        "size": size,
        "channels": image.bands,
        "hasAlpha": bool(image.hasalpha()),
        "dpi": read_dpi(path),
        "space": str(image.interpretation),
        "bitDepth": {"uchar": 8, "char": 8, "ushort": 16, "short": 16}.get(str(image.format), 32),
        "orientation": v.orientation(image),
        "pages": pages,
        "exif": exif,
        # the peer's names: fileSize and colorSpace repeat size and space
        "filename": name or path.name,
        "fileSize": size,
        "colorSpace": str(image.interpretation),
        "hasExif": bool(exif) or bool(image.get_typeof("exif-data")),
    }


@tool("info", section=Section.IMAGE, settings=InfoSettings, accepts={"image", "svg"})
def run(call: ToolCall) -> ToolResult:
    """Read an image's dimensions, format, channels, DPI and EXIF."""
    data = describe(call.inputs[0], call.limits, call.names[0] if call.names else None)
    out = lay.write_json(call.workdir / f"{call.stem()}-info.json", data)
    return ToolResult([out], data)
