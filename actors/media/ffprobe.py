"""ffprobe first, for every video and audio tool: a file that is not media, lacks the stream a tool
needs, or is longer than MAX_VIDEO_DURATION_S is refused (4xx) before any encode starts.
"""

from __future__ import annotations

import json
import logging
import math
import shutil
from collections.abc import Callable, Sequence
from contextvars import ContextVar
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import trio

from actors import sandbox
from actors.media import _ffmpeg as ff
from protocols.errors import ErrorCode, ToolError, bad_input
from protocols.tools import ToolCall

log = logging.getLogger("lutra.media")


FFPROBE = shutil.which("ffprobe") or "ffprobe"


PROBE_TIMEOUT_S = 60


# Set by the MediaActor for the job it runs (0 = unlimited); tools read it through `max_duration()`.
MAX_DURATION_S: ContextVar[float] = ContextVar("lutra_media_max_duration_s", default=0.0)


# demuxers that mean "a still image", not a video
_IMAGE_FORMATS = {"image2", "png_pipe", "jpeg_pipe", "webp_pipe", "bmp_pipe", "tiff_pipe", "gif_pipe", "svg_pipe",
                  "j2k_pipe", "jpegxl_pipe", "psd_pipe", "qoi_pipe", "pam_pipe", "ppm_pipe", "pgm_pipe"}


_IMAGE_CODECS = {"png", "mjpeg", "webp", "bmp", "tiff", "jpeg2000", "jpegxl", "psd", "qoi", "ppm", "pgm", "pam"}


def max_duration() -> float:
    return MAX_DURATION_S.get()


@dataclass(slots=True)
class StreamInfo:
    index: int
    kind: str  # video | audio | subtitle | data | attachment
    codec: str
    width: int = 0
    height: int = 0
    fps: float = 0.0
    rotation: int = 0
    channels: int = 0
    sample_rate: int = 0
    layout: str = ""
    duration: float = 0.0
    frames: int = 0
    attached_pic: bool = False
    tags: dict[str, str] = field(default_factory=dict)

    @property
    def display_size(self) -> tuple[int, int]:
        """Width and height as seen (ffmpeg auto-rotates on decode)."""
        if abs(self.rotation) % 180 == 90:
            return self.height, self.width
        return self.width, self.height


@dataclass(slots=True)
class MediaInfo:
    name: str
    format: str
    duration: float
    streams: list[StreamInfo]
    tags: dict[str, str] = field(default_factory=dict)
    bit_rate: int = 0

    @property
    def video(self) -> StreamInfo | None:
        return next((s for s in self.streams if s.kind == "video" and not s.attached_pic), None)

    @property
    def audio(self) -> StreamInfo | None:
        return next((s for s in self.streams if s.kind == "audio"), None)

    @property
    def subtitles(self) -> list[StreamInfo]:
        return [s for s in self.streams if s.kind == "subtitle"]

    @property
    def is_still_image(self) -> bool:
        v = self.video
        if v is None:
            return False
        if self.format in _IMAGE_FORMATS or self.format.endswith("_pipe"):
            return True
        return v.codec in _IMAGE_CODECS and v.frames <= 1 and self.audio is None and self.duration <= 0.05


def _rate(text: str | None) -> float:
    if not text or text in ("0/0", "N/A"):
        return 0.0
    num, _, den = text.partition("/")
    try:
        value = float(num) / float(den or 1)
    except (ValueError, ZeroDivisionError):
        return 0.0
    return value if math.isfinite(value) else 0.0


def _float(value: Any) -> float:
    try:
        out = float(value)
    except (TypeError, ValueError):
        return 0.0
    return out if math.isfinite(out) and out > 0 else 0.0


def _rotation(stream: dict[str, Any]) -> int:
    for side in stream.get("side_data_list") or []:
        if "rotation" in side:
            try:
                return int(round(float(side["rotation"])))
            except (TypeError, ValueError):
                return 0
    try:
        return int((stream.get("tags") or {}).get("rotate", 0))
    except ValueError:
        return 0


def parse_probe(data: dict[str, Any], name: str) -> MediaInfo:
    streams = []
    for raw in data.get("streams") or []:
        kind = raw.get("codec_type") or "data"
        streams.append(StreamInfo(
            index=int(raw.get("index", len(streams))),
            kind=kind,
            codec=raw.get("codec_name") or "",
            width=int(raw.get("width") or 0),
            height=int(raw.get("height") or 0),
            fps=_rate(raw.get("avg_frame_rate")) or _rate(raw.get("r_frame_rate")),
            rotation=_rotation(raw),
            channels=int(raw.get("channels") or 0),
            sample_rate=int(raw.get("sample_rate") or 0),
            layout=raw.get("channel_layout") or "",
            duration=_float(raw.get("duration")),
            frames=int(raw.get("nb_frames") or 0) if str(raw.get("nb_frames") or "").isdigit() else 0,
            attached_pic=bool((raw.get("disposition") or {}).get("attached_pic")),
            tags={str(k): str(v) for k, v in (raw.get("tags") or {}).items()},
        ))
    fmt = data.get("format") or {}
    duration = _float(fmt.get("duration")) or max((s.duration for s in streams), default=0.0)
    return MediaInfo(
        name=name,
        format=fmt.get("format_name") or "",
        duration=duration,
        streams=streams,
        tags={str(k): str(v) for k, v in (fmt.get("tags") or {}).items()},
        bit_rate=int(_float(fmt.get("bit_rate"))),
    )


