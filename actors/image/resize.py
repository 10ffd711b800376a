"""Resize: width/height with five fit modes, percentage, no-enlargement, and social-media presets."""

from __future__ import annotations

import math
from typing import Literal

import pyvips
from pydantic import Field, model_validator

from actors.common import imageio as v
from protocols.tools import Section, ToolCall, ToolResult, ToolSettings, tool

# name -> (width, height)
SOCIAL_PRESETS: dict[str, tuple[int, int]] = {
    "instagram-square": (1080, 1080),
    "instagram-portrait": (1080, 1350),
    "instagram-landscape": (1080, 566),
    "instagram-story": (1080, 1920),
    "facebook-post": (1200, 630),
    "facebook-cover": (820, 312),
    "facebook-profile": (170, 170),
    "facebook-story": (1080, 1920),
    "twitter-post": (1600, 900),
    "twitter-header": (1500, 500),
    "twitter-profile": (400, 400),
    "linkedin-post": (1200, 627),
    "linkedin-cover": (1584, 396),
    "linkedin-profile": (400, 400),
    "youtube-thumbnail": (1280, 720),
    "youtube-banner": (2560, 1440),
    "pinterest-pin": (1000, 1500),
    "tiktok-video": (1080, 1920),
    "snapchat-story": (1080, 1920),
    "whatsapp-profile": (500, 500),
    "og-image": (1200, 630),
    "email-header": (600, 200),
    "tumblr-post": (540, 810),
}

Fit = Literal["cover", "contain", "fill", "inside", "outside"]


class ResizeSettings(ToolSettings):
    width: int | None = Field(None, ge=1, le=65535, description="Target width in px")
    height: int | None = Field(None, ge=1, le=65535, description="Target height in px")
    fit: Fit = Field("cover", description="How to fit when both width and height are given")
    percentage: float | None = Field(None, gt=0, le=1000, description="Scale by percent instead of px")
    without_enlargement: bool = Field(False, description="Never make the image larger")
    preset: Literal[tuple(SOCIAL_PRESETS)] | None = Field(None, description="Social media size preset")  # type: ignore[valid-type]
    background: str | None = Field(
        None, pattern=r"^#?([0-9a-fA-F]{3,4}|[0-9a-fA-F]{6}|[0-9a-fA-F]{8})$", description="Padding colour (contain)"
    )

    @model_validator(mode="after")
    def _needs_a_size(self):
        if self.preset is None and self.percentage is None and self.width is None and self.height is None:
            raise ValueError("give width, height, percentage or preset")
        return self


def target_size(w: int, h: int, s: ResizeSettings) -> tuple[int, int, Fit]:
    """The output size for a source of w×h (already upright), and the fit that applies."""
    width, height, fit = s.width, s.height, s.fit
    if s.preset:
        width, height = SOCIAL_PRESETS[s.preset]
    if s.percentage is not None and not s.preset:
        tw, th = max(1, round(w * s.percentage / 100)), max(1, round(h * s.percentage / 100))
        fit = "fill"
    elif width and not height:
        tw, th, fit = width, max(1, round(h * width / w)), "fill"
    elif height and not width:
        tw, th, fit = max(1, round(w * height / h)), height, "fill"
    else:
        assert width and height
        if fit == "inside":
            scale = min(width / w, height / h)
            tw, th = max(1, round(w * scale)), max(1, round(h * scale))
        elif fit == "outside":
            scale = max(width / w, height / h)
            tw, th = max(1, math.ceil(w * scale - 1e-9)), max(1, math.ceil(h * scale - 1e-9))
        else:
            tw, th = width, height
    if s.without_enlargement and (tw > w or th > h):
        if fit in ("cover", "contain") and (tw > w or th > h):
            scale = min(1.0, min(w / tw, h / th))
            tw, th = max(1, round(tw * scale)), max(1, round(th * scale))
        else:
            scale = min(w / tw, h / th, 1.0)
            tw, th = max(1, round(tw * scale)), max(1, round(th * scale))
    return tw, th, fit


@tool("resize", section=Section.IMAGE, settings=ResizeSettings, accepts={"image", "svg"})
def run(call: ToolCall[ResizeSettings]) -> ToolResult:
    """Resize an image."""
    s = call.settings
    # sequential: the picture is read once, top to bottom (one resize, one encode); load_shrunk decodes this
    # same image where no shrink-on-load applies rather than opening the file again
    header, fmt = v.open_image(call.inputs[0], call.limits, access="sequential")
    w, h = v.upright_size(header)
    tw, th, fit = target_size(w, h, s)
    v.check_pixels(tw, th, call.limits, "The resized image")

    def scaled(width: int, height: int, cover: bool = False) -> pyvips.Image:
        """Shrink-on-load, then an exact resize (cover: scale to fill, then centre-crop)."""
        if cover:
            scale = max(width / w, height / h)
            sw, sh = max(width, round(w * scale)), max(height, round(h * scale))
        else:
            sw, sh = width, height
        source = v.load_shrunk(call.inputs[0], header, fmt, sw, sh, header_is_sequential=True)
        out = v.resize_exact(source, sw, sh)
        if cover and (sw, sh) != (width, height):
            out = out.crop((sw - width) // 2, (sh - height) // 2, width, height)
        return out

    if fit == "cover":
        image = v.run_vips("resized", scaled, tw, th, True)
    elif fit == "contain":
        scale = min(tw / w, th / h)
        iw, ih = max(1, round(w * scale)), max(1, round(h * scale))
        inner = v.run_vips("resized", scaled, iw, ih)
        out_fmt = v.output_format(fmt)
        if out_fmt in ("png", "webp", "avif", "tiff", "gif", "heic", "heif") and s.background is None:
            inner = v.with_alpha(inner)
        bg = v.background_for(inner, s.background, out_fmt)
        image = inner.gravity("centre", tw, th, extend="background", background=bg)
    else:  # fill, inside, outside and single-dimension: exact computed size
        image = v.run_vips("resized", scaled, tw, th)
    out = v.save(image, call.workdir, call.stem(), fmt)
    return ToolResult([out], {"width": image.width, "height": image.height})
