"""Decoding whatever picture the library holds, for its thumbnails and previews: rawpy (LibRaw) for camera
RAW, libvips with shrink-on-load, then Pillow with pillow-heif. Unlike the tools' strict loader
(actors.common.imageio) a preview takes any decoder that works, and only the pixel limit refuses."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pyvips

from actors.common.camera_raw import is_camera_raw, tiff_based
from protocols.errors import ApiError, ErrorCode, ToolError


def too_large() -> ToolError:
    return ToolError("The image is too large to preview.", ErrorCode.PAYLOAD_TOO_LARGE, 413)


def pil_open(path: str | Path):
    from PIL import Image

    try:
        import pillow_heif

        pillow_heif.register_heif_opener()
    except ImportError:  # pragma: no cover - pillow-heif is a core dependency
        pass
    return Image.open(path)


def _has_rawpy() -> bool:
    return importlib.util.find_spec("rawpy") is not None


def _load_camera_raw(path: str, width: int, height: int, size: str, max_pixels: float) -> pyvips.Image | None:
    """A demosaiced, white-balanced camera RAW (rawpy, half size: plenty for a preview), or None."""
    try:
        import numpy
        import rawpy
    except ImportError:  # pragma: no cover - rawpy comes with deps/preview.pip
        return None
    try:
        with rawpy.imread(path) as raw:
            if max_pixels and raw.sizes.raw_width * raw.sizes.raw_height > max_pixels:
                raise too_large()
            rgb = numpy.ascontiguousarray(raw.postprocess(use_camera_wb=True, half_size=True, output_bps=8))
    except ApiError:
        raise
    except Exception:  # not a RAW LibRaw can read (rawpy.LibRawError and friends)
        return None
    image = pyvips.Image.new_from_memory(rgb.tobytes(), rgb.shape[1], rgb.shape[0], rgb.shape[2], "uchar")
    return image.copy(interpretation="srgb").thumbnail_image(width, height=height, size=size)


def load_scaled(path: str, width: int, height: int, size: str, max_pixels: float) -> pyvips.Image | None:
    """The image scaled into width x height (`size` as pyvips.thumbnail), or None when no decoder can read
    it; over `max_pixels` (0: no limit) is a 413."""
    if is_camera_raw(path):
        image = _load_camera_raw(path, width, height, size, max_pixels)
        if image is not None:
            return image
        if tiff_based(path) and _has_rawpy():
            return None  # a RAW LibRaw cannot read (cut short...): libvips would show the bare sensor mosaic
    try:
        header = pyvips.Image.new_from_file(path)
        if max_pixels and header.width * header.height > max_pixels:
            raise too_large()
        # decode now (pixels are lazy): a codec libvips lacks (HEVC) fails here, not at save time
        return pyvips.Image.thumbnail(path, width, height=height, size=size).copy_memory()
    except pyvips.Error:
        pass
    pil = None
    try:
        img = pil_open(path)
        if max_pixels and img.size[0] * img.size[1] > max_pixels:
            raise too_large()
        img.draft("RGB", (width, min(height, 65535)))
        pil = img.convert("RGBA" if "A" in img.getbands() else "RGB")
    except ApiError:
        raise
    except Exception:
        pil = None
    if pil is None:  # a RAW under a name that does not say so (CR3, RAF ... are not TIFF)
        return _load_camera_raw(path, width, height, size, max_pixels)
    image = pyvips.Image.new_from_memory(pil.tobytes(), pil.size[0], pil.size[1], len(pil.getbands()), "uchar")
    image = image.copy(interpretation="srgb")
    return image.thumbnail_image(width, height=height, size=size)


def normalise(image: pyvips.Image, flatten: bool) -> pyvips.Image:
    """8-bit sRGB (or grey), on white when `flatten`: what JPEG and WebP previews take."""
    if image.interpretation not in ("srgb", "b-w"):
        try:
            image = image.colourspace("srgb")
        except pyvips.Error:
            pass
    if flatten and image.hasalpha():
        image = image.flatten(background=[255, 255, 255])
    if image.format != "uchar":
        image = image.cast("uchar")
    return image


def dimensions(path: str) -> tuple[int | None, int | None]:
    """Width and height from the header only (pixels are not decoded); (None, None) when unreadable."""
    try:
        image = pyvips.Image.new_from_file(path)
        return image.width, image.height
    except pyvips.Error:
        pass
    try:
        with pil_open(path) as img:
            return img.size
    except Exception:  # Pillow raises many types for files it cannot read
        return None, None
