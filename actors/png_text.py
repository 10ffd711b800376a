"""PNG compressed chunks that inflate to hundreds of megabytes (zTXt, compressed iTXt, iCCP).

libvips and Pillow stop such a chunk at a few MB (libpng's chunk limit), but ExifTool inflates it whole to
report it, and FFmpeg's PNG decoder inflates it on every decode (a slideshow decodes its picture once per
frame): an 80 kB file then costs minutes. The tools that hand PNGs to those programs check them first with
`check(path, name)`: a 400 for a chunk past MAX_CHUNK_BYTES inflated, nothing at all for other files.
"""

from __future__ import annotations

import struct
import zlib
from pathlib import Path

from protocols.errors import bad_input

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
MAX_CHUNK_BYTES = 8 << 20  # libpng's own default limit for one decompressed ancillary chunk
MAX_TOTAL_BYTES = 32 << 20
MAX_CHUNKS = 10_000


def _inflated_size(data: bytes, cap: int) -> int:
    """How many bytes a zlib stream inflates to, counting no further than cap + 1."""
    inflater = zlib.decompressobj()
    total = 0
    try:
        total += len(inflater.decompress(data, cap + 1))
        while inflater.unconsumed_tail and total <= cap:
            total += len(inflater.decompress(inflater.unconsumed_tail, cap + 1 - total))
    except zlib.error:
        pass  # a broken stream inflates to what it gave before breaking
    return total


def compressed_text_sizes(path: Path) -> list[tuple[str, int]]:
    """(chunk type, inflated size up to MAX_CHUNK_BYTES + 1) of each compressed ancillary chunk of a PNG;
    [] for anything that is not a PNG. Reads the chunk headers, and the compressed chunks' bodies only."""
    out: list[tuple[str, int]] = []
    with open(path, "rb") as fh:
        if fh.read(8) != PNG_MAGIC:
            return out
        for _ in range(MAX_CHUNKS):
            header = fh.read(8)
            if len(header) < 8:
                break
            length, kind = struct.unpack(">I4s", header)
            if kind == b"IEND":
                break
            if kind in (b"zTXt", b"iCCP", b"iTXt") and length <= (256 << 20):
                body = fh.read(length)
                fh.seek(4, 1)  # CRC
                name_end = body.find(b"\0")
                if name_end < 0:
                    continue
                if kind == b"iTXt":  # keyword \0 compression-flag method language \0 translated \0 text
                    if len(body) < name_end + 3 or body[name_end + 1] != 1:
                        continue
                    rest = body[name_end + 3:]
                    lang_end = rest.find(b"\0")
                    trans_end = rest.find(b"\0", lang_end + 1) if lang_end >= 0 else -1
                    if trans_end < 0:
                        continue
                    stream = rest[trans_end + 1:]
                else:  # keyword \0 method stream
                    stream = body[name_end + 2:]
                out.append((kind.decode("ascii"), _inflated_size(stream, MAX_CHUNK_BYTES)))
            else:
                fh.seek(length + 4, 1)
    return out


def check(path: Path, name: str) -> None:
    """Refuse a PNG whose compressed text or colour-profile chunks inflate past the limits."""
    sizes = compressed_text_sizes(path)
    if any(size > MAX_CHUNK_BYTES for _, size in sizes) or sum(size for _, size in sizes) > MAX_TOTAL_BYTES:
        raise bad_input(f"'{name}' carries a compressed text or colour-profile chunk that inflates past "
                        f"{MAX_CHUNK_BYTES >> 20} MB (a likely decompression bomb); it is refused.")
