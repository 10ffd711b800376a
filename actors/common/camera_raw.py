"""Recognising camera RAW files, which the upload sniffer cannot: the server uses it to decide that a file
can have a thumbnail or preview at all, the image family to decode it with LibRaw instead of libvips."""

from __future__ import annotations

import struct
from pathlib import Path

# Camera RAW files by name. Most are TIFF underneath, so libvips would "decode" them as the undemosaiced
# sensor mosaic (or a tiny embedded thumbnail): rawpy (LibRaw) goes first for these.
RAW_SUFFIXES = frozenset({".dng", ".cr2", ".cr3", ".crw", ".nef", ".nrw", ".arw", ".srf", ".sr2", ".raf", ".orf",
                          ".rw2", ".rwl", ".pef", ".srw", ".x3f", ".3fr", ".erf", ".kdc", ".dcr", ".mrw", ".mos",
                          ".iiq", ".mef"})
_DNG_VERSION_TAG = 50706


def is_camera_raw(path: str | Path) -> bool:
    """A camera RAW: by its name, or a DNG under any name (a TIFF whose first IFD carries DNGVersion)."""
    if Path(path).suffix.lower() in RAW_SUFFIXES:
        return True
    try:
        with open(path, "rb") as fh:
            head = fh.read(8)
            if head[:4] not in (b"II*\x00", b"MM\x00*"):
                return False
            order = "<" if head[:2] == b"II" else ">"
            fh.seek(struct.unpack(order + "I", head[4:8])[0])
            (count,) = struct.unpack(order + "H", fh.read(2))
            entries = fh.read(12 * min(count, 1000))
        return any(struct.unpack_from(order + "H", entries, i)[0] == _DNG_VERSION_TAG
                   for i in range(0, len(entries) - 11, 12))
    except (OSError, struct.error):
        return False


def tiff_based(path: str | Path) -> bool:
    try:
        with open(path, "rb") as fh:
            return fh.read(4) in (b"II*\x00", b"MM\x00*")
    except OSError:
        return False
