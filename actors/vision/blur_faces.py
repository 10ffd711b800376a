"""Face / PII blur: find faces and blur (or pixelate) them, leaving the rest of the image untouched."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from actors._lazy import cv2, np
from actors.vision import _faces, _img
from protocols.tools import Mode, Runs, Section, ToolCall, ToolResult, ToolSettings, tool


class BlurFacesSettings(ToolSettings):
    blur_radius: int = Field(30, ge=1, le=100, description="Blur strength")
    sensitivity: float = Field(0.5, ge=0, le=1, description="Detection sensitivity (higher finds more faces)")
    method: Literal["blur", "pixelate"] = Field("blur", description="Blur or pixelate the faces")
    format: Literal["png", "jpeg", "webp"] | None = Field(None, description="Output format (default: as input)")
    quality: int = Field(90, ge=1, le=100, description="Quality for lossy formats")


def blur_regions(rgb: np.ndarray, boxes, radius: int, method: str = "blur", grow: float = 0.15) -> np.ndarray:
    out = rgb.copy()
    h, w = rgb.shape[:2]
    for x, y, bw, bh in boxes:
        gx, gy = int(bw * grow), int(bh * grow)
        x0, y0, x1, y1 = max(0, x - gx), max(0, y - gy), min(w, x + bw + gx), min(h, y + bh + gy)
        patch = rgb[y0:y1, x0:x1]
        if patch.size == 0:
            continue
        if method == "pixelate":
            cells = max(2, int(12 - radius / 10))
            small = cv2.resize(patch, (cells, max(2, cells * patch.shape[0] // max(1, patch.shape[1]))),
                               interpolation=cv2.INTER_AREA)
            covered = cv2.resize(small, (patch.shape[1], patch.shape[0]), interpolation=cv2.INTER_NEAREST)
        else:
            sigma = max(2.0, radius / 100 * max(patch.shape[:2]) / 3)
            covered = cv2.GaussianBlur(patch, (0, 0), sigma)
        mask = np.zeros(patch.shape[:2], np.float32)
        cv2.ellipse(mask, ((patch.shape[1] / 2, patch.shape[0] / 2), (patch.shape[1], patch.shape[0]), 0), 1.0, -1)
        m = mask[..., None]
        out[y0:y1, x0:x1] = (covered * m + patch * (1 - m)).astype(np.uint8)
    return out


@tool("blur-faces", section=Section.IMAGE, settings=BlurFacesSettings, mode=Mode.LONG,
      accepts={"image", "svg"}, requires=(_faces.BUNDLE,), runs=Runs.THREAD)
def run(call: ToolCall[BlurFacesSettings]) -> ToolResult:
    """Blur every face in a photo."""
    s = call.settings
    rgb, alpha, fmt = _img.load(call.inputs[0], call.limits)
    faces = _faces.detect_faces(rgb, s.sensitivity)
    out = blur_regions(rgb, faces, s.blur_radius, s.method)
    if alpha is not None:
        out = np.dstack([out, alpha])
    path = _img.save(out, call, _img.output_format(s.format, fmt, alpha=alpha is not None), s.quality)
    return ToolResult([path], {"facesFound": len(faces), "faces": _faces.as_json(faces)})
