"""Where stored files live, behind one small interface: put, open, range read, delete, list by prefix.

Keys are relative, '/'-separated names ("<fileId>/photo.jpg"). `LocalStorage` keeps them under a folder,
which may be a shared filesystem (NFS, CephFS) that several nodes mount: STORAGE_ROOT. Another backend (an
S3-compatible one) implements the same methods; `local_path` is what lets tools and file responses use a
file in place where the backend has one.
"""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Protocol


@dataclass(frozen=True, slots=True)
class StoredObject:
    key: str
    size: int


class Storage(Protocol):
    def put(self, key: str, source: Path, *, move: bool = False) -> int: ...
    def open(self, key: str) -> BinaryIO: ...
    def read_range(self, key: str, start: int, length: int) -> bytes: ...
    def delete(self, key: str) -> bool: ...
    def delete_prefix(self, prefix: str) -> int: ...
    def list(self, prefix: str = "") -> list[StoredObject]: ...
    def local_path(self, key: str) -> Path: ...


class InvalidKey(ValueError):
    pass


class LocalStorage:
    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    def local_path(self, key: str) -> Path:
        """The file of `key`; a key that is absolute, empty, or steps out of the root is refused."""
        parts = key.split("/")
        if not key or key.startswith("/") or "\x00" in key or "\\" in key \
                or any(p in ("", ".", "..") for p in parts):
            raise InvalidKey(f"invalid storage key: {key!r}")
        return self.root.joinpath(*parts)

    def put(self, key: str, source: Path, *, move: bool = False) -> int:
        """Store the file at `source` under `key` (moved when `move`, else copied); its size."""
        target = self.local_path(key)
        target.parent.mkdir(parents=True, exist_ok=True)
        if move:
            shutil.move(source, target)
        else:
            shutil.copyfile(source, target)
        return target.stat().st_size

    def open(self, key: str) -> BinaryIO:
        return self.local_path(key).open("rb")

    def read_range(self, key: str, start: int, length: int) -> bytes:
        """Up to `length` bytes from offset `start` (fewer at the end of the object)."""
        if start < 0 or length < 0:
            raise ValueError("start and length must not be negative")
        with self.open(key) as f:
            return os.pread(f.fileno(), length, start)

    def delete(self, key: str) -> bool:
        try:
            self.local_path(key).unlink()
            return True
        except FileNotFoundError:
            return False

    def delete_prefix(self, prefix: str) -> int:
        """Every object whose key starts with `prefix` (a folder's worth when it ends with '/')."""
        removed = 0
        for obj in self.list(prefix):
            removed += self.delete(obj.key)
        if prefix.endswith("/"):  # and the folder itself, now empty (or holding only what appeared since)
            shutil.rmtree(self.local_path(prefix.rstrip("/")), ignore_errors=True)
        return removed

    def list(self, prefix: str = "") -> list[StoredObject]:
        """Objects whose keys start with `prefix`, sorted by key."""
        folder, _, _ = prefix.rpartition("/")
        start = self.local_path(folder) if folder else self.root
        if not start.is_dir():
            return []
        found = []
        for dirpath, _dirs, names in os.walk(start):
            for name in names:
                path = Path(dirpath) / name
                key = path.relative_to(self.root).as_posix()
                if key.startswith(prefix):
                    try:
                        found.append(StoredObject(key, path.stat().st_size))
                    except FileNotFoundError:
                        continue
        return sorted(found, key=lambda o: o.key)
