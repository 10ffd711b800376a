"""ffmpeg plumbing shared by every video and audio tool.

- `probe` / `open_input`: ffprobe first, so that a file that is not media, lacks the stream a tool needs, or
  is longer than MAX_VIDEO_DURATION_S is refused (4xx) before any encode starts.
- `run`: ffmpeg from an argument list (never a shell), its `-progress pipe:1` output scaled by the probed
  duration into `call.progress`, killed at once on cancel or deadline, stderr kept for the log only.
- argv builders: codecs per container, web-friendly defaults (yuv420p, +faststart), NVENC when present.
"""

from __future__ import annotations

import contextlib
import json
import logging
import math
import shutil
import subprocess
import tempfile
from collections.abc import Callable, Iterator, Sequence
from contextvars import ContextVar
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

import trio

from actors import sandbox
from actors.processes import lowered
from protocols.errors import ErrorCode, ToolError, bad_input
from protocols.tools import ToolCall

log = logging.getLogger("lutra.media")

FFMPEG = shutil.which("ffmpeg") or "ffmpeg"
FFPROBE = shutil.which("ffprobe") or "ffprobe"
PROBE_TIMEOUT_S = 60
FONT = next((str(p) for p in (Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"),
                              Path("/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf"),
                              Path("/usr/share/fonts/truetype/liberation2/LiberationSans-Regular.ttf"))
             if p.is_file()), "DejaVuSans.ttf")
DEFAULT_TIMEOUT_S = 4 * 3600  # the job deadline normally ends things first

# Set by the MediaActor for the job it runs (0 = unlimited); tools read it through `max_duration()`.
MAX_DURATION_S: ContextVar[float] = ContextVar("lutra_media_max_duration_s", default=0.0)

# demuxers that mean "a still image", not a video
_IMAGE_FORMATS = {"image2", "png_pipe", "jpeg_pipe", "webp_pipe", "bmp_pipe", "tiff_pipe", "gif_pipe", "svg_pipe",
                  "j2k_pipe", "jpegxl_pipe", "psd_pipe", "qoi_pipe", "pam_pipe", "ppm_pipe", "pgm_pipe"}
_IMAGE_CODECS = {"png", "mjpeg", "webp", "bmp", "tiff", "jpeg2000", "jpegxl", "psd", "qoi", "ppm", "pgm", "pam"}


def max_duration() -> float:
    return MAX_DURATION_S.get()


# ---- probing -------------------------------------------------------------------------------------------
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
    argv = [FFPROBE, "-v", "error", "-print_format", "json", "-show_format", "-show_streams", _file_arg(path)]
    try:
        with trio.fail_after(PROBE_TIMEOUT_S):
            launch = sandbox.prepare(argv, timeout_s=PROBE_TIMEOUT_S)
            done = await trio.run_process(launch.argv, env=launch.env, capture_stdout=True, capture_stderr=True,
                                          check=False, deliver_cancel=_kill)
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


# ---- running ffmpeg ------------------------------------------------------------------------------------
async def _kill(process: trio.Process) -> None:
    """Cancel and deadline: stop ffmpeg (and its sandbox) at once, not after a grace period."""
    await sandbox.kill(process)


def _file_arg(path: Path | str) -> str:
    """Local paths always through the file protocol: a name can never be read as another protocol or option."""
    return f"file:{path}"


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
                    check=False, deliver_cancel=_kill, cwd=str(cwd) if cwd else None))
                nursery.start_soon(read_stderr, process.stderr)
                nursery.start_soon(read_progress, process.stdout)
    except trio.TooSlowError:
        raise ToolError(f"Processing the {what} took longer than {timeout:g} s.", ErrorCode.TIMEOUT, 504) from None
    stderr = b"".join(stderr_chunks).decode("utf-8", "replace")
    if process.returncode != 0:
        log.warning("ffmpeg failed (%s): %s", process.returncode, stderr[-2000:])
        raise ToolError(f"The {what} could not be processed; it may be corrupt or use an unsupported codec.")
    return stderr


# ---- scratch space -------------------------------------------------------------------------------------
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
    return ["-i", _file_arg(path)]


def out(path: Path) -> str:
    return _file_arg(path)


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


