"""Generated inputs for tests: real files, made at test time (nothing binary is committed)."""

from __future__ import annotations

from pathlib import Path

import pyvips
from PIL import Image


def gradient(width: int, height: int) -> pyvips.Image:
    """An RGB image whose colour encodes position, so crops and rotations are checkable."""
    x = pyvips.Image.xyz(width, height)
    r = (x[0] * (255.0 / max(1, width - 1)))
    g = (x[1] * (255.0 / max(1, height - 1)))
    b = pyvips.Image.black(width, height) + 128
    return r.bandjoin([g, b]).cast("uchar").copy(interpretation="srgb")


def build(folder: Path) -> Path:
    img = gradient(400, 300)
    img.jpegsave(str(folder / "photo.jpg"), Q=90)
    img.pngsave(str(folder / "photo.png"))
    img.webpsave(str(folder / "photo.webp"), Q=90)
    with_alpha = img.bandjoin(200)
    with_alpha.pngsave(str(folder / "alpha.png"))
    gradient(4000, 3000).jpegsave(str(folder / "large.jpg"), Q=85)
    gradient(200, 150).pngsave(str(folder / "small.png"))
    # EXIF orientation 6 (rotate 90 cw to view): stored 400x300, seen as 300x400
    rotated = img.copy()
    rotated.set_type(pyvips.GValue.gint_type, "orientation", 6)
    rotated.jpegsave(str(folder / "oriented.jpg"), Q=90, keep="exif")
    # HEIC via pillow-heif, AVIF via libvips
    import pillow_heif

    pil = Image.open(folder / "photo.png").convert("RGB")
    pillow_heif.from_pillow(pil).save(str(folder / "photo.heic"), quality=80)
    img.heifsave(str(folder / "photo.avif"), compression="av1", Q=60)
    # bad inputs
    data = (folder / "photo.jpg").read_bytes()
    (folder / "corrupt.jpg").write_bytes(data[:200] + b"\x00" * 50 + data[-100:])
    (folder / "truncated.jpg").write_bytes(data[: len(data) // 3])
    (folder / "text.png").write_text("this is not an image\n")
    (folder / "empty.png").write_bytes(b"")
    return folder
