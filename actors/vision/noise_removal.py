"""Noise removal in tiers: quick (bilateral), balanced (non-local means), quality (NL-means with detail
restore), maximum (two NL-means passes and chroma smoothing)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from actors._lazy import cv2, np
from actors.vision import _img
from protocols.tools import Mode, Section, ToolCall, ToolResult, ToolSettings, tool


class NoiseRemovalSettings(ToolSettings):
    tier: Literal["quick", "balanced", "quality", "maximum"] = Field("balanced", description="Speed/quality tier")
    strength: float = Field(50, ge=0, le=100, description="Denoising strength")
    detail_preservation: float = Field(50, ge=0, le=100, description="How much fine detail is given back")
    color_noise: float = Field(50, ge=0, le=100, description="Extra smoothing of colour (chroma) noise")
    format: Literal["png", "jpeg", "webp"] | None = Field(None, description="Output format (default: as input)")
    quality: int = Field(92, ge=1, le=100, description="Quality for lossy formats")


def denoise(rgb: np.ndarray, s: NoiseRemovalSettings) -> np.ndarray:
    h_luma = 3 + s.strength / 100 * 12  # 3..15
    h_chroma = h_luma * (0.5 + s.color_noise / 100)
    bgr = cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR)
    if s.tier == "quick":
        d = 5 + int(s.strength / 25)
        out = cv2.bilateralFilter(bgr, d, 20 + s.strength, 5 + s.strength / 10)
    elif s.tier == "balanced":
        out = cv2.fastNlMeansDenoisingColored(bgr, None, h_luma, h_chroma, 7, 21)
    elif s.tier == "quality":
        out = cv2.fastNlMeansDenoisingColored(bgr, None, h_luma, h_chroma, 7, 35)
    else:
        out = cv2.fastNlMeansDenoisingColored(bgr, None, h_luma * 1.2, h_chroma * 1.3, 7, 35)
        ycc = cv2.cvtColor(out, cv2.COLOR_BGR2YCrCb)
        ycc[..., 1:] = cv2.bilateralFilter(ycc, 7, 30, 5)[..., 1:]
        out = cv2.cvtColor(ycc, cv2.COLOR_YCrCb2BGR)
    if s.detail_preservation > 0 and s.tier in ("quality", "maximum"):
        # give back a share of the removed high-frequency detail where there are edges
        removed = bgr.astype(np.float32) - out.astype(np.float32)
        edges = cv2.Canny(cv2.cvtColor(out, cv2.COLOR_BGR2GRAY), 50, 150)
        weight = cv2.GaussianBlur(edges.astype(np.float32) / 255, (0, 0), 1.5)[..., None]
        out = np.clip(out + removed * weight * (s.detail_preservation / 100) * 0.6, 0, 255).astype(np.uint8)
    return cv2.cvtColor(out, cv2.COLOR_BGR2RGB)


@tool("noise-removal", section=Section.IMAGE, settings=NoiseRemovalSettings,
      mode=Mode.LONG, accepts={"image", "svg"})
def run(call: ToolCall[NoiseRemovalSettings]) -> ToolResult:
    """Remove sensor noise and grain."""
    s = call.settings
    rgb, alpha, fmt = _img.load(call.inputs[0], call.limits)
    out = denoise(rgb, s)
    if alpha is not None:
        out = np.dstack([out, alpha])
    path = _img.save(out, call, _img.output_format(s.format, fmt, alpha=alpha is not None), s.quality)
    return ToolResult([path], {"tier": s.tier})
