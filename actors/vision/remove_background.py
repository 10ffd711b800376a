"""Remove background (ISNet) and its /effects sub-route, which reuses the cached mask of an earlier job."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Literal

from pydantic import Field, field_validator

from actors import models
from actors._lazy import cv2, np
from actors.vision import _img, segmentation
from protocols.errors import ToolError, bad_input
from protocols.tools import Mode, Runs, Section, ToolCall, ToolResult, ToolSettings, tool

CACHE = "ai-cache"
JOB_ID = r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$"


class RemoveBackgroundSettings(ToolSettings):
    model: Literal["auto", "isnet", "birefnet"] = Field(
        "isnet", description="isnet (background-removal bundle) or birefnet (background-removal-hq bundle); "
                             "auto = the best installed (birefnet, else isnet)")
    background_type: Literal["transparent", "color", "gradient", "blur", "image"] = Field(
        "transparent", description="What replaces the background (image: send it as a part named 'background')")
    background_color: str = Field("#ffffff", pattern=_img.HEX, description="Colour for backgroundType=color")
    gradient_color1: str = Field("#4f46e5", pattern=_img.HEX, description="Gradient start colour")
    gradient_color2: str = Field("#ec4899", pattern=_img.HEX, description="Gradient end colour")
    gradient_angle: float = Field(90, ge=0, le=360, description="Gradient direction in degrees (0 = left to right)")
    blur_enabled: bool = Field(False, description="Blur the original background instead of removing it")
    blur_intensity: float = Field(50, ge=1, le=100, description="Background blur strength")
    shadow_enabled: bool = Field(False, description="Add a soft drop shadow under the subject")
    shadow_opacity: float = Field(50, ge=0, le=100, description="Shadow opacity in percent")
    format: Literal["png", "webp"] = Field("png", description="Output format")


    @field_validator("model")
    @classmethod
    def _auto_model(cls, value: str) -> str:
        if value != "auto":
            return value
        return models.best_installed([("birefnet", segmentation.HQ_BUNDLE), ("isnet", segmentation.BUNDLE)])


class EffectsSettings(RemoveBackgroundSettings):
    job_id: str = Field(..., pattern=JOB_ID, description="jobId of an earlier remove-background run")


def apply_effects(rgb: np.ndarray, mask: np.ndarray, s: RemoveBackgroundSettings,
                  background: np.ndarray | None = None) -> np.ndarray:
    h, w = mask.shape
    kind = "blur" if s.blur_enabled and s.background_type == "transparent" else s.background_type
    if kind == "transparent":
        if s.shadow_enabled:
            return segmentation.with_shadow_rgba(rgb, mask, s.shadow_opacity / 100)
        return np.dstack([rgb.astype(np.float32), mask * 255])
    if kind == "color":
        bg = segmentation.solid(h, w, _img.hex_rgb(s.background_color))
    elif kind == "gradient":
        bg = segmentation.gradient(h, w, _img.hex_rgb(s.gradient_color1), _img.hex_rgb(s.gradient_color2), s.gradient_angle)
    elif kind == "blur":
        bg = segmentation.blurred_background(rgb, mask, s.blur_intensity)
    else:
        if background is None:
            raise bad_input("backgroundType 'image' needs the background image as a second part named 'background'.")
        bg = _cover(background, w, h).astype(np.float32)
    if s.shadow_enabled:
        bg = bg * (1 - segmentation.drop_shadow(mask, s.shadow_opacity / 100))[..., None]
    return segmentation.composite(rgb, mask, bg)


def _cover(image: np.ndarray, w: int, h: int) -> np.ndarray:
    ih, iw = image.shape[:2]
    scale = max(w / iw, h / ih)
    resized = cv2.resize(image, (max(w, round(iw * scale)), max(h, round(ih * scale))), interpolation=cv2.INTER_AREA)
    y0 = (resized.shape[0] - h) // 2
    x0 = (resized.shape[1] - w) // 2
    return resized[y0: y0 + h, x0: x0 + w]


def cache_dir(workdir: Path) -> Path:
    return workdir.parent / CACHE


def _background_input(call: ToolCall) -> np.ndarray | None:
    for path, role in zip(call.inputs[1:], call.roles[1:] or ["background"] * (len(call.inputs) - 1), strict=False):
        if role in ("background", "file", "files"):
            return _img.load_rgb(path, call.limits)
    return None


# zlib level for the cut-out PNG: level 3 compresses a cut-out within ~2 % of level 6 in half the time
PNG_LEVEL = 3


def _save(out: np.ndarray, call: ToolCall, s: RemoveBackgroundSettings) -> Path:
    return _img.save(out, call, s.format, 100 if s.format == "webp" else None, png_compression=PNG_LEVEL)


def _render(rgb: np.ndarray, alpha: np.ndarray, s: RemoveBackgroundSettings,
            background: np.ndarray | None = None) -> np.ndarray:
    """The output pixels; the plain cut-out (the default) stays in uint8, with no float round trip."""
    plain = s.background_type == "transparent" and not s.blur_enabled and not s.shadow_enabled
    if plain:
        return segmentation.cutout(rgb, alpha)
    return apply_effects(rgb, alpha.astype(np.float32) * np.float32(1 / 255), s, background)


def _keep_source(src: Path, cache: Path) -> None:
    """The upload itself is what /effects decodes again (a hard link when possible): re-encoding the
    decoded pixels as PNG here took about a second on a 12 MP photo, inside every job."""
    cache.mkdir(parents=True, exist_ok=True)
    target = cache / SOURCE
    try:
        target.hardlink_to(src)
    except OSError:
        shutil.copyfile(src, target)


SOURCE = "source.upload"
MASK = "model-mask.png"


@tool("remove-background", section=Section.IMAGE, settings=RemoveBackgroundSettings,
      mode=Mode.LONG, inputs=(1, 2), roles=("background",), accepts={"image", "svg"},
      requires=lambda s: (segmentation.HQ_BUNDLE,) if s.model == "birefnet" else (segmentation.BUNDLE,), runs=Runs.THREAD)
def run(call: ToolCall[RemoveBackgroundSettings]) -> ToolResult:
    """Remove the background of a photo (transparent, colour, gradient, blur or image behind the subject)."""
    s = call.settings
    rgb, _alpha, _fmt = _img.load(call.inputs[0], call.limits)
    if call.progress:
        call.progress(10, "finding the subject")
    small = segmentation.model_alpha(rgb, s.model)
    alpha = segmentation.to_image(small, rgb.shape)
    cache = cache_dir(call.workdir)
    # the cache for /effects: the mask at the model's size (scaled again there exactly as here) and the upload
    segmentation.save_mask(small, cache / MASK)
    _keep_source(call.inputs[0], cache)
    path = _save(_render(rgb, alpha, s, _background_input(call)), call, s)
    coverage = float(alpha.mean()) / 255
    return ToolResult([path], {"subjectCoverage": round(coverage, 4), "model": s.model})


@tool("remove-background/effects", section=Section.IMAGE, settings=EffectsSettings,
      mode=Mode.FAST, inputs=(0, 1), roles=("backgroundImage",), accepts={"image", "svg"}, body="either",
      pipeline=False, runs=Runs.THREAD)
def effects(call: ToolCall[EffectsSettings]) -> ToolResult:
    """Apply background effects again using the cached mask of an earlier remove-background job (settings as a
    JSON body, or multipart: a `settings` part plus an optional `backgroundImage` file)."""
    s = call.settings
    cache = call.workdir.parent.parent / s.job_id / CACHE
    try:
        small = cv2.imread(str(cache / MASK), cv2.IMREAD_GRAYSCALE)
        if small is None or not (cache / SOURCE).is_file():
            raise FileNotFoundError
    except (FileNotFoundError, OSError):
        raise ToolError("No cached mask for that jobId: run remove-background first (results expire).",
                        status=404, code=_not_found()) from None
    rgb = _img.load_rgb(cache / SOURCE, call.limits)  # decoded as the job decoded it (upright, sRGB)
    alpha = segmentation.to_image(small, rgb.shape)
    background = _img.load_rgb(call.inputs[0], call.limits) if call.inputs else None
    if s.background_type == "image" and background is None:
        raise bad_input("backgroundType 'image' needs the background as a multipart file part named "
                        "'backgroundImage'.")
    call.names = [f"{s.job_id[:8]}-effects.png"]
    path = _save(_render(rgb, alpha, s, background), call, s)
    return ToolResult([path], {"sourceJobId": s.job_id})


def _not_found():
    from protocols.errors import ErrorCode

    return ErrorCode.NOT_FOUND
