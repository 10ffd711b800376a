"""Codecs and containers for the video and audio tools: web-friendly defaults (yuv420p, +faststart),
NVENC when this box really has a GPU that encodes, audio output formats, and the common one-input re-encode.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import trio

from actors.media import _ffmpeg as ff
from actors.media.ffprobe import MediaInfo
from protocols.tools import ToolCall

log = logging.getLogger("lutra.media")


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
            filters = await trio.run_process([ff.FFMPEG, "-hide_banner", "-filters"], capture_stdout=True,
                                             capture_stderr=True, check=False, deliver_cancel=ff.stop_process)
            text = filters.stdout.decode("utf-8", "replace")
            HARDWARE.vidstab = "vidstabdetect" in text and "vidstabtransform" in text
            HARDWARE.rubberband = " rubberband " in text
            for codec, attr in (("h264_nvenc", "nvenc_h264"), ("hevc_nvenc", "nvenc_hevc")):
                trial = await trio.run_process(
                    [ff.FFMPEG, "-hide_banner", "-nostdin", "-loglevel", "error", "-f", "lavfi", "-i",
                     "color=c=black:s=256x256:d=0.2", "-c:v", codec, "-f", "null", "-"],
                    capture_stdout=True, capture_stderr=True, check=False, deliver_cancel=ff.stop_process)
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
    target = ff.output_path(call, container, suffix=suffix)
    args: list[str] = [*pre_input, *ff.inp(call.inputs[0]), "-map", "0:v:0"]
    has_audio = keep_audio and info.audio is not None
    if has_audio:
        args += ["-map", "0:a:0"]
    if vf:
        args += ["-vf", ",".join(vf)]
    args += video_codec_args(container, crf)
    if has_audio:
        args += audio_args(container, info, af)
    args += ["-map_metadata", "0", *container_args(container), *extra, ff.out(target)]
    await ff.run(args, call=call, duration=duration if duration is not None else info.duration, message=message,
              what="video")
    return target
