"""Subtitle files: check one is readable (ffprobe) and copy it under a plain name for filters."""

from __future__ import annotations

import shutil
from pathlib import Path

from actors.media import ffprobe
from protocols.errors import bad_input
from protocols.tools import ToolCall

FORMATS = {"srt": "srt", "subrip": "srt", "webvtt": "vtt", "ass": "ass", "ssa": "ass"}


async def open_subtitle(call: ToolCall, index: int) -> tuple[str, ffprobe.MediaInfo]:
    """The subtitle input's format (srt/vtt/ass), after ffprobe has parsed it."""
    name = call.names[index] if index < len(call.names) else "subtitles"
    try:
        info = await ffprobe.probe(call.inputs[index], name)
    except Exception:
        raise bad_input(f"'{name}' is not a subtitle file ffmpeg can read (SRT, VTT or ASS).") from None
    subs = info.subtitles
    if not subs or info.video or info.audio:
        raise bad_input(f"'{name}' is not a subtitle file (SRT, VTT or ASS).")
    fmt = FORMATS.get(subs[0].codec) or FORMATS.get(info.format.split(",")[0])
    if fmt is None:
        raise bad_input(f"'{name}' is a {subs[0].codec} subtitle; use SRT, VTT or ASS.")
    return fmt, info


def charset(path: Path) -> str:
    """UTF-8 when the file decodes as such (BOM or not), else Windows-1252, the usual legacy SRT encoding."""
    data = path.read_bytes()[: 4 << 20]
    try:
        data.decode("utf-8")
        return "UTF-8"
    except UnicodeDecodeError:
        return "CP1252"


def copy_plain(call: ToolCall, index: int, fmt: str, folder: Path) -> Path:
    target = folder / f"subtitles.{fmt}"
    shutil.copyfile(call.inputs[index], target)
    return target
