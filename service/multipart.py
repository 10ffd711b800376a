"""A streaming multipart/form-data parser: bytes in, part events out, no body held in memory.

The delimiter search is `bytes.find`; part headers are parsed with a small, strict parser (no `email`
module on the hot path). Only what form uploads use is supported: Content-Disposition with name/filename
(and RFC 5987 filename*), Content-Type; at most 64 parts' headers of 16 KiB each.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from urllib.parse import unquote

MAX_HEADER_BYTES = 16 * 1024


class MultipartError(ValueError):
    """The body is not valid multipart/form-data."""


_PARAM = re.compile(r';\s*([A-Za-z0-9!#$%&\'*+.^_`|~-]+\*?)\s*=\s*("(?:[^"\\]|\\.)*"|[^;]*)')
_BOUNDARY = re.compile(r'boundary=("(?:[^"\\]|\\.)*"|[^;,\s]+)', re.I)
_PADDING = re.compile(rb"[ \t]*")


def boundary_of(content_type: str) -> bytes:
    match = _BOUNDARY.search(content_type or "")
    if not match:
        raise MultipartError("no boundary")
    value = match.group(1)
    if value.startswith('"'):
        value = value[1:-1].replace('\\"', '"')
    if not 1 <= len(value) <= 200:
        raise MultipartError("bad boundary")
    return value.encode("latin-1")


def parse_disposition(value: str) -> dict[str, str]:
    """'form-data; name="a"; filename="b.jpg"' -> {"name": "a", "filename": "b.jpg"}."""
    params: dict[str, str] = {}
    for key, raw in _PARAM.findall(";" + value.split(";", 1)[1] if ";" in value else ""):
        key = key.lower()
        raw = raw.strip()
        if raw.startswith('"') and raw.endswith('"') and len(raw) >= 2:
            raw = re.sub(r"\\(.)", r"\1", raw[1:-1])
        if key.endswith("*"):  # RFC 5987: charset'lang'percent-encoded
            charset, _, rest = raw.partition("'")
            _, _, encoded = rest.partition("'")
            try:
                params[key[:-1]] = unquote(encoded, encoding=charset or "utf-8", errors="strict")
            except (LookupError, UnicodeDecodeError):
                continue
        elif key not in params:
            params[key] = raw
    return params


def parse_headers(block: bytes) -> dict[str, str]:
    headers: dict[str, str] = {}
    for line in block.split(b"\r\n"):
        if not line:
            continue
        name, sep, value = line.partition(b":")
        if not sep:
            raise MultipartError("bad part header")
        # browsers send UTF-8 file names raw in the header
        headers[name.strip().decode("latin-1").lower()] = value.strip().decode("utf-8", errors="replace")
    return headers


class MultipartParser:
    """Feed chunks with `feed`; `on_part(headers) -> sink` is called at each part's start, the sink
    gets `write(bytes)` calls and a final `close()`. Call `finish()` after the last chunk."""

    def __init__(self, boundary: bytes, on_part: Callable[[dict[str, str]], object]) -> None:
        self.delimiter = b"\r\n--" + boundary
        self.on_part = on_part
        self.buffer = b"\r\n"  # so a body starting with the first boundary matches the delimiter
        self.state = "preamble"
        self.sink = None

    def feed(self, data: bytes) -> None:
        if self.state == "body" and len(data) > 2 * len(self.delimiter):
            at = self._feed_body(data, 0)  # the hot path: a chunk inside a part
            if at is None:
                return
            buffer = data
        else:
            buffer = self.buffer + data if self.buffer else data
            self.buffer, at = b"", 0
        # Offsets into `buffer` rather than slices of it: a slice of a chunk is a copy, and the first
        # chunk of an upload (part headers, then the start of a file) would be copied several times.
        while True:
            if self.state == "preamble":
                found = buffer.find(self.delimiter, at)
                if found < 0:
                    self.buffer = buffer[max(at, len(buffer) - len(self.delimiter)):]
                    return
                at = found + len(self.delimiter)
                self.state = "after-delimiter"
            if self.state == "after-delimiter":
                if len(buffer) - at < 2:
                    break
                if buffer.startswith(b"--", at):
                    self.state = "end"
                    return
                if not buffer.startswith(b"\r\n", at):
                    # transport padding is allowed before the CRLF
                    padded = _PADDING.match(buffer, at).end()
                    if len(buffer) - padded < 2:
                        break
                    if not buffer.startswith(b"\r\n", padded):
                        raise MultipartError("bad delimiter line")
                    at = padded
                at += 2
                self.state = "headers"
            if self.state == "headers":
                found = buffer.find(b"\r\n\r\n", at)
                if found < 0:
                    if buffer.startswith(b"\r\n", at):  # a part with no headers at all
                        raise MultipartError("part without headers")
                    if len(buffer) - at > MAX_HEADER_BYTES:
                        raise MultipartError("part headers too large")
                    break
                self.sink = self.on_part(parse_headers(buffer[at:found]))
                at = found + 4
                self.state = "body"
            if self.state == "body":
                at = self._feed_body(buffer, at)
                if at is None:
                    return
                continue
            if self.state == "end":
                return
        self.buffer = buffer[at:]

    def _feed_body(self, data: bytes, start: int) -> int | None:
        """Inside a part: write data[start:] up to the delimiter without copying it, after the fewer
        than len(delimiter) bytes held back from the last chunk (only a chunk longer than two delimiters
        comes here with such a tail). Returns the offset just past a delimiter found in `data` (the
        general loop goes on from there), or None when all of it was body."""
        delimiter, keep = self.delimiter, len(self.delimiter) - 1
        tail = self.buffer
        if tail:
            # any delimiter starting inside the tail ends within tail + data[start:start + keep]
            joint = tail + data[start:start + keep]
            found = joint.find(delimiter)
            if found >= 0:
                self._write(joint[:found])
                self._close()
                self.buffer, self.state = b"", "after-delimiter"
                return start + found + len(delimiter) - len(tail)
            self._write(tail)
            self.buffer = b""
        found = data.find(delimiter, start)
        if found >= 0:
            self._write(memoryview(data)[start:found])
            self._close()
            self.state = "after-delimiter"
            return found + len(delimiter)
        held = max(start, len(data) - keep)  # a delimiter may straddle the next chunk
        self._write(memoryview(data)[start:held])
        self.buffer = data[held:]
        return None

    def _write(self, data: bytes) -> None:
        if data and self.sink is not None:
            self.sink.write(data)

    def _close(self) -> None:
        if self.sink is not None:
            self.sink.close()
            self.sink = None

    def finish(self) -> None:
        if self.state != "end":
            raise MultipartError("the body ended before the closing boundary")
