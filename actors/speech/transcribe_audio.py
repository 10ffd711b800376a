"""Transcribe audio to text, SRT or WebVTT with Whisper (faster-whisper)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from actors.speech import _whisper
from protocols.tools import Mode, Runs, Section, ToolCall, ToolResult, ToolSettings, tool


class TranscribeSettings(ToolSettings):
    language: Literal["auto", "en", "de", "fr", "es", "zh", "ja", "ko", "id", "th", "vi"] = Field(
        "auto", description="Spoken language (auto = detect it). English runs on the transcription bundle "
        "(Whisper tiny.en) when installed; other languages and auto need transcription-multilingual (Whisper base)")
    output_format: Literal["txt", "srt", "vtt"] = Field("txt", description="Transcript format")


@tool("transcribe-audio", section=Section.AUDIO, settings=TranscribeSettings, mode=Mode.LONG,
      accepts={"audio", "video"}, requires=_whisper.requirement, runs=Runs.THREAD)
def run(call: ToolCall[TranscribeSettings]) -> ToolResult:
    """Transcribe speech to text (txt, srt or vtt)."""
    s = call.settings
    transcript = _whisper.transcribe(call.inputs[0], s.language, call.progress)
    segments = transcript.segments
    body = {"txt": _whisper.to_text, "srt": _whisper.to_srt, "vtt": _whisper.to_vtt}[s.output_format](segments)
    out = call.workdir / f"{call.stem()}.{s.output_format}"
    out.write_text(body + ("\n" if s.output_format == "txt" else ""), encoding="utf-8")
    return ToolResult([out], transcript.extra())
