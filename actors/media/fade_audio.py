"""Fade Audio: fade in at the start and/or out at the end."""

from __future__ import annotations

from pydantic import Field, model_validator

from actors.media import _audio
from protocols.errors import bad_input
from protocols.tools import Runs, Section, ToolCall, ToolResult, ToolSettings, tool


class FadeAudioSettings(ToolSettings):
    fade_in_s: float = Field(1.0, ge=0, le=30, description="Fade-in length in seconds")
    fade_out_s: float = Field(1.0, ge=0, le=30, description="Fade-out length in seconds")

    @model_validator(mode="after")
    def _some_fade(self):
        if self.fade_in_s == 0 and self.fade_out_s == 0:
            raise ValueError("give fadeInS and/or fadeOutS")
        return self


@tool("fade-audio", section=Section.AUDIO, settings=FadeAudioSettings, accepts=_audio.ACCEPTS,
      runs=Runs.LOOP)
async def run(call: ToolCall[FadeAudioSettings]) -> ToolResult:
    """Fade audio in and out."""
    s = call.settings
    info = await _audio.open_audio(call)
    if s.fade_in_s + s.fade_out_s > info.duration + 0.01:
        raise bad_input(f"The fades ({s.fade_in_s + s.fade_out_s:g} s) are longer than the audio "
                        f"({info.duration:.2f} s).")
    af = []
    if s.fade_in_s:
        af.append(f"afade=t=in:st=0:d={s.fade_in_s:g}")
    if s.fade_out_s:
        af.append(f"afade=t=out:st={max(0.0, info.duration - s.fade_out_s):.4f}:d={s.fade_out_s:g}")
    target = await _audio.encode(call, info, af, message="fading")
    return ToolResult([target])
