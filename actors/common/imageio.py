"""Image I/O for every family that reads or writes pictures (image, vision): safe loading with limits,
format detection, encoding.

pyvips first (streaming, shrink-on-load); pillow-heif where libvips lacks a codec (HEVC); Pillow for BMP,
ICO, PSD (the flattened composite) and JPEG XL, which this libvips build does not read. An SVG is
sanitised (svgsafe) and rasterised at its own size before any tool sees it, never handed to libvips as
it came. Every decode error becomes a client error with a message that names no path.
"""

from __future__ import annotations

import io
from pathlib import Path

import pyvips

from protocols.errors import ErrorCode, ToolError, bad_input
from protocols.tools import Limits

# libvips loader name -> our format name
LOADER_FORMATS = {
    "jpegload": "jpeg",
    "pngload": "png",
    "webpload": "webp",
    "gifload": "gif",
    "tiffload": "tiff",
    "heifload": "heif",
    "svgload": "svg",
    "ppmload": "ppm",
    "radload": "hdr",
    "fitsload": "fits",
    "vipsload": "vips",
    "jp2kload": "jp2",
    "jxlload": "jxl",
}

# format -> file extension of outputs
EXTENSIONS = {
    "jpeg": "jpg",
    "png": "png",
    "webp": "webp",
    "avif": "avif",
    "tiff": "tiff",
    "gif": "gif",
    "heic": "heic",
    "heif": "heif",
}

LOSSY = {"jpeg", "webp", "avif", "heic", "heif"}
DEFAULT_QUALITY = {"jpeg": 85, "webp": 85, "avif": 60, "heic": 80, "heif": 80, "png": 100, "tiff": 90, "gif": 100}


def _worker_setup() -> None:
    # one libvips thread per worker: two workers on two cores beat one worker with two threads
    pyvips.concurrency_set(1)
    pyvips.cache_set_max(0)


_worker_setup()


def _vips_error(action: str) -> ToolError:
    return ToolError(f"The image could not be {action}: it may be corrupt or in an unsupported format.")


def source_format(image: pyvips.Image) -> str:
    """The format of a loaded image, as one of EXTENSIONS' keys (or a close match)."""
    try:
        loader = image.get("vips-loader")
    except pyvips.Error:
        return "png"
    fmt = LOADER_FORMATS.get(loader.removesuffix("_source").removesuffix("_buffer"), "png")
    if fmt == "heif":
        try:
            compression = image.get("heif-compression")
        except pyvips.Error:
            compression = "hevc"
        fmt = "avif" if compression == "av1" else "heic"
    return fmt


def output_format(fmt: str) -> str:
    """Formats we can read but do not write fall back to PNG."""
    return fmt if fmt in EXTENSIONS else "png"


def check_pixels(width: int, height: int, limits: Limits, what: str = "The image") -> None:
    if width <= 0 or height <= 0:
        raise bad_input(f"{what} has no pixels.")
    if limits.max_megapixels and width * height > limits.max_megapixels * 1_000_000:
        raise ToolError(
            f"{what} is {width}×{height} ({width * height / 1e6:.1f} MP), over this server's limit of "
            f"{limits.max_megapixels:g} MP.",
            ErrorCode.PAYLOAD_TOO_LARGE,
            413,
        )


# formats decoded whole into memory by open_image (not by a libvips file loader): there is nothing to
# shrink on load or stream, and the image open_image returned is the decoded image
IN_MEMORY = {"heic", "svg", "bmp", "ico", "psd", "jxl"}


def sniff_other(path: Path) -> str | None:
    """SVG, or one of the formats decoded through Pillow, from the file's first bytes (else None)."""
    with open(path, "rb") as fh:
        head = fh.read(1024)
    if head[:2] == b"BM" and len(head) > 14:
        return "bmp"
    if head[:4] in (b"\x00\x00\x01\x00", b"\x00\x00\x02\x00"):  # icon, cursor
        return "ico"
    if head[:4] == b"8BPS":
        return "psd"
    if head[:2] == b"\xff\x0a" or head[:12] == b"\x00\x00\x00\x0cJXL \r\n\x87\n":
        return "jxl"
    text = head.lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if b"<svg" in text and text.startswith((b"<?xml", b"<svg", b"<!--", b"<!doctype svg")):
        return "svg"
    return None


