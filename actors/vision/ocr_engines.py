"""OCR engines: PP-OCRv6 through rapidocr (models from the `ocr` bundle) and Tesseract (Debian)."""

from __future__ import annotations

import contextlib
import subprocess
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from actors import models, sandbox
from actors._lazy import cv2, np
from protocols.errors import ToolError, bad_input

# language setting -> tesseract language pack
TESSERACT_LANGS = {"auto": "eng", "en": "eng", "de": "deu", "fr": "fra", "es": "spa", "zh": "chi_sim",
                   "ja": "jpn", "ko": "kor", "id": "ind", "th": "tha", "vi": "vie", "it": "ita", "pt": "por",
                   "nl": "nld"}
# languages the multilingual PP-OCRv6 recogniser reads
PPOCR_LANGS = {"auto", "en", "de", "fr", "es", "zh", "ja", "id", "vi", "it", "pt", "nl"}


@dataclass
class Word:
    text: str
    confidence: float  # 0..1
    box: tuple[int, int, int, int]  # x, y, width, height
    line: int

    def as_json(self) -> dict:
        x, y, w, h = self.box
        return {"text": self.text, "confidence": round(self.confidence, 4),
                "box": {"x": x, "y": y, "width": w, "height": h}, "line": self.line}


def engine_for(quality: str, language: str) -> str:
    if quality == "fast" or language not in PPOCR_LANGS:
        return "tesseract"
    return "ppocr"


def bundles_for(quality: str, language: str) -> tuple[str, ...]:
    return ("ocr",) if engine_for(quality, language) == "ppocr" else ()


def enhance_for_ocr(rgb: np.ndarray) -> np.ndarray:
    """Grey, upscale small text, even out the lighting (CLAHE) and remove speckle."""
    grey = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)
    h, w = grey.shape
    if max(h, w) < 1600:
        scale = min(2.0, 1600 / max(h, w))
        grey = cv2.resize(grey, None, fx=scale, fy=scale, interpolation=cv2.INTER_CUBIC)
    grey = cv2.createCLAHE(clipLimit=2.0, tileGridSize=(8, 8)).apply(grey)
    grey = cv2.fastNlMeansDenoising(grey, None, 7, 7, 21)
    return cv2.cvtColor(grey, cv2.COLOR_GRAY2RGB)


MARGIN = 16


def has_margin(rgb: np.ndarray, margin: int = MARGIN, tolerance: int = 24) -> bool:
    """True when the outer `margin` pixels on every side are already a plain, even border."""
    h, w = rgb.shape[:2]
    if h <= 2 * margin or w <= 2 * margin:
        return False
    frame = np.concatenate([rgb[:margin].reshape(-1, 3), rgb[-margin:].reshape(-1, 3),
                            rgb[margin:-margin, :margin].reshape(-1, 3), rgb[margin:-margin, -margin:].reshape(-1, 3)])
    return bool((frame.max(axis=0).astype(int) - frame.min(axis=0)).max() <= tolerance)


def pad(rgb: np.ndarray, margin: int = MARGIN) -> tuple[np.ndarray, int]:
    """A white margin helps the detector with text that touches the edge. An image that already has a
    plain border keeps its size: padding it changes nothing for the detector except its input size (a wide
    strip then misses rapidocr's own letterboxing and is detected at nearly twice the pixels, slower and
    cut into more pieces). Returns the image and the offset added on each side."""
    if has_margin(rgb, margin):
        return rgb, 0
    return cv2.copyMakeBorder(rgb, margin, margin, margin, margin, cv2.BORDER_CONSTANT, value=(255, 255, 255)), margin