# ---- codecs and containers ---------------------------------------------------------------------------
@dataclass(slots=True)
class Hardware:
    checked: bool = False
    nvenc_h264: bool = False
    nvenc_hevc: bool = False
    vidstab: bool = False
    rubberband: bool = False

    def as_dict(self) -> dict[str, Any]:
        return {"nvenc": self.nvenc_h264, "nvencHevc": self.nvenc_hevc, "vidstab": self.vidstab,
                "rubberband": self.rubberband, "encoder": "h264_nvenc" if self.nvenc_h264 else "libx264"}


HARDWARE = Hardware()


async def detect_hardware() -> Hardware:
    """Once per process: which filters exist and whether NVENC really encodes (a tiny trial encode, since
    the encoder being compiled in says nothing about a GPU being present)."""
    if HARDWARE.checked:
        return HARDWARE
    try:
        with trio.fail_after(30):
            filters = await trio.run_process([FFMPEG, "-hide_banner", "-filters"], capture_stdout=True,
                                             capture_stderr=True, check=False, deliver_cancel=_kill)
            text = filters.stdout.decode("utf-8", "replace")
            HARDWARE.vidstab = "vidstabdetect" in text and "vidstabtransform" in text
            HARDWARE.rubberband = " rubberband " in text
            for codec, attr in (("h264_nvenc", "nvenc_h264"), ("hevc_nvenc", "nvenc_hevc")):
                trial = await trio.run_process(
                    [FFMPEG, "-hide_banner", "-nostdin", "-loglevel", "error", "-f", "lavfi", "-i",
                     "color=c=black:s=256x256:d=0.2", "-c:v", codec, "-f", "null", "-"],
                    capture_stdout=True, capture_stderr=True, check=False, deliver_cancel=_kill)
                setattr(HARDWARE, attr, trial.returncode == 0)
    except (OSError, trio.TooSlowError):
        log.exception("media: hardware detection failed; using CPU encoders")
    HARDWARE.checked = True
    log.info("media hardware: %s", HARDWARE.as_dict())
    return HARDWARE


VIDEO_CONTAINERS = ("mp4", "mov", "mkv", "webm")


def video_container(call: ToolCall, info: MediaInfo | None = None, index: int = 0) -> str:
    """Keep the input's container when it is a web/editing one; anything else becomes MP4."""
    name = call.names[index] if index < len(call.names) else ""
    ext = Path(name).suffix.lower().lstrip(".")
    if ext in ("m4v",):
        return "mp4"
    if ext in VIDEO_CONTAINERS:
        return ext
    if info is not None and "webm" in info.format and info.video and info.video.codec in ("vp8", "vp9", "av1"):
        return "webm"
    return "mp4"


def named_video_container(call: ToolCall, index: int = 0) -> str | None:
    """The container `video_container` picks when the file name alone decides it; None when it needs the probe."""
    name = call.names[index] if index < len(call.names) else ""
    ext = Path(name).suffix.lower().lstrip(".")
    if ext == "m4v":
        return "mp4"
    return ext if ext in VIDEO_CONTAINERS else None


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
            await run(args, call=call, duration=duration, message=message, what=what)
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


def h264_args(crf: int = 23, preset: str = "veryfast", *, hardware: bool = True) -> list[str]:
    if hardware and HARDWARE.nvenc_h264:
        return ["-c:v", "h264_nvenc", "-preset", "p4", "-rc", "vbr", "-cq", str(crf), "-b:v", "0",
                "-pix_fmt", "yuv420p"]
    return ["-c:v", "libx264", "-preset", preset, "-crf", str(crf), "-pix_fmt", "yuv420p"]


def vp9_args(crf: int = 32) -> list[str]:
    return ["-c:v", "libvpx-vp9", "-crf", str(crf), "-b:v", "0", "-deadline", "good", "-cpu-used", "5",
            "-row-mt", "1", "-pix_fmt", "yuv420p"]


def video_codec_args(container: str, crf: int = 23, *, hardware: bool = True) -> list[str]:
    if container == "webm":
        return vp9_args(crf + 9)
    return h264_args(crf, hardware=hardware)


def audio_codec_args(container: str, bitrate_k: int = 128) -> list[str]:
    if container == "webm":
        return ["-c:a", "libopus", "-b:a", f"{bitrate_k}k"]
    return ["-c:a", "aac", "-b:a", f"{bitrate_k}k"]


def audio_copy_ok(container: str, codec: str) -> bool:
    """Whether an audio stream can be copied as is into `container`."""
    if container == "webm":
        return codec in ("opus", "vorbis")
    if container in ("mp4", "mov"):
        return codec in ("aac", "mp3", "alac", "ac3", "eac3")
    return container == "mkv" and bool(codec)


