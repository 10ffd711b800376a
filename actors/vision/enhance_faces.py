"""Face enhancement: detected faces are restored with GFPGAN or CodeFormer and blended back with `strength`.

model=gfpgan needs the photo-restoration bundle, model=codeformer the face-restoration-codeformer bundle
(CodeFormer at a fixed fidelity weight of 0.7); both need face-detection. The bundle check depends on the
settings, so a missing one is a 501 naming it before the job is queued.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, field_validator

from actors import models
from actors._lazy import np
from actors.vision import _faces, _img, _restore
from protocols.tools import Mode, Runs, Section, ToolCall, ToolResult, ToolSettings, tool


class EnhanceFacesSettings(ToolSettings):
    model: Literal["auto", "gfpgan", "codeformer"] = Field(
        "gfpgan", description="Restoration model: gfpgan (photo-restoration bundle) or codeformer "
        "(face-restoration-codeformer bundle, fidelity weight 0.7); auto = the best installed (codeformer, "
        "else gfpgan)")
    strength: float = Field(80, ge=0, le=100, description="How much of the restored face is blended in")
    sensitivity: float = Field(0.5, ge=0, le=1, description="Face detection sensitivity")
    center_face: bool = Field(False, description="Only the face nearest the centre")

    @field_validator("model")
    @classmethod
    def _auto_model(cls, value: str) -> str:
        if value != "auto":
            return value
        return models.best_installed([(m, _restore.face_bundle(m)) for m in ("codeformer", "gfpgan")])


def requirement(settings) -> tuple[str, ...]:
    return (_faces.BUNDLE, _restore.face_bundle(getattr(settings, "model", None) or "gfpgan"))


@tool("enhance-faces", section=Section.IMAGE, settings=EnhanceFacesSettings,
      mode=Mode.LONG, accepts={"image", "svg"}, requires=requirement, runs=Runs.THREAD)
def run(call: ToolCall[EnhanceFacesSettings]) -> ToolResult:
    """Restore blurry or damaged faces."""
    s = call.settings
    models.require(_restore.face_bundle(s.model))  # before any work: 501 naming the model's bundle
    rgb, alpha, fmt = _img.load(call.inputs[0], call.limits)
    faces = _faces.detect_faces(rgb, s.sensitivity)
    if s.center_face and faces:
        h, w = rgb.shape[:2]
        faces = [min(faces, key=lambda f: (f[0] + f[2] / 2 - w / 2) ** 2 + (f[1] + f[3] / 2 - h / 2) ** 2)]
    out = _restore.enhance_faces(rgb, faces, s.strength, s.model)
    if alpha is not None:
        out = np.dstack([out, alpha])
    path = _img.save(out, call, _img.output_format(None, fmt, alpha=alpha is not None), 92)
    extra = {"facesFound": len(faces), "faces": _faces.as_json(faces), "model": s.model}
    if s.model == "codeformer":
        extra["fidelity"] = _restore.CODEFORMER_FIDELITY
    return ToolResult([path], extra)
