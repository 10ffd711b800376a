"""Auto subtitles: transcribe a video's speech into SRT/VTT, optionally burned into the picture."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Literal

from pydantic import Field

from actors import sandbox
from actors.speech import _whisper
from protocols.errors import ToolError
from protocols.tools import Mode, Runs, Section, ToolCall, ToolResult, ToolSettings, tool


class AutoSubtitlesSettings(ToolSettings):
    language: Literal["auto", "en", "de", "fr", "es", "zh", "ja", "ko", "id", "th", "vi"] = Field(
        "auto", description="Spoken language (auto = detect it). English runs on the transcription bundle "
        "(Whisper tiny.en) when installed; other languages and auto need transcription-multilingual (Whisper base)")
    format: Literal["srt", "vtt"] = Field("srt", description="Subtitle format")
    burn: bool = Field(False, description="Also return the video with the subtitles burned in")
    font_size: int = Field(24, ge=8, le=72, description="Font size for burned subtitles")


def burn(call: ToolCall, srt_name: str, font_size: int) -> Path:
    out = call.workdir / f"{call.stem()}_subtitled.mp4"
    argv = ["ffmpeg", "-nostdin", "-y", "-loglevel", "error", "-i", str(call.inputs[0]),
            "-vf", f"subtitles={srt_name}:force_style='FontSize={font_size}'",
            "-c:v", "libx264", "-preset", "veryfast", "-crf", "20", "-c:a", "copy", out.name]
    try:
        proc = sandbox.run(argv, cwd=call.workdir, timeout=7200)
    except subprocess.TimeoutExpired:
        raise ToolError("Burning the subtitles took too long.") from None
    if proc.returncode != 0 or not out.is_file():
        raise ToolError("Burning the subtitles into this video failed.")
    return out


@tool("auto-subtitles", section=Section.VIDEO, settings=AutoSubtitlesSettings,
      mode=Mode.LONG, accepts={"video"}, requires=_whisper.requirement, runs=Runs.THREAD)
def run(call: ToolCall[AutoSubtitlesSettings]) -> ToolResult:
    """Generate subtitles from a video's speech (srt/vtt), optionally burned in."""
    s = call.settings
    transcript = _whisper.transcribe(call.inputs[0], s.language, call.progress)
    segments = transcript.segments
    subs = call.workdir / f"{call.stem()}.{s.format}"
    subs.write_text(_whisper.to_srt(segments) if s.format == "srt" else _whisper.to_vtt(segments), encoding="utf-8")
    outputs = [subs]
    if s.burn:
        # a fixed file name: the client's file name never enters ffmpeg's filter syntax
        srt = call.workdir / ".burn.srt"
        srt.write_text(_whisper.to_srt(segments), encoding="utf-8")
        try:
            outputs.insert(0, burn(call, srt.name, s.font_size))
        finally:
            srt.unlink(missing_ok=True)
    return ToolResult(outputs, transcript.extra())