def audio_args(container: str, info: MediaInfo, af: Sequence[str] = (), bitrate_k: int = 128) -> list[str]:
    """Copy the audio when nothing changes it and the container takes it, else encode."""
    codec = info.audio.codec if info.audio else ""
    if not af and audio_copy_ok(container, codec):
        return ["-c:a", "copy"]
    return [*(["-af", ",".join(af)] if af else []), *audio_codec_args(container, bitrate_k)]


def container_args(container: str) -> list[str]:
    if container in ("mp4", "mov", "m4a", "m4r"):
        return ["-movflags", "+faststart"]
    return []


def even(value: float) -> int:
    return max(2, int(round(value / 2)) * 2)


# ---- audio formats -----------------------------------------------------------------------------------------
def audio_format(call: ToolCall, info: MediaInfo, index: int = 0) -> str:
    """The output format for an audio tool that keeps its input's format (video inputs give M4A)."""
    name = call.names[index] if index < len(call.names) else ""
    ext = Path(name).suffix.lower().lstrip(".")
    codec = info.audio.codec if info.audio else ""
    if ext in ("mp3", "wav", "flac", "opus", "m4a"):
        return ext
    if ext in ("ogg", "oga"):
        return "opus" if codec == "opus" else "ogg"
    if ext in ("aac", "mp4", "m4b", "mov", "mkv", "webm"):
        return "m4a"
    return {"mp3": "mp3", "flac": "flac", "vorbis": "ogg", "opus": "opus", "aac": "m4a"}.get(
        codec, "wav" if codec.startswith("pcm_") else "mp3")


def audio_encode_args(fmt: str, bitrate_k: int | None = None) -> list[str]:
    """Codec arguments for an audio output format (ext = fmt, except opus is written as .opus)."""
    if fmt == "mp3":
        return ["-c:a", "libmp3lame"] + (["-b:a", f"{bitrate_k}k"] if bitrate_k else ["-q:a", "2"])
    if fmt == "wav":
        return ["-c:a", "pcm_s16le"]
    if fmt == "flac":
        return ["-c:a", "flac"]
    if fmt == "ogg":  # Vorbis refuses some bitrate/rate pairs: ask for the matching VBR quality instead
        quality = max(-1.0, min(10.0, (bitrate_k - 64) / 24)) if bitrate_k else 5.0
        return ["-c:a", "libvorbis", "-q:a", f"{quality:.1f}"]
    if fmt == "opus":
        return ["-c:a", "libopus", "-b:a", f"{bitrate_k or 128}k"]
    if fmt in ("m4a", "m4r"):
        return ["-c:a", "aac", "-b:a", f"{bitrate_k or 192}k", "-movflags", "+faststart"]
    raise ValueError(fmt)


def atempo_chain(factor: float) -> list[str]:
    """atempo takes 0.5..2 per instance for good quality: chain instances for larger changes."""
    parts = []
    remaining = factor
    while remaining > 2.0:
        parts.append("atempo=2.0")
        remaining /= 2.0
    while remaining < 0.5:
        parts.append("atempo=0.5")
        remaining /= 0.5
    parts.append(f"atempo={remaining:.6f}")
    return parts


# ---- common one-input encodes ----------------------------------------------------------------------------
async def reencode_video(call: ToolCall, info: MediaInfo, *, vf: Sequence[str] = (), af: Sequence[str] = (),
                         duration: float | None = None, crf: int = 20, keep_audio: bool = True,
                         message: str | None = None, pre_input: Sequence[str] = (), container: str | None = None,
                         suffix: str = "", extra: Sequence[str] = ()) -> Path:
    """Re-encode the video of input 0 through `vf` (and its audio through `af`, else copied when possible)."""
    container = container or video_container(call, info)
    target = output_path(call, container, suffix=suffix)
    args: list[str] = [*pre_input, *inp(call.inputs[0]), "-map", "0:v:0"]
    has_audio = keep_audio and info.audio is not None
    if has_audio:
        args += ["-map", "0:a:0"]
    if vf:
        args += ["-vf", ",".join(vf)]
    args += video_codec_args(container, crf)
    if has_audio:
        args += audio_args(container, info, af)
    args += ["-map_metadata", "0", *container_args(container), *extra, out(target)]
    await run(args, call=call, duration=duration if duration is not None else info.duration, message=message,
              what="video")
    return target
