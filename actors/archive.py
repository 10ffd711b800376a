"""ZIP archives of results: a tool's several outputs, a batch's files as they arrive, a pipeline's outputs.

Files that are already compressed (images, video, audio, archives) are stored, everything else deflated;
every entry gets a unique name within its archive."""

from __future__ import annotations

import zipfile
from pathlib import Path
from types import TracebackType

STORED = {".jpg", ".jpeg", ".png", ".webp", ".avif", ".heic", ".heif", ".gif", ".zip", ".mp4", ".mp3", ".webm"}


def unique_name(name: str, used: set[str]) -> str:
    """`name`, or `name_1.ext`, `name_2.ext`... whichever is not in `used` yet (and is then added)."""
    candidate, n = name, 1
    stem, dot, ext = name.rpartition(".")
    if not dot:
        stem, ext = name, ""
    while candidate in used:
        candidate = f"{stem}_{n}.{ext}" if ext else f"{stem}_{n}"
        n += 1
    used.add(candidate)
    return candidate


class Archive:
    """A ZIP written entry by entry (a batch's grows on disk as its results arrive)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._zip = zipfile.ZipFile(path, "w")
        self._used: set[str] = set()

    def add(self, source: Path, name: str | None = None) -> str:
        """Add `source` as `name` (its own name by default), made unique; returns the name it got."""
        arcname = unique_name(name or source.name, self._used)
        method = zipfile.ZIP_STORED if source.suffix.lower() in STORED else zipfile.ZIP_DEFLATED
        self._zip.write(source, arcname=arcname, compress_type=method)
        return arcname

    def close(self) -> None:
        self._zip.close()

    def __enter__(self) -> Archive:
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()


def write_zip(path: Path, files: list[Path]) -> None:
    with Archive(path) as archive:
        for source in files:
            archive.add(source)
