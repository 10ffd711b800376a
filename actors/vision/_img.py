"""Image I/O for the vision tools: decode (with limits and EXIF orientation) into numpy, encode back."""

from __future__ import annotations

from pathlib import Path

import pyvips

from actors._lazy import np
from actors.common import imageio as v
from protocols.errors import bad_input
from protocols.tools import Limits, ToolCall


def load(path: Path, limits: Limits) -> tuple[np.ndarray, np.ndarray | None, str]:
    """(rgb uint8 HxWx3, alpha uint8 HxW or None, source format)."""
    image, fmt = v.load_upright(path, limits)
    try:
        if image.format != "uchar":
            image = image.colourspace("srgb") if image.interpretation in ("rgb16", "grey16") else image
            image = image.cast("uchar") if image.format != "uchar" else image
        if image.bands in (1, 2):
            alpha = image[1] if image.bands == 2 else None
            grey = image[0]
            image = grey.bandjoin([grey, grey]) if alpha is None else grey.bandjoin([grey, grey, alpha])
        elif image.interpretation == "cmyk":
            image = image.colourspace("srgb")
        array = image.numpy()
    except pyvips.Error:
        raise bad_input("The image could not be decoded.") from None
    if array.ndim == 2:
        array = np.stack([array] * 3, axis=-1)
    rgb = np.ascontiguousarray(array[:, :, :3])
    alpha = np.ascontiguousarray(array[:, :, 3]) if array.shape[2] >= 4 else None
    return rgb, alpha, fmt


def load_rgb(path: Path, limits: Limits) -> np.ndarray:
    return load(path, limits)[0]


def output_format(requested: str | None, source: str, *, alpha: bool = False) -> str:
    if requested:
        return "jpeg" if requested == "jpg" else requested
    fmt = v.output_format(source)
    if alpha and fmt not in ("png", "webp", "avif", "tiff"):
        return "png"
    return fmt if fmt in v.EXTENSIONS else "png"


def save(array: np.ndarray, call: ToolCall, fmt: str, quality: int | None = None, *, suffix: str = "",
         png_compression: int | None = None) -> Path:
    """Write HxWx3 / HxWx4 / HxW uint8 into the job folder as `fmt` (`png_compression`: a zlib level for
    PNG instead of the image tools' 6)."""
    array = np.ascontiguousarray(np.clip(array, 0, 255).astype(np.uint8)) if array.dtype != np.uint8 else \
        np.ascontiguousarray(array)
    image = pyvips.Image.new_from_array(array, interpretation="b-w" if array.ndim == 2 else "srgb")
    if fmt in ("jpeg", "heic", "heif") and image.bands == 4:
        image = image.flatten(background=[255, 255, 255])
    if fmt == "png" and png_compression is not None:
        try:
            data = image.pngsave_buffer(compression=png_compression, keep="icc")
        except pyvips.Error:
            raise bad_input("The image could not be encoded.") from None
    else:
        data = v.encode(image, fmt, quality if fmt in v.LOSSY else None)  # png/tiff/gif stay lossless
    out = call.workdir / f"{call.stem()}{suffix}.{v.EXTENSIONS[fmt]}"
    out.write_bytes(data)
    return out


def hex_rgb(value: str) -> tuple[int, int, int]:
    try:
        parts = v.hex_color(value)
        return int(parts[0]), int(parts[1]), int(parts[2])
    except (ValueError, IndexError):
        raise bad_input(f"Not a colour: {value!r} (use #rrggbb).") from None


HEX = r"^#?([0-9a-fA-F]{3}|[0-9a-fA-F]{6}|[0-9a-fA-F]{8})$"
