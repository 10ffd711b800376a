"""Photo restoration pipeline: scratch and dust removal, denoising, face restoration, optional colorization."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from actors import models
from actors._lazy import cv2, np
from actors.vision import _faces, _img, _inpaint, _restore
from actors.vision.noise_removal import NoiseRemovalSettings, denoise
from protocols.tools import Mode, Runs, Section, ToolCall, ToolResult, ToolSettings, tool


class RestorePhotoSettings(ToolSettings):
    mode: Literal["auto", "light", "heavy"] = Field("auto", description="How aggressive scratch detection is")
    scratch_removal: bool = Field(True, description="Find and fill scratches and dust")
    face_enhancement: bool = Field(False, description="Restore faces with GFPGAN (photo-restoration bundle), or "
                                   "with CodeFormer when only face-restoration-codeformer is installed")
    fidelity: float = Field(0.7, ge=0, le=1, description="Face restoration: 1 keeps more of the original face "
                            "(CodeFormer's fidelity weight; with GFPGAN, less of the restored face is blended in)")
    denoise: bool = Field(True, description="Remove grain and noise")
    denoise_strength: float = Field(40, ge=0, le=100, description="Denoising strength")
    colorize: bool = Field(False, description="Colorize a black-and-white photo (object-eraser-colorize bundle)")


def _face_model() -> str:
    """GFPGAN when its bundle is installed (as before CodeFormer existed), else CodeFormer if installed;
    with neither, GFPGAN's bundle is the one named as missing."""
    if not models.is_installed(_restore.FACE_BUNDLE) and models.is_installed(_restore.CODEFORMER_BUNDLE):
        return "codeformer"
    return "gfpgan"


def _needs(s: RestorePhotoSettings) -> tuple[str, ...]:
    need: list[str] = []
    if s.face_enhancement:
        need += [_faces.BUNDLE, _restore.face_bundle(_face_model())]
    if s.colorize:
        need.append(_restore.COLOR_BUNDLE)
    return tuple(need)


def scratch_mask(rgb: np.ndarray, mode: str) -> np.ndarray:
    """Thin bright or dark lines and specks that stand out from their surroundings."""
    grey = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)
    k = max(7, int(min(grey.shape) / 60) | 1)
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (k, k))
    bright = cv2.morphologyEx(grey, cv2.MORPH_TOPHAT, kernel)
    dark = cv2.morphologyEx(grey, cv2.MORPH_BLACKHAT, kernel)
    level = {"light": 70, "auto": 50, "heavy": 35}[mode]
    mask = ((bright > level) | (dark > level)).astype(np.uint8)
    # keep elongated or small marks, not large details
    count, labels, stats, _ = cv2.connectedComponentsWithStats(mask, 8)
    keep = np.zeros(count, bool)
    for i in range(1, count):
        w, h, area = stats[i, cv2.CC_STAT_WIDTH], stats[i, cv2.CC_STAT_HEIGHT], stats[i, cv2.CC_STAT_AREA]
        elongated = max(w, h) >= 4 * max(1, min(w, h)) or area / float(w * h) < 0.35
        keep[i] = area <= 30 or elongated
    return cv2.dilate(keep[labels].astype(np.uint8), np.ones((3, 3), np.uint8)) > 0


@tool("restore-photo", section=Section.IMAGE, settings=RestorePhotoSettings, mode=Mode.LONG,
      accepts={"image", "svg"}, requires=_needs, runs=Runs.THREAD)
def run(call: ToolCall[RestorePhotoSettings]) -> ToolResult:
    """Restore an old photo: scratches, noise, faces and (optionally) colour."""
    s = call.settings
    rgb, _alpha, fmt = _img.load(call.inputs[0], call.limits)
    out = rgb
    steps: list[str] = []
    extra: dict = {}
    if s.scratch_removal:
        mask = scratch_mask(out, s.mode)
        extra["scratchPixels"] = int(mask.sum())
        if mask.any():
            use_lama = models.is_installed(_inpaint.BUNDLE)
            out = _inpaint.lama(out, mask) if use_lama else _inpaint.telea(out, mask, 3)
            steps.append("scratches:" + ("lama" if use_lama else "opencv"))
    if s.denoise:
        out = denoise(out, NoiseRemovalSettings(tier="quality", strength=s.denoise_strength))
        steps.append("denoise")
    if s.face_enhancement:
        model = _face_model()
        faces = _faces.detect_faces(out, 0.5)
        if model == "codeformer":  # the fidelity is the model's own input; the restored face is kept whole
            out = _restore.enhance_faces(out, faces, 100, model, s.fidelity)
        else:
            out = _restore.enhance_faces(out, faces, (1 - s.fidelity * 0.7) * 100)
        extra["facesFound"] = len(faces)
        extra["faceModel"] = model
        steps.append("faces")
    if s.colorize:
        out = _restore.colorize(out)
        steps.append("colorize")
    extra["steps"] = steps
    return ToolResult([_img.save(out, call, _img.output_format(None, fmt), 92)], extra)