async def probe(path: Path, name: str | None = None) -> MediaInfo:
    """ffprobe a file; anything it cannot read is the client's problem (400), with a message naming no path."""
    name = name or path.name
    if not path.is_file() or path.stat().st_size == 0:
        raise bad_input(f"The file '{name}' is empty.")
    argv = [FFPROBE, "-v", "error", "-print_format", "json", "-show_format", "-show_streams", ff.file_arg(path)]
    try:
        with trio.fail_after(PROBE_TIMEOUT_S):
            launch = sandbox.prepare(argv, timeout_s=PROBE_TIMEOUT_S)
            done = await trio.run_process(launch.argv, env=launch.env, capture_stdout=True, capture_stderr=True,
                                          check=False, deliver_cancel=ff.stop_process)
    except trio.TooSlowError:
        raise bad_input(f"'{name}' could not be read in time; it may be corrupt.") from None
    if done.returncode != 0:
        log.info("ffprobe refused %s: %s", name, done.stderr.decode("utf-8", "replace")[-500:])
        raise bad_input(f"'{name}' is not a readable video or audio file; it may be corrupt or truncated.")
    try:
        data = json.loads(done.stdout.decode("utf-8", "replace") or "{}")
    except json.JSONDecodeError:
        raise bad_input(f"'{name}' is not a readable video or audio file.") from None
    info = parse_probe(data, name)
    if not info.streams:
        raise bad_input(f"'{name}' contains no video or audio streams.")
    return info


async def open_input(call: ToolCall, index: int = 0, *, video: bool = False, audio: bool = False,
                     limit: bool = True) -> MediaInfo:
    """Probe input `index` and check what the tool needs: a video stream, an audio stream, the length limit."""
    name = call.names[index] if index < len(call.names) else call.inputs[index].name
    info = await probe(call.inputs[index], name)
    if video:
        if info.is_still_image:
            raise bad_input(f"'{name}' is an image, not a video.")
        if info.video is None:
            raise bad_input(f"'{name}' has no video stream.")
    elif info.is_still_image:
        raise bad_input(f"'{name}' is an image, not an audio or video file.")
    if audio and info.audio is None:
        raise bad_input(f"'{name}' has no audio stream.")
    if not video and not audio and info.video is None and info.audio is None:
        raise bad_input(f"'{name}' has no video or audio stream.")
    if limit:
        check_duration(info)
    return info


def check_duration(info: MediaInfo) -> None:
    limit = max_duration()
    if limit and info.duration > limit + 0.05:
        raise ToolError(f"'{info.name}' is {info.duration:.1f} s long; this server accepts media up to {limit:g} s.",
                        ErrorCode.PAYLOAD_TOO_LARGE, 413)


async def copy_beside_probe(call: ToolCall, args: Sequence[str], target: Path, *, video: bool = False,
                            audio: bool = False, accept: Callable[[MediaInfo], object] | None = None,
                            duration: float = 0.0, message: str | None = None, what: str = "file") -> MediaInfo:
    """Run a stream copy (`-c copy`: nothing is encoded) at the same time as the probe of input 0, for copies
    whose arguments need nothing from the probe. Starting ffprobe and ffmpeg is a fixed cost each (they
    load a few hundred shared libraries), about as much as a whole copy, so one no longer waits for the other.

    The probe still decides: when `open_input` (or `accept`, e.g. a range check) refuses the input, ffmpeg is
    killed, its partial output removed, and the refusal is raised, whatever ffmpeg did meanwhile."""
    copy_failed: list[Exception] = []
    refused: list[Exception] = []
    info: MediaInfo | None = None

    async def copy() -> None:
        try:
            await ff.run(args, call=call, duration=duration, message=message, what=what)
        except Exception as err:  # noqa: BLE001 - raised below, after the probe's verdict (no ExceptionGroup)
            copy_failed.append(err)

    async with trio.open_nursery() as nursery:
        nursery.start_soon(copy)
        try:
            info = await open_input(call, video=video, audio=audio)
            if accept is not None:
                accept(info)
        except Exception as err:  # noqa: BLE001 - raised below, once ffmpeg is stopped
            refused.append(err)
            nursery.cancel_scope.cancel()  # kills ffmpeg at once
    if refused or copy_failed:
        target.unlink(missing_ok=True)
        raise (refused or copy_failed)[0]
    assert info is not None
    return info