class SameParams:
    """Calls with equal parameters may overlap; a call with other parameters waits until none runs.

    rapidocr stores each call's parameters on the shared engine (`update_params`: word boxes, orientation
    classifier, score cut), and keeps no other per-call state (its detector, recogniser and onnxruntime
    sessions are safe to call from several threads). A plain lock made two balanced-tier jobs wait for each
    other, each holding a worker slot idle; now they run together, as two bare callers would. A waiting
    call with other parameters stops new equal-parameter calls from joining, so it cannot starve."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._params: object = None
        self._active = 0
        self._waiting: dict[object, int] = {}

    def _may_run(self, params: object) -> bool:
        if self._active == 0:
            return True
        others_waiting = any(n for p, n in self._waiting.items() if p != self._params)
        return params == self._params and not others_waiting

    @contextlib.contextmanager
    def hold(self, params: object) -> Iterator[None]:
        with self._cond:
            self._waiting[params] = self._waiting.get(params, 0) + 1
            try:
                while not self._may_run(params):
                    self._cond.wait()
            finally:
                self._waiting[params] -= 1
                if not self._waiting[params]:
                    del self._waiting[params]
            self._params = params
            self._active += 1
        try:
            yield
        finally:
            with self._cond:
                self._active -= 1
                self._cond.notify_all()

    @property
    def active(self) -> int:
        return self._active


_ppocr_gate = SameParams()


def ppocr_engine():
    """The PP-OCRv6 engine (rapidocr on the `ocr` bundle), loaded once per process and then cached."""
    folder = models.require("ocr")

    def load():
        from rapidocr import RapidOCR

        engine = RapidOCR(params={
            "Det.model_path": str(folder / "det.onnx"),
            "Rec.model_path": str(folder / "rec.onnx"),
            "Cls.model_path": str(folder / "cls.onnx"),
            "Global.log_level": "error",
            "EngineConfig.onnxruntime.use_cuda": models.providers()[0] == "CUDAExecutionProvider",
        })
        # rapidocr opens its onnxruntime sessions lazily, on the first call that needs each one: open the
        # detector and recogniser now, so the load (and its time in admin health) happens here, once, and
        # not inside the first job (the orientation classifier, used by the best tier only, stays lazy)
        for opener in ("_load_det_model", "_load_rec_model"):
            getattr(engine, opener, lambda: None)()
        return engine

    return models.cached(f"ocr/ppocr@{folder}", "ocr", load)


def ppocr(rgb: np.ndarray, best: bool = False) -> list[Word]:
    engine = ppocr_engine()
    image, offset = pad(rgb)
    bgr = cv2.cvtColor(image, cv2.COLOR_RGB2BGR)
    params = {"return_word_box": True, "use_cls": best, "text_score": 0.3 if best else 0.5}
    with _ppocr_gate.hold(tuple(sorted(params.items()))):
        try:
            result = engine(bgr, **params)
        except Exception:
            raise ToolError("Text recognition failed on this image.") from None
    if not getattr(result, "txts", None):
        # nothing detected (a blank or single-colour image): rapidocr then answers with the placeholder
        # word_results (('', 1.0, None),), one bare entry instead of a list of lines
        return []
    words: list[Word] = []
    groups = result.word_results or ()
    for line_index, line in enumerate(groups):
        for text, score, box in line:
            pts = np.asarray(box, dtype=np.float32) - offset
            x0, y0 = pts.min(axis=0)
            x1, y1 = pts.max(axis=0)
            words.append(Word(str(text), float(score), (int(max(0, x0)), int(max(0, y0)), int(x1 - x0),
                                                         int(y1 - y0)), line_index))
    return _dedupe(words)


def _dedupe(words: list[Word]) -> list[Word]:
    """The detector may cut one line into overlapping pieces; a word mostly covered by a neighbour on the
    same text row (a repeated fragment) is dropped, then rows are rebuilt from geometry."""
    kept: list[Word] = []
    for word in sorted(words, key=lambda w: (-w.box[2] * w.box[3])):
        x, y, w, h = word.box
        covered = False
        for other in kept:
            ox, oy, ow, oh = other.box
            ix = max(0, min(x + w, ox + ow) - max(x, ox))
            iy = max(0, min(y + h, oy + oh) - max(y, oy))
            if w * h and ix * iy / (w * h) > 0.6 and (word.text in other.text or other.text in word.text):
                covered = True
                break
        if not covered:
            kept.append(word)
    # group into rows by vertical centre, order left to right
    kept.sort(key=lambda w: w.box[1] + w.box[3] / 2)
    rows: list[list[Word]] = []
    for word in kept:
        centre = word.box[1] + word.box[3] / 2
        if rows:
            last = rows[-1]
            ref = sum(w.box[1] + w.box[3] / 2 for w in last) / len(last)
            height = max(w.box[3] for w in last)
            if abs(centre - ref) < height * 0.5:
                last.append(word)
                continue
        rows.append([word])
    out: list[Word] = []
    for index, row in enumerate(rows):
        for word in sorted(row, key=lambda w: w.box[0]):
            word.line = index
            out.append(word)
    return out


def tesseract(image_path: Path, language: str, timeout: float = 300) -> list[Word]:
    lang = TESSERACT_LANGS.get(language, "eng")
    if not _tesseract_has(lang):
        raise bad_input(f"OCR for language '{language}' is not available on this server.")
    try:
        proc = sandbox.run(["tesseract", str(image_path), "stdout", "-l", lang, "--psm", "3", "tsv"],
                           timeout=timeout)
    except subprocess.TimeoutExpired:
        raise ToolError("Text recognition took too long.") from None
    except OSError:
        raise ToolError("Tesseract is not available on this server.") from None
    if proc.returncode != 0:
        raise bad_input("The image could not be read for text recognition.")
    words: list[Word] = []
    line_ids: dict[tuple[str, str, str, str], int] = {}
    for row in proc.stdout.decode("utf-8", "replace").splitlines()[1:]:
        cols = row.split("\t")
        if len(cols) < 12 or cols[0] != "5" or not cols[11].strip():
            continue
        key = (cols[1], cols[2], cols[3], cols[4])
        line = line_ids.setdefault(key, len(line_ids))
        words.append(Word(cols[11].strip(), max(0.0, float(cols[10])) / 100,
                          (int(cols[6]), int(cols[7]), int(cols[8]), int(cols[9])), line))
    return words


_langs: set[str] | None = None


def _tesseract_has(lang: str) -> bool:
    global _langs
    if _langs is None:
        try:
            proc = subprocess.run(["tesseract", "--list-langs"], capture_output=True, timeout=30, check=False)
            _langs = set(proc.stdout.decode().split()[1:]) if proc.returncode == 0 else set()
        except (OSError, subprocess.TimeoutExpired):
            _langs = set()
    return lang in _langs


def text_of(words: list[Word]) -> str:
    lines: dict[int, list[str]] = {}
    for word in words:
        lines.setdefault(word.line, []).append(word.text)
    sep = ""
    out = []
    for index in sorted(lines):
        out.append(" ".join(lines[index]))
    return (sep + "\n").join(out)
