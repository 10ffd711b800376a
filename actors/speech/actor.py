"""The SpeechActor: owns the faster-whisper model (loaded once, reused); transcription runs in a thread."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from actors import models
from actors.runtime import Actor


class SpeechActor(Actor):
    name = "speech"

    def health(self) -> dict[str, Any]:
        return models.runtime_info()


def create(capacity: int, queue_size: int, options: dict) -> SpeechActor:
    models.configure(Path(options.get("data_dir") or "./data") / "models")
    models.set_memory_budget(float(options.get("model_memory_mb") or 0))  # one budget for both actors
    # one transcription at a time per core pair: whisper uses every core by itself
    return SpeechActor(max(1, capacity // 2), queue_size)
