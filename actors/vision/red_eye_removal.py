"""Red-eye removal: eyes are found inside detected faces; strongly red pupils are neutralised."""

from __future__ import annotations

from pydantic import Field

from actors._lazy import cv2, np
from actors.vision import _faces, _img
from protocols.tools import Mode, Runs, Section, ToolCall, ToolResult, ToolSettings, tool


class RedEyeSettings(ToolSettings):
    sensitivity: float = Field(0.5, ge=0, le=1, description="How red a pixel must be to count (higher = more)")
    strength: float = Field(100, ge=0, le=100, description="How much of the red is removed")


def fix_region(rgb: np.ndarray, box, sensitivity: float, strength: float) -> int:
    x, y, w, h = box
    patch = rgb[y: y + h, x: x + w].astype(np.float32)
    if patch.size == 0:
        return 0
    r, g, b = patch[..., 0], patch[..., 1], patch[..., 2]
    redness = r / (np.maximum(g, b) + 1.0)
    threshold = 2.2 - 1.0 * sensitivity  # 0.5 -> 1.7
    red = (redness > threshold) & (r > 70)
    # keep the pupil-shaped part: a filled, softened mask limited to the central area of the eye box
    yy, xx = np.mgrid[0:h, 0:w]
    central = ((xx - w / 2) / (w / 2)) ** 2 + ((yy - h / 2) / (h / 2)) ** 2 < 0.8
    mask = (red & central).astype(np.uint8)
    if mask.sum() == 0:
        return 0
    mask = cv2.morphologyEx(mask, cv2.MORPH_CLOSE, np.ones((3, 3), np.uint8))
    soft = cv2.GaussianBlur(mask.astype(np.float32), (0, 0), 1.0)[..., None] * (strength / 100)
    neutral = patch.copy()
    neutral[..., 0] = np.minimum(r, (g + b) / 2)  # red down to the level of the other channels
    rgb[y: y + h, x: x + w] = np.clip(patch * (1 - soft) + neutral * soft, 0, 255).astype(np.uint8)
    return int(mask.sum())


@tool("red-eye-removal", section=Section.IMAGE, settings=RedEyeSettings, mode=Mode.LONG,
      accepts={"image", "svg"}, requires=(_faces.BUNDLE,), runs=Runs.THREAD)
def run(call: ToolCall[RedEyeSettings]) -> ToolResult:
    """Remove red eyes from flash photos."""
    s = call.settings
    rgb, alpha, fmt = _img.load(call.inputs[0], call.limits)
    out = rgb.copy()
    faces = _faces.detect_faces(rgb, 0.5)
    eyes = [e for face in faces for e in _faces.detect_eyes(rgb, face)]
    fixed = sum(fix_region(out, e, s.sensitivity, s.strength) for e in eyes)
    if alpha is not None:
        out = np.dstack([out, alpha])
    path = _img.save(out, call, _img.output_format(None, fmt, alpha=alpha is not None), 92)
    return ToolResult([path], {"facesFound": len(faces), "eyesFound": len(eyes), "pixelsCorrected": fixed,
                               "eyes": _faces.as_json(eyes)})