def open_image(path: Path, limits: Limits, *, access: str = "random") -> tuple[pyvips.Image, str]:
    """Open lazily (header only), check the pixel limit, decode HEVC through pillow-heif.

    Returns the image (not yet EXIF-rotated) and its source format. SVG, BMP, ICO, PSD and JPEG XL come
    back decoded, in memory (see IN_MEMORY).
    """
    other = sniff_other(path)
    if other == "svg":
        return _render_svg(path, limits), other
    if other is not None:
        return _decode_pillow(path, limits, other), other
    try:
        image = pyvips.Image.new_from_file(str(path), access=access, fail_on="warning")
    except pyvips.Error:
        raise bad_input("The file is not an image this server can read, or it is corrupt.") from None
    fmt = source_format(image)
    check_pixels(image.width, image.height, limits)
    if fmt == "heic":
        image = _decode_hevc(path)
    return image, fmt


def _render_svg(path: Path, limits: Limits) -> pyvips.Image:
    """The sanitised SVG rendered at its own size (72 dpi: one SVG px per pixel)."""
    from actors.common import svgsafe

    clean, _removed = svgsafe.sanitize(path.read_bytes())
    try:
        header = pyvips.Image.svgload_buffer(clean, unlimited=False)
    except pyvips.Error:
        raise bad_input("The SVG could not be rendered: it may be empty or invalid.") from None
    check_pixels(header.width, header.height, limits, "The rendered SVG")
    try:
        return header.copy_memory()
    except pyvips.Error:
        raise bad_input("The SVG could not be rendered: it may be empty or invalid.") from None


def _decode_pillow(path: Path, limits: Limits, fmt: str) -> pyvips.Image:
    """BMP, ICO (its largest size), PSD (the composite Photoshop stores beside the layers) or JPEG XL (its
    first frame), decoded through Pillow into 8-bit sRGB(A) or grey(+alpha)."""
    import warnings

    from PIL import Image

    if fmt == "jxl":
        import pillow_jxl  # noqa: F401  (registers the JPEG XL plugin)
    try:
        with warnings.catch_warnings():
            # the server's own pixel limit (check_pixels) decides, not Pillow's fixed 89 MP warning
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            with Image.open(path) as pil:
                check_pixels(pil.width, pil.height, limits)
                pil.load()
                if pil.mode not in ("RGB", "RGBA", "L", "LA"):
                    alpha = "A" in pil.getbands() or "transparency" in pil.info
                    pil = pil.convert("RGBA" if alpha else "RGB")
                bands = len(pil.getbands())
                data = pil.tobytes()
                width, height = pil.size
    except ToolError:
        raise
    except Image.DecompressionBombError:  # over twice Pillow's limit: refused before decoding
        raise ToolError("The image has too many pixels to decode.", ErrorCode.PAYLOAD_TOO_LARGE, 413) from None
    except Exception:  # Pillow raises many types for corrupt files (OSError, ValueError, SyntaxError...)
        raise bad_input(f"The {fmt.upper()} file is corrupt or uses an unsupported variant.") from None
    image = pyvips.Image.new_from_memory(data, width, height, bands, "uchar")
    return image.copy(interpretation="srgb" if bands >= 3 else "b-w")


def _decode_hevc(path: Path) -> pyvips.Image:
    import pillow_heif

    try:
        heif = pillow_heif.open_heif(str(path), convert_hdr_to_8bit=True)
        bands = 4 if heif.has_alpha else 3
        image = pyvips.Image.new_from_memory(bytes(heif.data), heif.size[0], heif.size[1], bands, "uchar")
        if heif.stride != heif.size[0] * bands:  # rows are padded
            image = pyvips.Image.new_from_memory(
                bytes(heif.data), heif.stride // bands, heif.size[1], bands, "uchar"
            ).crop(0, 0, heif.size[0], heif.size[1])
        image = image.copy(interpretation="srgb")
        exif = heif.info.get("exif")
        if exif:
            image.set_type(pyvips.GValue.blob_type, "exif-data", exif)
            orientation = _exif_orientation(exif)
            if orientation:
                image.set_type(pyvips.GValue.gint_type, "orientation", orientation)
        return image
    except (ValueError, RuntimeError, OSError):
        raise bad_input("The HEIC/HEIF file is corrupt or uses an unsupported encoding.") from None


