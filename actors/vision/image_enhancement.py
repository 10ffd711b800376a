"""Image enhancement from an analysis of the picture (no model): exposure, contrast, colour, sharpness;
and /analyze, which returns the measurements and what it would change."""

from __future__ import annotations

import json
from typing import Literal

from pydantic import Field

from actors._lazy import cv2, np
from actors.vision import _img
from protocols.tools import Mode, Section, ToolCall, ToolResult, ToolSettings, tool


class EnhanceSettings(ToolSettings):
    mode: Literal["auto", "exposure", "contrast", "color", "sharpness"] = Field(
        "auto", description="What to correct (auto: whatever the analysis finds lacking)")
    strength: float = Field(50, ge=0, le=100, description="Strength of the corrections")


class AnalyzeSettings(ToolSettings):
    pass


def analyze(rgb: np.ndarray) -> dict:
    small = rgb if max(rgb.shape[:2]) <= 1024 else cv2.resize(
        rgb, None, fx=1024 / max(rgb.shape[:2]), fy=1024 / max(rgb.shape[:2]), interpolation=cv2.INTER_AREA)
    lab = cv2.cvtColor(small, cv2.COLOR_RGB2LAB)
    luma = lab[..., 0].astype(np.float32) / 255
    hsv = cv2.cvtColor(small, cv2.COLOR_RGB2HSV)
    grey = cv2.cvtColor(small, cv2.COLOR_RGB2GRAY)
    p2, p98 = np.percentile(luma, [2, 98])
    means = small.reshape(-1, 3).mean(axis=0)
    cast = float((means.max() - means.min()) / max(1.0, means.mean()))
    metrics = {
        "brightness": round(float(luma.mean()), 4),
        "contrast": round(float(luma.std()), 4),
        "dynamicRange": round(float(p98 - p2), 4),
        "saturation": round(float(hsv[..., 1].mean() / 255), 4),
        "sharpness": round(float(cv2.Laplacian(grey, cv2.CV_64F).var()), 2),
        "colorCast": round(cast, 4),
        "clippedShadows": round(float((luma < 0.02).mean()), 4),
        "clippedHighlights": round(float((luma > 0.98).mean()), 4),
    }
    recs = []
    if metrics["brightness"] < 0.38:
        recs.append({"mode": "exposure", "reason": "The image is dark.", "amount": round(0.5 - metrics["brightness"], 3)})
    elif metrics["brightness"] > 0.68:
        recs.append({"mode": "exposure", "reason": "The image is bright.", "amount": round(metrics["brightness"] - 0.5, 3)})
    if metrics["dynamicRange"] < 0.6 or metrics["contrast"] < 0.15:
        recs.append({"mode": "contrast", "reason": "The tones use little of the available range.",
                     "amount": round(0.8 - metrics["dynamicRange"], 3)})
    if metrics["saturation"] < 0.22 or metrics["colorCast"] > 0.25:
        recs.append({"mode": "color", "reason": "Colours are dull or have a cast.",
                     "amount": round(max(0.0, 0.3 - metrics["saturation"]) + metrics["colorCast"], 3)})
    if metrics["sharpness"] < 120:
        recs.append({"mode": "sharpness", "reason": "The image looks soft.", "amount": round(1 - metrics["sharpness"] / 120, 3)})
    return {"metrics": metrics, "recommendations": recs}


def _exposure(rgb: np.ndarray, brightness: float, k: float) -> np.ndarray:
    target = 0.5
    gamma = np.log(target) / np.log(max(0.02, min(0.98, brightness)))
    gamma = 1 + (gamma - 1) * k
    lut = np.clip(((np.arange(256) / 255.0) ** gamma) * 255, 0, 255).astype(np.uint8)
    return cv2.LUT(rgb, lut)


def _contrast(rgb: np.ndarray, k: float) -> np.ndarray:
    lab = cv2.cvtColor(rgb, cv2.COLOR_RGB2LAB)
    l_chan = lab[..., 0].astype(np.float32)
    lo, hi = np.percentile(l_chan, [1, 99])
    stretched = np.clip((l_chan - lo) / max(1.0, hi - lo) * 255, 0, 255)
    lab[..., 0] = np.clip(l_chan * (1 - k) + stretched * k, 0, 255).astype(np.uint8)
    clahe = cv2.createCLAHE(clipLimit=1.0 + 2 * k, tileGridSize=(8, 8))
    lab[..., 0] = cv2.addWeighted(lab[..., 0], 1 - k * 0.5, clahe.apply(lab[..., 0]), k * 0.5, 0)
    return cv2.cvtColor(lab, cv2.COLOR_LAB2RGB)


def _color(rgb: np.ndarray, k: float) -> np.ndarray:
    f = rgb.astype(np.float32)
    means = f.reshape(-1, 3).mean(axis=0)
    balanced = f * (means.mean() / np.maximum(means, 1.0))  # grey-world white balance
    f = f * (1 - k) + balanced * k
    hsv = cv2.cvtColor(np.clip(f, 0, 255).astype(np.uint8), cv2.COLOR_RGB2HSV).astype(np.float32)
    hsv[..., 1] = np.clip(hsv[..., 1] * (1 + 0.6 * k), 0, 255)
    return cv2.cvtColor(hsv.astype(np.uint8), cv2.COLOR_HSV2RGB)


def _sharpen(rgb: np.ndarray, k: float) -> np.ndarray:
    blurred = cv2.GaussianBlur(rgb, (0, 0), 1.5)
    return cv2.addWeighted(rgb, 1 + 1.5 * k, blurred, -1.5 * k, 0)


def enhance(rgb: np.ndarray, mode: str, strength: float) -> tuple[np.ndarray, list[str]]:
    report = analyze(rgb)
    k = strength / 100
    wanted = [r["mode"] for r in report["recommendations"]] if mode == "auto" else [mode]
    out = rgb
    for step in ("exposure", "contrast", "color", "sharpness"):
        if step not in wanted:
            continue
        if step == "exposure":
            out = _exposure(out, report["metrics"]["brightness"], k)
        elif step == "contrast":
            out = _contrast(out, k)
        elif step == "color":
            out = _color(out, k)
        else:
            out = _sharpen(out, k)
    return out, [w for w in ("exposure", "contrast", "color", "sharpness") if w in wanted]


@tool("image-enhancement", section=Section.IMAGE, settings=EnhanceSettings,
      mode=Mode.LONG, accepts={"image", "svg"})
def run(call: ToolCall[EnhanceSettings]) -> ToolResult:
    """Enhance exposure, contrast, colour and sharpness from an analysis of the image."""
    s = call.settings
    rgb, alpha, fmt = _img.load(call.inputs[0], call.limits)
    out, applied = enhance(rgb, s.mode, s.strength)
    if alpha is not None:
        out = np.dstack([out, alpha])
    path = _img.save(out, call, _img.output_format(None, fmt, alpha=alpha is not None), 92)
    return ToolResult([path], {"applied": applied, "before": analyze(rgb)["metrics"]})


@tool("image-enhancement/analyze", section=Section.IMAGE, settings=AnalyzeSettings,
      mode=Mode.FAST, accepts={"image", "svg"}, pipeline=False)
def analyze_route(call: ToolCall) -> ToolResult:
    """Analyse image quality and recommend enhancements."""
    rgb = _img.load_rgb(call.inputs[0], call.limits)
    report = analyze(rgb)
    out = call.workdir / f"{call.stem()}-analysis.json"
    out.write_text(json.dumps(report, indent=1))
    return ToolResult([out], report)
