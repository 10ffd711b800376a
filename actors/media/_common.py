"""Settings pieces shared by several media tools."""

from __future__ import annotations

from pydantic import Field, model_validator

from protocols.errors import bad_input
from protocols.tools import ToolSettings

MAX_SECONDS = 24 * 3600.0


class TimeRange(ToolSettings):
    """startS / endS with end after start (checked here, so a bad range is a 400 before any upload work)."""

    start_s: float = Field(0.0, ge=0, le=MAX_SECONDS, description="Start time in seconds")
    end_s: float | None = Field(None, gt=0, le=MAX_SECONDS, description="End time in seconds (default: the end)")

    @model_validator(mode="after")
    def _end_after_start(self):
        if self.end_s is not None and self.end_s <= self.start_s:
            raise ValueError("endS must be after startS")
        return self


def clamp_range(start: float, end: float | None, duration: float, name: str) -> tuple[float, float]:
    """The [start, end) actually available in a file of `duration` seconds; a start past the end is a 400."""
    if duration > 0 and start >= duration:
        raise bad_input(f"startS ({start:g} s) is past the end of '{name}' ({duration:.2f} s).")
    stop = duration if end is None or (duration > 0 and end > duration) else end
    return start, stop
