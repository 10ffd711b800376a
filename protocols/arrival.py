"""An input that is still arriving: the upload's file as it grows on disk, for tools that start early.

A stream copy (e.g. a fast trim) is dominated by fixed costs, chiefly starting ffmpeg and ffprobe; a tool
that declares `early=True` may be started as soon as its file part's first bytes are in, and read the file
as the upload writes it (`chunks()`), so that those costs overlap the upload instead of following it.
The HTTP side writes, flushes and calls `grew()`; when the whole request has been received and checked it
calls `complete()`, or `fail()` when it is refused or cut off. A tool must not return a result before
`wait()` has returned: only a completely received, accepted upload may produce one.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import trio

from protocols.errors import ErrorCode, ToolError


class InputAborted(ToolError):
    """The upload an early-started job was reading did not complete (refused, cut off, or too large). The
    request's own answer says why; the job ends canceled."""

    def __init__(self, message: str = "The upload did not complete.") -> None:
        super().__init__(message, ErrorCode.CANCELED)


class ArrivingFile:
    def __init__(self, path: Path, head: bytes) -> None:
        self.path = path
        self.head = head  # the first bytes, as sniffed (at most service.sniff.HEAD_BYTES)
        self.size = 0  # bytes written and flushed so far
        self.state = "arriving"  # then "complete" or "failed"
        self._changed = trio.Event()

    # ---- the writer (the HTTP side) ------------------------------------------------------------------
    def grew(self, size: int) -> None:
        self.size = size
        self._wake()

    def complete(self) -> None:
        if self.state == "arriving":
            self.state = "complete"
            self._wake()

    def fail(self) -> None:
        if self.state == "arriving":
            self.state = "failed"
            self._wake()

    def _wake(self) -> None:
        changed, self._changed = self._changed, trio.Event()
        changed.set()

    # ---- the reader (the tool) -----------------------------------------------------------------------
    async def wait(self) -> None:
        """Until the upload is complete and accepted; raises InputAborted if it is not."""
        while self.state == "arriving":
            await self._changed.wait()
        if self.state == "failed":
            raise InputAborted()

    async def chunks(self, size: int = 1 << 20) -> AsyncIterator[bytes]:
        """The file from its first byte, chunk by chunk as it arrives, to its end."""
        with open(self.path, "rb") as fh:  # noqa: ASYNC230 - page-cache reads of data just written
            position = 0
            while True:
                if self.state == "failed":
                    raise InputAborted()
                if position < self.size:
                    data = fh.read(min(size, self.size - position))
                    if not data:
                        raise InputAborted("The upload's file was removed.")
                    position += len(data)
                    yield data
                    continue
                if self.state == "complete":
                    return
                await self._changed.wait()
