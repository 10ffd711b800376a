"""Smart crop: around the subject (attention or entropy), around a face (framing presets), or trim
uniform borders."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from actors._lazy import cv2, np
from actors.vision import _faces, _img
from protocols.tools import Mode, Runs, Section, ToolCall, ToolResult, ToolSettings, tool

# face box -> crop: width as a multiple of the face width, and where the face centre sits vertically (0..1)
FACE_PRESETS = {"closeup": (1.8, 0.45), "head-shoulders": (2.8, 0.38), "upper-body": (4.0, 0.3),
                "half-body": (5.5, 0.25)}


class SmartCropSettings(ToolSettings):
    mode: Literal["subject", "face", "trim"] = Field("subject", description="What to crop around")
    strategy: Literal["attention", "entropy"] = Field("attention", description="Subject mode: how interest is found")
    width: int | None = Field(None, ge=1, le=16384, description="Output width (with height: the crop's aspect)")
    height: int | None = Field(None, ge=1, le=16384, description="Output height")
    padding: int = Field(0, ge=0, le=1000, description="Extra margin around the subject/face/trimmed content (px)")
    face_preset: Literal["closeup", "head-shoulders", "upper-body", "half-body"] = Field(
        "head-shoulders", description="Face mode framing")
    sensitivity: float = Field(0.5, ge=0, le=1, description="Face detection sensitivity")
    threshold: int = Field(10, ge=0, le=255, description="Trim mode: colour distance still counted as border")
    pad_to_square: bool = Field(False, description="Pad the result to a square")
    pad_color: str = Field("#ffffff", pattern=_img.HEX, description="Padding colour")
    target_size: int | None = Field(None, ge=1, le=16384, description="Square output size when width/height unset")
    quality: int = Field(90, ge=1, le=100, description="Quality for lossy formats")


def _aspect(s: SmartCropSettings, w: int, h: int) -> float | None:
    if s.width and s.height:
        return s.width / s.height
    if s.target_size and not (s.width or s.height):
        return 1.0
    return None


def attention_map(rgb: np.ndarray) -> np.ndarray:
    """Where the eye goes: edges, saturation and skin tones (the idea of sharp's 'attention')."""
    grey = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY).astype(np.float32)
    edges = np.abs(cv2.Laplacian(cv2.GaussianBlur(grey, (0, 0), 1.0), cv2.CV_32F))
    hsv = cv2.cvtColor(rgb, cv2.COLOR_RGB2HSV).astype(np.float32)
    sat = hsv[..., 1] / 255 * (hsv[..., 2] / 255)
    ycc = cv2.cvtColor(rgb, cv2.COLOR_RGB2YCrCb)
    skin = ((ycc[..., 1] > 135) & (ycc[..., 1] < 180) & (ycc[..., 2] > 85) & (ycc[..., 2] < 135)).astype(np.float32)
    score = edges / (edges.mean() + 1e-3) + 2 * sat / (sat.mean() + 1e-3) * 0.5 + skin * 2
    return cv2.GaussianBlur(score, (0, 0), max(2.0, min(rgb.shape[:2]) / 50))


def entropy_map(rgb: np.ndarray) -> np.ndarray:
    grey = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY).astype(np.float32)
    mean = cv2.blur(grey, (9, 9))
    var = cv2.blur(grey * grey, (9, 9)) - mean * mean
    return np.log1p(np.maximum(var, 0))


def best_window(score: np.ndarray, cw: int, ch: int) -> tuple[int, int]:
    h, w = score.shape
    integral = cv2.integral(score.astype(np.float64))
    sums = integral[ch:, cw:] - integral[:h - ch + 1, cw:] - integral[ch:, :w - cw + 1] + integral[:h - ch + 1, :w - cw + 1]
    y, x = np.unravel_index(int(np.argmax(sums)), sums.shape)
    return int(x), int(y)


def _fit(x0: float, y0: float, x1: float, y1: float, aspect: float | None, w: int, h: int) -> tuple[int, int, int, int]:
    """Grow the box to the aspect, then keep it inside the image (shrinking only if it cannot fit)."""
    bw, bh = x1 - x0, y1 - y0
    if aspect:
        if bw / bh < aspect:
            bw = bh * aspect
        else:
            bh = bw / aspect
        if bw > w:
            bw, bh = w, w / aspect
        if bh > h:
            bh, bw = h, h * aspect
    bw, bh = min(bw, w), min(bh, h)
    cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
    left = int(round(min(max(0, cx - bw / 2), w - bw)))
    top = int(round(min(max(0, cy - bh / 2), h - bh)))
    return left, top, max(1, int(round(bw))), max(1, int(round(bh)))


