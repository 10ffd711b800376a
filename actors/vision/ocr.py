"""OCR: text plus word boxes from an image (PP-OCRv6 or Tesseract)."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Literal

from pydantic import Field

from actors._lazy import cv2
from actors.vision import _img, ocr_engines
from protocols.tools import Mode, Runs, Section, ToolCall, ToolResult, ToolSettings, tool

Language = Literal["auto", "en", "de", "fr", "es", "zh", "ja", "ko", "id", "th", "vi", "it", "pt", "nl"]


class OcrSettings(ToolSettings):
    quality: Literal["fast", "balanced", "best"] = Field(
        "balanced", description="fast = Tesseract; balanced = PP-OCRv6; best = PP-OCRv6 with orientation "
                                "correction and a lower confidence cut")
    language: Language = Field("auto", description="Language of the text (auto = Latin scripts)")
    enhance: bool = Field(False, description="Pre-process (grey, upscale, contrast, denoise) before reading")


def _bundles(s: OcrSettings) -> tuple[str, ...]:
    return ocr_engines.bundles_for(s.quality, s.language)


@tool("ocr", section=Section.IMAGE, settings=OcrSettings, mode=Mode.LONG, accepts={"image", "svg"},
      requires=_bundles, runs=Runs.THREAD)
def run(call: ToolCall[OcrSettings]) -> ToolResult:
    """Extract text (and word boxes) from an image."""
    s = call.settings
    rgb = _img.load_rgb(call.inputs[0], call.limits)
    scale = 1.0
    if s.enhance or s.quality == "best":
        enhanced = ocr_engines.enhance_for_ocr(rgb)
        scale = enhanced.shape[1] / rgb.shape[1]
        rgb = enhanced
    engine = ocr_engines.engine_for(s.quality, s.language)
    if call.progress:
        call.progress(10, f"reading text ({engine})")
    if engine == "ppocr":
        words = ocr_engines.ppocr(rgb, best=s.quality == "best")
    else:
        with tempfile.NamedTemporaryFile(dir=call.workdir.parent, suffix=".png", delete=False) as handle:
            scratch = Path(handle.name)
        cv2.imwrite(str(scratch), cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR))
        try:
            words = ocr_engines.tesseract(scratch, s.language)
        finally:
            scratch.unlink(missing_ok=True)
    if scale != 1.0:
        for word in words:
            x, y, w, h = word.box
            word.box = (round(x / scale), round(y / scale), round(w / scale), round(h / scale))
    text = ocr_engines.text_of(words)
    out = call.workdir / f"{call.stem()}.txt"
    out.write_text(text + ("\n" if text else ""), encoding="utf-8")
    confidence = sum(w.confidence for w in words) / len(words) if words else 0.0
    return ToolResult([out], {"text": text, "words": [w.as_json() for w in words], "engine": engine,
                              "wordCount": len(words), "confidence": round(confidence, 4)})
