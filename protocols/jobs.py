"""Job messages: a request becomes a `Job`; its actor answers with `Progress`, then one `Done` or `Failed`."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum

from protocols.errors import ErrorCode
from protocols.tools import ToolCall, ToolResult


class JobState(StrEnum):
    QUEUED = "queued"
    PROCESSING = "processing"
    COMPLETED = "completed"
    FAILED = "failed"
    CANCELED = "canceled"

    @property
    def terminal(self) -> bool:
        return self in (JobState.COMPLETED, JobState.FAILED, JobState.CANCELED)


@dataclass(frozen=True, slots=True)
class Progress:
    job_id: str
    progress: float  # 0..100
    message: str | None = None


@dataclass(frozen=True, slots=True)
class Done:
    job_id: str
    result: ToolResult


@dataclass(frozen=True, slots=True)
class Failed:
    job_id: str
    code: ErrorCode
    message: str
    status: int = 422


JobEvent = Progress | Done | Failed


@dataclass(slots=True)
class Job:
    """One unit of work for one actor.

    `reply` is called with each of the job's events, synchronously, in the task that produced the event
    (the actor's, or the one that canceled the job before it started), and handles it at once: it must
    neither block nor raise. Each job gets `Progress` events, then exactly one `Done` or `Failed`."""

    id: str
    tool_id: str
    call: ToolCall
    deadline_s: float
    reply: Callable[[JobEvent], None]