def _exif_orientation(exif: bytes) -> int:
    from PIL import Image

    try:
        data = Image.Exif()
        data.load(exif[6:] if exif.startswith(b"Exif\x00\x00") else exif)
        return int(data.get(0x0112, 0) or 0)
    except Exception:
        return 0


def orientation(image: pyvips.Image) -> int:
    try:
        return int(image.get("orientation")) if image.get_typeof("orientation") else 1
    except pyvips.Error:
        return 1


def upright_size(image: pyvips.Image) -> tuple[int, int]:
    """Width and height as the viewer sees them, after EXIF orientation."""
    if orientation(image) in (5, 6, 7, 8):
        return image.height, image.width
    return image.width, image.height


def load_upright(path: Path, limits: Limits) -> tuple[pyvips.Image, str]:
    """Full decode with EXIF orientation applied; the result is in memory and safe to reuse."""
    image, fmt = open_image(path, limits)
    try:
        image = image.autorot()
        return image.copy_memory(), fmt
    except pyvips.Error:
        raise _vips_error("decoded") from None


# EXIF orientations that libvips can apply while reading rows top to bottom (none, a horizontal mirror)
_ROW_ORDER_ORIENTATIONS = (1, 2)


def load_for_one_pass(path: Path, limits: Limits) -> tuple[pyvips.Image, str]:
    """An upright image for a single pass over its pixels (one encode): rows are decoded as the encoder
    asks for them, so the decoded picture is never held whole. Rotations and vertical flips read rows out
    of order, so those images are opened for random access. The result must be read once only; a decode
    error surfaces at that read."""
    image, fmt = open_image(path, limits, access="sequential")
    if fmt != "heic" and orientation(image) not in _ROW_ORDER_ORIENTATIONS:
        image, fmt = open_image(path, limits)
    try:
        return image.autorot(), fmt
    except pyvips.Error:
        raise _vips_error("decoded") from None


def hex_color(value: str) -> list[float]:
    """'#rrggbb' / '#rgb' / '#rrggbbaa' -> [r, g, b(, a)]."""
    text = value.strip().lstrip("#")
    if len(text) in (3, 4):
        text = "".join(ch * 2 for ch in text)
    return [int(text[i : i + 2], 16) for i in range(0, len(text), 2)]


def background_for(image: pyvips.Image, color: str | None, fmt: str) -> list[float]:
    """A fill colour matching the image's bands; transparent by default where the format has alpha."""
    bands = image.bands
    if color is None:
        if fmt in ("png", "webp", "avif", "tiff", "gif", "heic", "heif"):
            return [0] * (bands - 1) + [0] if image.hasalpha() else ([255] * bands)
        return [255] * bands
    rgba = hex_color(color)
    if bands <= 2:  # greyscale (+alpha)
        grey = round(0.2126 * rgba[0] + 0.7152 * rgba[1] + 0.0722 * rgba[2])
        return [grey, rgba[3] if len(rgba) == 4 else 255][:bands]
    if bands == 3:
        return rgba[:3]
    return rgba[:3] + [rgba[3] if len(rgba) == 4 else 255]


def with_alpha(image: pyvips.Image) -> pyvips.Image:
    return image if image.hasalpha() else image.bandjoin(255)