def trim_box(rgb: np.ndarray, alpha: np.ndarray | None, threshold: int) -> tuple[int, int, int, int] | None:
    if alpha is not None and alpha.min() < 255:
        content = alpha > threshold
    else:
        corners = np.array([rgb[0, 0], rgb[0, -1], rgb[-1, 0], rgb[-1, -1]], np.float32)
        ref = np.median(corners, axis=0)
        content = np.abs(rgb.astype(np.float32) - ref).max(axis=2) > threshold
    ys, xs = np.nonzero(content)
    if len(xs) == 0:
        return None
    return int(xs.min()), int(ys.min()), int(xs.max() - xs.min() + 1), int(ys.max() - ys.min() + 1)


@tool("smart-crop", section=Section.IMAGE, settings=SmartCropSettings, mode=Mode.LONG,
      accepts={"image", "svg"}, requires=lambda s: (_faces.BUNDLE,) if s.mode == "face" else (), runs=Runs.THREAD)
def run(call: ToolCall[SmartCropSettings]) -> ToolResult:
    """Crop to the interesting part: the subject, a face, or the content inside uniform borders."""
    s = call.settings
    rgb, alpha, fmt = _img.load(call.inputs[0], call.limits)
    h, w = rgb.shape[:2]
    aspect = _aspect(s, w, h)
    extra: dict = {"mode": s.mode}
    if s.mode == "trim":
        box = trim_box(rgb, alpha, s.threshold) or (0, 0, w, h)
        x, y, bw, bh = box
        box = _fit(x - s.padding, y - s.padding, x + bw + s.padding, y + bh + s.padding, None, w, h)
    elif s.mode == "face":
        faces = _faces.detect_faces(rgb, s.sensitivity)
        extra["facesFound"] = len(faces)
        if faces:
            fx, fy, fw, fh = max(faces, key=lambda f: f[2] * f[3])
            scale, centre = FACE_PRESETS[s.face_preset]
            cw = fw * scale + 2 * s.padding
            ch = cw / (aspect or 0.8)
            cx, cy = fx + fw / 2, fy + fh / 2
            top = cy - ch * centre
            box = _fit(cx - cw / 2, top, cx + cw / 2, top + ch, aspect or 0.8, w, h)
            extra["face"] = _faces.as_json([(fx, fy, fw, fh)])[0]
        else:
            box = _subject_box(rgb, aspect or 1.0, s)
    else:
        box = _subject_box(rgb, aspect, s)
    x, y, bw, bh = box
    out = rgb[y: y + bh, x: x + bw]
    a = alpha[y: y + bh, x: x + bw] if alpha is not None else None
    target = (s.width, s.height) if s.width and s.height else (
        (s.target_size, s.target_size) if s.target_size and not (s.width or s.height) else None)
    if target is None and (s.width or s.height):
        target = (s.width, round(bh * s.width / bw)) if s.width else (round(bw * s.height / bh), s.height)
    if target and target != (bw, bh):
        interp = cv2.INTER_AREA if target[0] < bw else cv2.INTER_CUBIC
        out = cv2.resize(out, target, interpolation=interp)
        a = cv2.resize(a, target, interpolation=interp) if a is not None else None
    if s.pad_to_square and out.shape[0] != out.shape[1]:
        side = max(out.shape[:2])
        colour = _img.hex_rgb(s.pad_color)
        canvas = np.empty((side, side, 3), np.uint8)
        canvas[:] = colour
        oy, ox = (side - out.shape[0]) // 2, (side - out.shape[1]) // 2
        canvas[oy: oy + out.shape[0], ox: ox + out.shape[1]] = out
        if a is not None:
            a2 = np.zeros((side, side), np.uint8)
            a2[oy: oy + a.shape[0], ox: ox + a.shape[1]] = a
            a = a2
        out = canvas
    if a is not None:
        out = np.dstack([out, a])
    path = _img.save(out, call, _img.output_format(None, fmt, alpha=a is not None), s.quality)
    extra["crop"] = {"x": x, "y": y, "width": bw, "height": bh}
    return ToolResult([path], extra)


def _subject_box(rgb: np.ndarray, aspect: float | None, s: SmartCropSettings) -> tuple[int, int, int, int]:
    h, w = rgb.shape[:2]
    score = attention_map(rgb) if s.strategy == "attention" else entropy_map(rgb)
    if aspect:  # the largest window of that aspect, placed where the interest is highest
        cw, ch = (w, round(w / aspect)) if w / h < aspect else (round(h * aspect), h)
        cw, ch = max(1, min(cw, w)), max(1, min(ch, h))
        x, y = best_window(score, cw, ch)
        return x, y, cw, ch
    # no aspect: the bounding box of the most interesting area (top 25 % of the scores), plus padding
    cut = np.percentile(score, 75)
    ys, xs = np.nonzero(score >= cut)
    x0, x1, y0, y1 = xs.min() - s.padding, xs.max() + 1 + s.padding, ys.min() - s.padding, ys.max() + 1 + s.padding
    return _fit(max(0, x0), max(0, y0), min(w, x1), min(h, y1), None, w, h)
