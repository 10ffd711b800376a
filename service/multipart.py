"""A streaming multipart/form-data parser: bytes in, part events out, no body held in memory.

The delimiter search is `bytes.find` (C speed); part headers are parsed with a small, strict parser
(no `email` module on the hot path). Only what form uploads use is supported: Content-Disposition
with name/filename (and RFC 5987 filename*), Content-Type; at most 64 parts' headers of 16 KiB each.
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
            rest = self._feed_body(data)
            if rest is None:
                return
            data = rest
        buffer = self.buffer + data if self.buffer else data
        while True:
            if self.state == "preamble":
                at = buffer.find(self.delimiter)
                if at < 0:
                    buffer = buffer[-len(self.delimiter):]
                    break
                buffer = buffer[at + len(self.delimiter):]
                self.state = "after-delimiter"
            if self.state == "after-delimiter":
                if len(buffer) < 2:
                    break
                if buffer[:2] == b"--":
                    self.state = "end"
                    buffer = b""
                    break
                if buffer[:2] != b"\r\n":
                    # transport padding is allowed before the CRLF
                    stripped = buffer.lstrip(b" \t")
                    if len(stripped) < 2:
                        break
                    if stripped[:2] != b"\r\n":
                        raise MultipartError("bad delimiter line")
                    buffer = stripped
                buffer = buffer[2:]
                self.state = "headers"
            if self.state == "headers":
                at = buffer.find(b"\r\n\r\n")
                if at < 0:
                    if buffer.startswith(b"\r\n"):  # a part with no headers at all
                        raise MultipartError("part without headers")
                    if len(buffer) > MAX_HEADER_BYTES:
                        raise MultipartError("part headers too large")
                    break
                self.sink = self.on_part(parse_headers(buffer[:at]))
                buffer = buffer[at + 4:]
                self.state = "body"
            if self.state == "body":
                at = buffer.find(self.delimiter)
                if at < 0:
                    keep = len(self.delimiter) - 1  # a delimiter may straddle the next chunk
                    if len(buffer) > keep:
                        self._write(buffer[:-keep] if keep else buffer)
                        buffer = buffer[-keep:] if keep else b""
                    break
                self._write(buffer[:at])
                self._close()
                buffer = buffer[at + len(self.delimiter):]
                self.state = "after-delimiter"
                continue
            if self.state == "end":
                buffer = b""
                break
        self.buffer = buffer

    def _feed_body(self, data: bytes) -> bytes | None:
        """The hot path, inside a file part: no copy of the chunk. Returns what follows a delimiter
        found in this chunk (the general loop goes on from there), or None when it was all body."""
        delimiter, keep = self.delimiter, len(self.delimiter) - 1
        tail = self.buffer  # fewer than len(delimiter) bytes held back from the last chunk
        if tail:
            # any delimiter starting inside the tail ends within tail + data[:keep]
            joint = tail + data[:keep]
            at = joint.find(delimiter)
            if at >= 0:
                self._write(joint[:at])
                self._close()
                self.buffer, self.state = b"", "after-delimiter"
                return data[at + len(delimiter) - len(tail):]
            self._write(tail)
            self.buffer = b""
        at = data.find(delimiter)
        if at >= 0:
            self._write(memoryview(data)[:at])
            self._close()
            self.state = "after-delimiter"
            return data[at + len(delimiter):]
        self._write(memoryview(data)[:-keep])
        self.buffer = data[-keep:]
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
