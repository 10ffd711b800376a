"""Scratch files that uploads are written into, reused from one job to the next.

Writing an upload into a new file makes the kernel allocate every page of it (and the filesystem reserve
its blocks), and removing the file after the job frees them all again: for a 3 MB photo, about half of
what the event loop spends receiving it, and as much again on the janitor's thread. So a finished job's
uploads are not removed but moved here (a rename: the file keeps its pages), and a new upload is written
over one of them: renamed into its job's folder, written from offset 0 and cut to its own length when
closed, so nothing of the earlier upload is left in it by the time anything reads it.

A file is taken back only while it has no other name: a tool may hard-link its input elsewhere (the
background-removal cache keeps the upload for /effects), and writing over that inode would change the
other name's content. The spool keeps at most MAX_FILES files of MAX_FILE_BYTES each, MAX_BYTES in all;
the rest are removed as before. Taking back runs on the janitor's thread, reuse on the event loop: the
free list is a deque, whose append and pop are atomic.
"""

from __future__ import annotations

import itertools
import os
import shutil
from collections import deque
from pathlib import Path
from typing import BinaryIO

MAX_FILES = 16
MAX_FILE_BYTES = 64 << 20
MAX_BYTES = 256 << 20
WRITE_BUFFER = 64 << 10  # small writes (part headers' neighbours) gather here; body chunks bypass it


class Spool:
    def __init__(self, folder: Path, *, max_files: int = MAX_FILES, max_file_bytes: int = MAX_FILE_BYTES,
                 max_bytes: int = MAX_BYTES) -> None:
        self.folder = folder
        self.max_files, self.max_file_bytes, self.max_bytes = max_files, max_file_bytes, max_bytes
        self._free: deque[tuple[Path, int]] = deque()
        self._names = itertools.count()

    def reset(self) -> None:
        """Start empty (scratch files of an earlier run are removed)."""
        self._free.clear()
        shutil.rmtree(self.folder, ignore_errors=True)
        self.folder.mkdir(parents=True, exist_ok=True)

    @property
    def held_bytes(self) -> int:
        return sum(size for _, size in list(self._free))

    def open(self, path: Path) -> tuple[BinaryIO, bool]:
        """A new file at `path`, open for writing from its start, and whether it reuses a scratch file
        (then the writer must truncate it where it stops writing)."""
        while True:
            try:
                scratch, _size = self._free.pop()
            except IndexError:
                return open(path, "wb", buffering=WRITE_BUFFER), False  # noqa: SIM115 - the caller closes it
            try:
                os.rename(scratch, path)  # `path` is new: it is in a job's fresh upload folder
            except OSError:  # the scratch file went missing: take the next
                continue
            return open(path, "r+b", buffering=WRITE_BUFFER), True  # noqa: SIM115 - the caller closes it

    def reclaim(self, folder: Path) -> None:
        """Remove a finished job's upload folder, keeping its files as scratch files while there is room.
        (On the janitor's thread.)"""
        try:
            entries = list(os.scandir(folder))
        except OSError:
            entries = []
        held = self.held_bytes
        for entry in entries:
            if len(self._free) >= self.max_files:
                break
            try:
                info = entry.stat(follow_symlinks=False)
            except OSError:
                continue
            if not entry.is_file(follow_symlinks=False) or info.st_nlink != 1 or info.st_size > self.max_file_bytes \
                    or held + info.st_size > self.max_bytes:
                continue
            scratch = self.folder / f"scratch-{next(self._names)}"
            try:
                os.rename(entry.path, scratch)
            except OSError:  # the spool's folder is gone, or on another filesystem: just remove it
                continue
            self._free.append((scratch, info.st_size))
            held += info.st_size
        shutil.rmtree(folder, ignore_errors=True)
