"""Audio Metadata: read the tags, strip them, and/or write title, artist and album (streams copied)."""

from __future__ import annotations

from pydantic import Field

from actors.media import _codecs, ffprobe
from actors.media import _ffmpeg as ff
from protocols.tools import Runs, Section, ToolCall, ToolResult, ToolSettings, tool


class AudioMetadataSettings(ToolSettings):
    strip: bool = Field(False, description="Remove every tag (and cover art) first")
    title: str | None = Field(None, max_length=500, description="Set the title")
    artist: str | None = Field(None, max_length=500, description="Set the artist")
    album: str | None = Field(None, max_length=500, description="Set the album")


def _clean(value: str) -> str:
    return "".join(ch for ch in value if ch == "\t" or ch >= " ")


@tool("audio-metadata", section=Section.AUDIO, settings=AudioMetadataSettings,
      accepts={"audio"}, runs=Runs.LOOP)
async def run(call: ToolCall[AudioMetadataSettings]) -> ToolResult:
    """Read, strip or edit audio tags."""
    s = call.settings
    info = await ffprobe.open_input(call, audio=True)
    assert info.audio is not None
    before = {**info.audio.tags, **info.tags}
    fmt = _codecs.audio_format(call, info)
    target = ff.output_path(call, "opus" if fmt == "opus" else fmt)
    args = [*ff.inp(call.inputs[0])]
    args += ["-map", "0:a:0"] if s.strip else ["-map", "0:a", "-map", "0:v?"]
    args += ["-c", "copy", "-map_metadata", "-1" if s.strip else "0"]
    for key in ("title", "artist", "album"):
        value = getattr(s, key)
        if value is not None:
            args += ["-metadata", f"{key}={_clean(value)}"]
    if fmt == "mp3":
        args += ["-id3v2_version", "3", "-write_id3v1", "0"]
    if fmt in ("m4a",):
        args += ["-movflags", "+faststart"]
    if s.strip:
        args += ["-fflags", "+bitexact"]
    args.append(ff.out(target))
    await ff.run(args, call=call, duration=info.duration, message="writing tags", what="audio")
    after = await ffprobe.probe(target, call.names[0])
    tags = {**(after.audio.tags if after.audio else {}), **after.tags}
    a = info.audio
    return ToolResult([target], {
        "metadata": tags, "previousMetadata": before, "format": fmt, "codec": a.codec,
        "durationS": round(info.duration, 3), "sampleRate": a.sample_rate, "channels": a.channels,
        "bitrate": info.bit_rate,
    })
