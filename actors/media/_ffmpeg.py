"""Running ffmpeg for the video and audio tools: from an argument list (never a shell), its
`-progress pipe:1` output scaled by the probed duration into `call.progress`, killed at once on cancel or
deadline, stderr kept for the log only; and the paths, scratch folders and filter escaping its arguments
need. Probing is in ffprobe.py, codecs and containers in _codecs.
"""

from __future__ import annotations

import contextlib
import logging
import shutil
import subprocess
import tempfile
from collections.abc import Iterator, Sequence
from functools import partial
from pathlib import Path

import trio

from actors import sandbox
from actors.processes import lowered
from protocols.errors import ErrorCode, ToolError
from protocols.tools import ToolCall

log = logging.getLogger("lutra.media")


FFMPEG = shutil.which("ffmpeg") or "ffmpeg"


FONT = next((str(p) for p in (Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"),
                              Path("/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf"),
                              Path("/usr/share/fonts/truetype/liberation2/LiberationSans-Regular.ttf"))
             if p.is_file()), "DejaVuSans.ttf")


DEFAULT_TIMEOUT_S = 4 * 3600  # the job deadline normally ends things first


async def stop_process(process: trio.Process) -> None:
    """Cancel and deadline: stop ffmpeg (and its sandbox) at once, not after a grace period."""
    await sandbox.kill(process)


def file_arg(path: Path | str) -> str:
    """Local paths always through the file protocol: a name can never be read as another protocol or option."""
    return f"file:{path}"


# ---- progress ------------------------------------------------------------------------------------------
def parse_progress_block(lines: Sequence[str]) -> dict[str, str]:
    out: dict[str, str] = {}
    for line in lines:
        key, sep, value = line.partition("=")
        if sep:
            out[key.strip()] = value.strip()
    return out


def out_time_s(block: dict[str, str]) -> float | None:
    """Seconds of output written, from a `-progress` block (out_time_us; out_time_ms is also µs in ffmpeg)."""
    for key in ("out_time_us", "out_time_ms"):
        raw = block.get(key)
        if raw and raw.lstrip("-").isdigit():
            return max(0.0, int(raw) / 1_000_000)
    raw = block.get("out_time")
    if raw and ":" in raw:
        try:
            h, m, s = raw.split(":")
            return max(0.0, int(h) * 3600 + int(m) * 60 + float(s))
        except ValueError:
            return None
    return None


class ProgressReporter:
    """Scales ffmpeg's out_time by the expected output duration into [start, end] of the job's 0..100."""

    def __init__(self, call: ToolCall | None, duration: float, span: tuple[float, float], message: str | None):
        self.call, self.duration, self.span, self.message = call, duration, span, message
        self.last = -1.0

    def update(self, block: dict[str, str]) -> None:
        if self.call is None or self.call.progress is None:
            return
        start, end = self.span
        if block.get("progress") == "end":
            percent = end
        else:
            seconds = out_time_s(block)
            if seconds is None or self.duration <= 0:
                return
            percent = start + (end - start) * min(1.0, seconds / self.duration)
        percent = round(min(99.0, percent), 1)  # 100 belongs to the finished job
        if percent >= self.last:
            self.last = percent
            self.call.progress(percent, self.message)


async def run(args: Sequence[str], *, call: ToolCall | None = None, duration: float = 0.0,
              span: tuple[float, float] = (0.0, 100.0), message: str | None = None, loglevel: str = "error",
              cwd: Path | None = None, timeout: float = DEFAULT_TIMEOUT_S, what: str = "file") -> str:
    """Run ffmpeg with `args`; return its stderr text (useful with loglevel=info for measuring filters).

    Progress goes to `call.progress`, scaled by `duration` (seconds of output expected). Cancelling the
    surrounding scope (job cancel, job deadline) kills ffmpeg immediately."""
    argv = lowered([FFMPEG, "-hide_banner", "-nostdin", "-y", "-loglevel", loglevel, "-progress", "pipe:1",
                    "-nostats", *args])
    reporter = ProgressReporter(call, duration, span, message)
    stderr_chunks: list[bytes] = []
    stderr_size = 0
    max_stderr = 4 << 20

    async def read_stderr(stream: trio.abc.ReceiveStream) -> None:
        nonlocal stderr_size
        async with stream:
            async for chunk in stream:
                if stderr_size < max_stderr:
                    stderr_chunks.append(chunk)
                    stderr_size += len(chunk)

    async def read_progress(stream: trio.abc.ReceiveStream) -> None:
        pending = b""
        block: list[str] = []
        async with stream:
            async for chunk in stream:
                pending += chunk
                *lines, pending = pending.split(b"\n")
                for raw in lines:
                    line = raw.decode("utf-8", "replace").strip()
                    block.append(line)
                    if line.startswith("progress="):
                        reporter.update(parse_progress_block(block))
                        block = []

    launch = sandbox.prepare(argv, cwd=cwd, timeout_s=timeout)
    try:
        with trio.fail_after(timeout):
            async with trio.open_nursery() as nursery:
                process: trio.Process = await nursery.start(partial(
                    trio.run_process, launch.argv, env=launch.env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                    check=False, deliver_cancel=stop_process, cwd=str(cwd) if cwd else None))
                nursery.start_soon(read_stderr, process.stderr)
                nursery.start_soon(read_progress, process.stdout)
    except trio.TooSlowError:
        raise ToolError(f"Processing the {what} took longer than {timeout:g} s.", ErrorCode.TIMEOUT, 504) from None
    stderr = b"".join(stderr_chunks).decode("utf-8", "replace")
    if process.returncode != 0:
        log.warning("ffmpeg failed (%s): %s", process.returncode, stderr[-2000:])
        raise ToolError(f"The {what} could not be processed; it may be corrupt or use an unsupported codec.")
    return stderr


# ---- scratch space and paths -----------------------------------------------------------------------------
@contextlib.contextmanager
def scratch(call: ToolCall) -> Iterator[Path]:
    """A private folder inside the job's workdir for intermediate files; removed afterwards."""
    folder = Path(tempfile.mkdtemp(prefix=".media-", dir=call.workdir))
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def output_path(call: ToolCall, ext: str, index: int = 0, suffix: str = "") -> Path:
    from actors.workers import unique_path

    return unique_path(call.workdir / f"{call.stem(index)}{suffix}.{ext}")


def inp(path: Path) -> list[str]:
    return ["-i", file_arg(path)]


def out(path: Path) -> str:
    return file_arg(path)


# ---- filter escaping -------------------------------------------------------------------------------------
def escape_option(value: str) -> str:
    """Escape a value for a filter option (first level: `\\`, `'`, `:`), then for the filtergraph
    (second level: `\\`, `'`, `[`, `]`, `,`, `;`), as ffmpeg-filters(1) "Notes on filtergraph escaping"."""
    first = value.replace("\\", "\\\\").replace("'", "\\'").replace(":", "\\:")
    out_chars = []
    for ch in first:
        if ch in "\\'[],;":
            out_chars.append("\\" + ch)
        else:
            out_chars.append(ch)
    return "".join(out_chars)


def hex_color(value: str) -> str:
    """'#RRGGBB' / 'RRGGBB' / '#RGB' -> ffmpeg '0xRRGGBB' (validated by the settings pattern first)."""
    text = value.lstrip("#")
    if len(text) == 3:
        text = "".join(c * 2 for c in text)
    return "0x" + text[:6].upper()


HEX_COLOR = r"^#?([0-9a-fA-F]{3}|[0-9a-fA-F]{6})$"