def encode(image: pyvips.Image, fmt: str, quality: int | None = None, *, strip: bool = True) -> bytes:
    """Encode to bytes in `fmt` (a key of EXTENSIONS)."""
    q = quality or DEFAULT_QUALITY.get(fmt, 85)
    keep = "icc" if strip else "all"
    try:
        if fmt in ("heic", "heif"):
            return _encode_hevc(image, q)
        if fmt == "jpeg":
            if image.hasalpha():
                image = image.flatten(background=[255] * (image.bands - 1))
            return image.jpegsave_buffer(Q=q, keep=keep, optimize_coding=True, subsample_mode="auto")
        if fmt == "png":
            if quality and quality < 100:
                return image.pngsave_buffer(palette=True, Q=q, keep=keep, compression=6)
            return image.pngsave_buffer(keep=keep, compression=6)
        if fmt == "webp":
            return image.webpsave_buffer(Q=q, keep=keep)
        if fmt == "avif":
            return image.heifsave_buffer(Q=q, compression="av1", keep=keep, effort=2)
        if fmt == "tiff":
            return image.tiffsave_buffer(compression="jpeg" if quality and quality < 100 else "deflate", Q=q, keep=keep)
        if fmt == "gif":
            return image.gifsave_buffer(keep=keep)
    except pyvips.Error:
        raise _vips_error("encoded") from None
    raise bad_input(f"Unsupported output format: {fmt}")


def _encode_hevc(image: pyvips.Image, quality: int) -> bytes:
    import pillow_heif
    from PIL import Image

    if image.format != "uchar":
        image = image.cast("uchar")
    if image.bands in (1, 2):
        image = image.colourspace("srgb")
    mode = "RGBA" if image.bands == 4 else "RGB"
    pil = Image.frombytes(mode, (image.width, image.height), image.write_to_memory())
    buffer = io.BytesIO()
    pillow_heif.from_pillow(pil).save(buffer, quality=quality)
    return buffer.getvalue()


def save(image: pyvips.Image, workdir: Path, stem: str, fmt: str, quality: int | None = None) -> Path:
    fmt = output_format(fmt)
    data = encode(image, fmt, quality)
    out = workdir / f"{stem}.{EXTENSIONS[fmt]}"
    out.write_bytes(data)
    return out


def run_vips(action: str, fn, *args, **kwargs):
    """Call a libvips operation, turning its errors (which may contain paths) into a safe message."""
    try:
        return fn(*args, **kwargs)
    except pyvips.Error:
        raise _vips_error(action) from None


def load_shrunk(
    path: Path, header: pyvips.Image, fmt: str, need_w: int, need_h: int, *, header_is_sequential: bool = False
) -> pyvips.Image:
    """Decode with shrink-on-load (JPEG DCT scaling, WebP scaled decode) to no less than need_w×need_h
    (upright), strictly (a truncated file fails), then apply EXIF orientation.

    header_is_sequential: the header came from open_image(access="sequential") and no pixel of it was read
    yet. Where no shrink applies (PNG, GIF, TIFF, a JPEG at full scale...) it is then the very image a new
    open would give, and is decoded as it is instead of parsing the file a second time."""
    if fmt in IN_MEMORY:
        return header.autorot()
    w, h = header.width, header.height
    if orientation(header) in (5, 6, 7, 8):
        need_w, need_h = need_h, need_w
    options: dict = {"access": "sequential", "fail_on": "warning"}
    if fmt == "jpeg":
        shrink = 1
        for factor in (8, 4, 2):
            if w // factor >= need_w and h // factor >= need_h:
                shrink = factor
                break
        if shrink > 1:
            options["shrink"] = shrink
    elif fmt == "webp":
        scale = max(need_w / w, need_h / h)
        if scale < 1:
            options["scale"] = max(scale, 1 / 1024)
    try:
        if header_is_sequential and len(options) == 2:
            return header.autorot()
        image = pyvips.Image.new_from_file(str(path), **options)
        return image.autorot()
    except pyvips.Error:
        raise _vips_error("decoded") from None


def resize_exact(image: pyvips.Image, width: int, height: int) -> pyvips.Image:
    """Scale to exactly width×height (aspect may change)."""
    out = image.resize(width / image.width, vscale=height / image.height)
    if out.width != width or out.height != height:
        out = out.gravity("centre", width, height, extend="copy")
    return out
