"""faster-whisper on the transcription bundle: one model per process (the SpeechActor), reused."""

from __future__ import annotations

import json
from dataclasses import dataclass

from actors.vision import _models
from protocols.errors import ToolError, bad_input

BUNDLE = "transcription"
LANGUAGES = ("auto", "en", "de", "fr", "es", "zh", "ja", "ko", "id", "th", "vi")


@dataclass
class Segment:
    start: float
    end: float
    text: str


def _model():
    folder = _models.require(BUNDLE)

    def load():
        from faster_whisper import WhisperModel

        cuda = _models.providers()[0] == "CUDAExecutionProvider" and _ctranslate2_cuda()
        return WhisperModel(str(folder), device="cuda" if cuda else "cpu",
                            compute_type="float16" if cuda else "int8", cpu_threads=0)

    return _models.cached(f"{BUNDLE}/whisper@{folder}", BUNDLE, load)


def _ctranslate2_cuda() -> bool:
    try:
        import ctranslate2

        return ctranslate2.get_cuda_device_count() > 0
    except Exception:
        return False


def english_only() -> bool:
    folder = _models.require(BUNDLE)
    try:
        config = json.loads((folder / "config.json").read_text())
    except (OSError, ValueError):
        return False
    return "lang_to_id" not in config or len(config.get("lang_to_id") or {}) <= 1


def transcribe(path, language: str, progress=None) -> tuple[list[Segment], str, float]:
    model = _model()
    lang = None if language == "auto" else language
    if english_only():
        if lang not in (None, "en"):
            raise bad_input("The installed speech model (Whisper tiny.en) reads English only.")
        lang = "en"
    try:
        segments, info = model.transcribe(str(path), language=lang, beam_size=5, vad_filter=False)
        out: list[Segment] = []
        for seg in segments:
            out.append(Segment(float(seg.start), float(seg.end), seg.text.strip()))
            if progress and info.duration:
                progress(min(99.0, 100 * seg.end / info.duration), "transcribing")
    except ToolError:
        raise
    except Exception:
        raise bad_input("The file has no audio track this server can decode.") from None
    return out, info.language, float(info.duration)


def _stamp(t: float, sep: str) -> str:
    ms = int(round(t * 1000))
    h, ms = divmod(ms, 3600_000)
    m, ms = divmod(ms, 60_000)
    s, ms = divmod(ms, 1000)
    return f"{h:02d}:{m:02d}:{s:02d}{sep}{ms:03d}"


def to_srt(segments: list[Segment]) -> str:
    blocks = [f"{i}\n{_stamp(s.start, ',')} --> {_stamp(s.end, ',')}\n{s.text}\n"
              for i, s in enumerate(segments, 1) if s.text]
    return "\n".join(blocks)


def to_vtt(segments: list[Segment]) -> str:
    blocks = [f"{_stamp(s.start, '.')} --> {_stamp(s.end, '.')}\n{s.text}\n" for s in segments if s.text]
    return "WEBVTT\n\n" + "\n".join(blocks)


def to_text(segments: list[Segment]) -> str:
    return " ".join(s.text for s in segments if s.text).strip()
