"""faster-whisper on the speech bundles: each model loaded once per process (the SpeechActor), reused.

Two bundles: `transcription` (Whisper tiny.en, English only, fast) and `transcription-multilingual`
(Whisper base, every language and language detection). English uses tiny.en when it is installed
(base otherwise); every other language uses base; `auto` detects the language with base and then
transcribes with tiny.en if the speech is English and tiny.en is installed, with base otherwise. With
only the English bundle, `auto` (the default) transcribes as English and says so in the result
(`languageDetected: false` and a `note`), as it did before the multilingual bundle existed.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from actors import models
from protocols.errors import ToolError, bad_input

ENGLISH = "transcription"
MULTILINGUAL = "transcription-multilingual"
BUNDLE = ENGLISH  # the historical name (English, tiny.en)
MODEL_NAMES = {ENGLISH: "whisper-tiny.en", MULTILINGUAL: "whisper-base"}
LANGUAGES = ("auto", "en", "de", "fr", "es", "zh", "ja", "ko", "id", "th", "vi")
RATE = 16000


@dataclass
class Segment:
    start: float
    end: float
    text: str


@dataclass
class Transcript:
    segments: list[Segment]
    language: str
    duration: float
    bundle: str
    detected: bool = False
    language_probability: float | None = None
    note: str | None = None

    def extra(self) -> dict[str, Any]:
        """The JSON fields every speech tool returns beside its files."""
        out: dict[str, Any] = {
            "text": to_text(self.segments), "language": self.language, "languageDetected": self.detected,
            "model": MODEL_NAMES[self.bundle], "duration": round(self.duration, 2), "segments": len(self.segments)}
        if self.language_probability is not None:
            out["languageProbability"] = round(self.language_probability, 3)
        if self.note:
            out["note"] = self.note
        return out


def bundles_for(language: str) -> tuple[str, ...]:
    """The bundle a language needs (checked before a job is queued: 501 naming it when missing).
    English needs either bundle; when neither is installed the small English one is named."""
    if language == "en":
        return () if models.is_installed(MULTILINGUAL) else (ENGLISH,)
    if language == "auto" and models.is_installed(ENGLISH):
        return ()  # detection needs base; without it the speech is taken as English
    return (MULTILINGUAL,)


def requirement(settings: Any) -> tuple[str, ...]:
    return bundles_for(getattr(settings, "language", "auto") or "auto")


def _model(bundle: str):
    folder = models.require(bundle)

    def load():
        from faster_whisper import WhisperModel

        cuda = models.providers()[0] == "CUDAExecutionProvider" and _ctranslate2_cuda()
        return WhisperModel(str(folder), device="cuda" if cuda else "cpu",
                            compute_type="float16" if cuda else "int8", cpu_threads=0)

    return models.cached(f"{bundle}/whisper@{folder}", bundle, load)


def _ctranslate2_cuda() -> bool:
    try:
        import ctranslate2

        return ctranslate2.get_cuda_device_count() > 0
    except Exception:
        return False


def _decode(path) -> Any:
    """The file's first audio track as 16 kHz mono float32 (a 400 when there is none to decode)."""
    try:
        from faster_whisper.audio import decode_audio

        audio = decode_audio(str(path), sampling_rate=RATE)
    except Exception:
        raise bad_input("The file has no audio track this server can decode.") from None
    if audio is None or len(audio) == 0:
        raise bad_input("The file has no audio track this server can decode.")
    return audio


def transcribe(path, language: str, progress=None) -> Transcript:
    if language not in LANGUAGES:
        raise bad_input(f"Unsupported language: {language}.")
    for bundle in bundles_for(language):  # before decoding: a missing model is a 501, whatever the file
        models.require(bundle)
    audio = _decode(path)
    detected, probability, note = False, None, None
    if language == "en":
        bundle = ENGLISH if models.is_installed(ENGLISH) else MULTILINGUAL
    elif language == "auto" and not models.is_installed(MULTILINGUAL):
        language, bundle = "en", ENGLISH
        note = (f"Transcribed as English: detecting the language needs the {MULTILINGUAL} bundle, "
                "which is not installed.")
    elif language == "auto":
        if progress:
            progress(1.0, "detecting the language")
        try:
            language, probability, _ = _model(MULTILINGUAL).detect_language(audio=audio)
        except ToolError:
            raise
        except Exception:
            raise bad_input("The file has no audio track this server can decode.") from None
        detected = True
        bundle = ENGLISH if language == "en" and models.is_installed(ENGLISH) else MULTILINGUAL
    else:
        bundle = MULTILINGUAL
    model = _model(bundle)
    duration = len(audio) / RATE
    try:
        segments, _info = model.transcribe(audio, language=language, beam_size=5, vad_filter=False)
        out: list[Segment] = []
        for seg in segments:
            out.append(Segment(float(seg.start), float(seg.end), seg.text.strip()))
            if progress and duration:
                progress(min(99.0, 100 * seg.end / duration), "transcribing")
    except ToolError:
        raise
    except Exception:
        raise bad_input("The file has no audio track this server can decode.") from None
    return Transcript(out, language, duration, bundle, detected, probability, note)


def _stamp(t: float, sep: str) -> str:
    ms = int(round(t * 1000))
    h, ms = divmod(ms, 3600_000)
    m, ms = divmod(ms, 60_000)
    s, ms = divmod(ms, 1000)
    return f"{h:02d}:{m:02d}:{s:02d}{sep}{ms:03d}"


def to_srt(segments: list[Segment]) -> str:
    blocks = [f"{i}\n{_stamp(s.start, ',')} --> {_stamp(s.end, ',')}\n{s.text}\n"
              for i, s in enumerate((s for s in segments if s.text), 1)]
    return "\n".join(blocks)


def to_vtt(segments: list[Segment]) -> str:
    blocks = [f"{_stamp(s.start, '.')} --> {_stamp(s.end, '.')}\n{s.text}\n" for s in segments if s.text]
    return "WEBVTT\n\n" + "\n".join(blocks)


def to_text(segments: list[Segment]) -> str:
    return " ".join(s.text for s in segments if s.text).strip()
