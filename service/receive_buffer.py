"""h11's receive buffer without its copies of request bodies.

h11 (under Hypercorn) copies every body byte three times before the app sees it: `buffer += data` into a
bytearray, a slice in `maybe_extract_at_most` that only checks for emptiness, and the slice it returns.
Hypercorn then copies that bytearray into bytes: CPU of the event loop spent on every upload byte.

`PassThroughBuffer` keeps a chunk exactly as the socket delivered it while nothing else is buffered, and
hands it on whole when the body reader asks for at least that much: the same `bytes` object then reaches
the app (Hypercorn's `bytes(data)` of a bytes object is the object itself). Every other use (request
lines and headers, a chunk holding the end of one message and the start of the next) first moves the
held chunk into h11's own bytearray and runs h11's code unchanged, so parsing, limits and errors are
h11's. `install()` puts it in place for the h11 version it was checked against, and only that one.
"""

from __future__ import annotations

import h11
from h11 import _connection
from h11._receivebuffer import ReceiveBuffer

CHECKED_H11 = ("0.16.0",)


class PassThroughBuffer(ReceiveBuffer):
    def __init__(self) -> None:
        super().__init__()
        self._held: bytes | None = None  # a whole received chunk, while the bytearray is empty

    def _spill(self) -> None:
        if self._held is not None:
            self._data += self._held
            self._held = None

    def __iadd__(self, byteslike):
        if self._held is None and not self._data and type(byteslike) is bytes:
            self._held = byteslike
        else:
            self._spill()
            self._data += byteslike
        return self

    def __len__(self) -> int:
        return len(self._held) if self._held is not None else len(self._data)

    def __bytes__(self) -> bytes:
        self._spill()
        return bytes(self._data)

    def maybe_extract_at_most(self, count: int):
        held = self._held
        if held is not None and count >= len(held):
            self._held = None
            self._next_line_search = 0
            self._multiple_lines_search = 0
            return held
        self._spill()
        if not self._data or count <= 0:  # h11: `out = self._data[:count]; if not out: return None`
            return None
        return self._extract(count)

    def maybe_extract_next_line(self):
        self._spill()
        return super().maybe_extract_next_line()

    def maybe_extract_lines(self):
        self._spill()
        return super().maybe_extract_lines()

    def is_next_line_obviously_invalid_request_line(self) -> bool:
        self._spill()
        return super().is_next_line_obviously_invalid_request_line()


def install() -> bool:
    """Use the pass-through buffer in new h11 connections; False (stock h11 kept) on an unchecked version."""
    if h11.__version__ not in CHECKED_H11:
        return False
    _connection.ReceiveBuffer = PassThroughBuffer
    return True
