"""A job's live state with a broadcast of its latest frame: subscribers never queue stale frames,
a late subscriber gets the latest frame first, and the stream ends after the terminal frame."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from typing import Any

import trio

from protocols.jobs import JobState

_TERMINAL = frozenset(s.value for s in JobState if s.terminal)


def file_state(entry: dict[str, Any]) -> dict[str, Any]:
    """One file of a batch as its frame shows it: `{index, filename, status, progress, message?, error?,
    downloadUrl?}`. While the file's job runs its record speaks; once the batch has packed the file (or
    refused it) the entry holds the outcome, with the file's own download."""
    state = {k: v for k, v in entry.items() if not k.startswith("_")}
    rec: JobRecord | None = entry.get("_record")
    if rec is not None:
        state.update(status=rec.status.value, progress=round(rec.progress, 1))
        if rec.message:
            state["message"] = rec.message
        if rec.status.terminal and rec.status is not JobState.COMPLETED:
            state["error"] = rec.error or rec.status.value
    return state


class JobRecord:
    __slots__ = (
        "id", "owner_id", "kind", "tool_id", "status", "progress", "message", "result", "error", "code",
        "http_status", "created_at", "updated_at", "original_size", "batch", "persist", "_changed", "done",
        "input_names", "persisted", "warnings", "parent",
    )

    def __init__(self, job_id: str, owner_id: str | None, kind: str, tool_id: str | None, *, persist: bool = True):
        self.id = job_id
        self.owner_id = owner_id
        self.kind = kind
        self.tool_id = tool_id
        self.status = JobState.QUEUED
        self.progress = 0.0
        self.message: str | None = None
        self.result: dict[str, Any] | None = None
        self.error: str | None = None
        self.code: str | None = None
        self.http_status: int | None = None
        self.created_at = self.updated_at = time.time()
        self.original_size = 0
        self.batch: dict[str, Any] | None = None  # totalFiles, completedFiles, failedFiles, errors
        self.persist = persist
        self._changed = trio.Event()
        self.done = trio.Event()
        self.input_names: list[str] = []
        self.persisted = trio.Event()  # set once the terminal state is committed to the database
        self.warnings: list[str] = []  # about the request (unknown settings), carried into the result body
        self.parent: JobRecord | None = None  # a batch's file job: its changes are its batch's changes too

    # ---- updates (from the job manager's loop) -------------------------------------------
    def update(self, *, status: JobState | None = None, progress: float | None = None, message: str | None = None) -> None:
        if self.status.terminal:
            return
        if status is not None:
            self.status = status
        if progress is not None:
            self.progress = max(0.0, min(100.0, progress))
        if message is not None:
            self.message = message
        self._touch()

    def finish(self, status: JobState, *, result=None, error=None, code=None, http_status=None) -> None:
        if self.status.terminal:
            return
        self.status = status
        self.result, self.error, self.code, self.http_status = result, error, code, http_status
        if status is JobState.COMPLETED:
            self.progress = 100.0
        self._touch()
        self.done.set()

    def _touch(self) -> None:
        self.updated_at = time.time()
        changed, self._changed = self._changed, trio.Event()
        changed.set()
        if self.parent is not None:  # the batch's frame lists this file's state: its subscribers hear of it
            self.parent._touch()

    # ---- reading ------------------------------------------------------------------------
    def frame(self) -> dict[str, Any]:
        frame: dict[str, Any] = {"jobId": self.id, "status": self.status.value, "progress": round(self.progress, 1)}
        if self.message:
            frame["message"] = self.message
        if self.batch is not None:  # private keys (children, per-file records) stay out of the frame
            frame.update({k: v for k, v in self.batch.items() if not k.startswith("_")})
            if "_files" in self.batch:
                frame["files"] = [file_state(entry) for entry in self.batch["_files"]]
        if self.status is JobState.COMPLETED and self.result is not None:
            frame["result"] = self.result
        elif self.status.terminal and self.status is not JobState.COMPLETED:
            frame["error"] = self.error or self.status.value
            frame["code"] = self.code
        return frame

    async def frames(self, keepalive_s: float = 15.0) -> AsyncIterator[dict[str, Any] | None]:
        """Latest frame first, then each change; None asks the caller for a keep-alive ping."""
        while True:
            changed = self._changed
            frame = self.frame()
            yield frame
            # decide on the frame that was sent: a job that ended while that frame was being written has
            # set `changed`, so the loop comes round once more and sends the terminal frame
            if frame["status"] in _TERMINAL:
                return
            with trio.move_on_after(keepalive_s) as scope:
                await changed.wait()
            while scope.cancelled_caught and not changed.is_set():
                yield None
                with trio.move_on_after(keepalive_s) as scope:
                    await changed.wait()

    @classmethod
    def from_row(cls, row: Any) -> JobRecord:
        rec = cls(row.id, row.owner_id, row.kind, row.tool_id, persist=False)
        rec.status = JobState(row.status)
        rec.progress = row.progress or 0.0
        rec.message = row.message
        rec.result = row.result
        rec.error, rec.code, rec.http_status = row.error, row.code, row.http_status
        rec.created_at, rec.updated_at = row.created_at, row.updated_at
        if rec.status.terminal:
            rec.done.set()
            rec.persisted.set()
        return rec
