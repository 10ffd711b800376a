"""Beautify screenshot: a background (solid, gradients, image, transparent), a window or device frame,
rounded corners, a shadow preset, social-media canvas presets and an optional watermark text."""

from __future__ import annotations

from typing import Literal
from xml.sax.saxutils import escape

from pydantic import Field

from actors.common import imageio as v
from actors.image import _layout as lay
from protocols.errors import bad_input
from protocols.tools import Section, ToolCall, ToolResult, ToolSettings, tool

SOCIAL = {"twitter": (1600, 900), "linkedin": (1200, 627), "instagram-square": (1080, 1080),
          "instagram-story": (1080, 1920), "facebook": (1200, 630), "producthunt": (1270, 760)}
# preset -> (blur px, y offset px, opacity)
SHADOWS = {"none": None, "small": (12, 4, 0.25), "medium": (30, 12, 0.35), "large": (60, 24, 0.45),
           "floating": (90, 48, 0.35)}
FRAMES = ("none", "macos-light", "macos-dark", "windows-light", "windows-dark", "browser-light", "browser-dark",
          "iphone", "android", "ipad", "macbook")


class BeautifySettings(ToolSettings):
    background_type: Literal["solid", "linear-gradient", "radial-gradient", "image", "transparent"] = Field(
        "linear-gradient", description="Background fill (image: send it as a second part named 'background')")
    background_color: str = Field("#f1f5f9", pattern=lay.HEX_PATTERN, description="Solid background colour")
    gradient_stops: list[str] = Field(["#667eea", "#764ba2"], min_length=2, max_length=8,
                                      description="Gradient colours, evenly spaced")
    gradient_angle: float = Field(135, ge=0, le=360, description="Linear gradient angle, degrees (CSS)")
    padding: int = Field(64, ge=0, le=1000, description="Space around the screenshot, px")
    border_radius: int = Field(12, ge=0, le=200, description="Corner radius of the screenshot/window, px")
    shadow_preset: Literal["none", "small", "medium", "large", "floating"] = Field("medium", description="Shadow")
    frame: Literal[FRAMES] = Field("none", description="Window or device frame")  # type: ignore[valid-type]
    social_preset: Literal[("none", *SOCIAL)] = Field("none", description="Fixed canvas size")  # type: ignore[valid-type]
    watermark_text: str | None = Field(None, max_length=100, description="Small text in the bottom-right corner")
    output_format: Literal["png", "jpeg", "jpg", "webp"] = Field("png", description="Output format")


def _bar(width: int, height: int, dark: bool, kind: str, radius: int) -> str:
    bg = "#2b2b2e" if dark else "#e9e9ec"
    parts = [f'<path d="M0 {height} V{radius} Q0 0 {radius} 0 H{width - radius} Q{width} 0 {width} {radius} '
             f'V{height} Z" fill="{bg}"/>']
    cy, r = height / 2, height * 0.18
    if kind in ("macos", "browser"):
        for i, colour in enumerate(("#ff5f57", "#febc2e", "#28c840")):
            parts.append(f'<circle cx="{height * 0.55 + i * r * 3.2:.1f}" cy="{cy:.1f}" r="{r:.1f}" fill="{colour}"/>')
    if kind == "browser":
        left = height * 0.55 + r * 9
        field = "#3c3c40" if dark else "#ffffff"
        parts.append(f'<rect x="{left:.1f}" y="{height * 0.2:.1f}" width="{max(10, width - left - height * 0.5):.1f}" '
                     f'height="{height * 0.6:.1f}" rx="{height * 0.3:.1f}" fill="{field}"/>')
    if kind == "windows":
        ink = "#d0d0d0" if dark else "#333333"
        step = height * 1.4
        for i in range(3):
            x = width - step * (3 - i) + step / 2
            if i == 0:
                parts.append(f'<line x1="{x - 6}" y1="{cy}" x2="{x + 6}" y2="{cy}" stroke="{ink}" stroke-width="1.5"/>')
            elif i == 1:
                parts.append(f'<rect x="{x - 5}" y="{cy - 5}" width="10" height="10" fill="none" stroke="{ink}" '
                             f'stroke-width="1.5"/>')
            else:
                parts.append(f'<path d="M{x - 5} {cy - 5} L{x + 5} {cy + 5} M{x + 5} {cy - 5} L{x - 5} {cy + 5}" '
                             f'stroke="{ink}" stroke-width="1.5"/>')
    return "".join(parts)


def framed(shot, s: BeautifySettings):
    """The screenshot inside its window or device frame (RGBA)."""
    w, h = shot.width, shot.height
    radius = s.border_radius
    if s.frame == "none":
        return lay.round_corners(shot, radius)
    if s.frame.split("-")[0] in ("macos", "windows", "browser"):
        kind, theme = s.frame.split("-")
        bar = max(28, round(w * 0.035)) if kind != "browser" else max(36, round(w * 0.045))
        radius = min(radius, bar)
        top = lay.render_svg(lay.svg_doc(w, bar, _bar(w, bar, theme == "dark", kind, radius)), w, bar)
        window = lay.solid(w, h + bar, [0, 0, 0, 0])
        window = lay.paste(window, top, 0, 0)
        window = lay.paste(window, shot, 0, bar)
        return lay.round_corners(window, radius)
    # devices: a dark bezel around the screen
    bezel = {"iphone": 0.05, "android": 0.04, "ipad": 0.06, "macbook": 0.035}[s.frame] * max(w, h)
    bezel = max(8, round(bezel))
    outer_r = {"iphone": 0.12, "android": 0.08, "ipad": 0.06, "macbook": 0.03}[s.frame] * max(w, h)
    screen_r = max(0, outer_r - bezel * 0.6)
    W, H = w + 2 * bezel, h + 2 * bezel
    base_h = round(bezel * 1.6) if s.frame == "macbook" else 0
    extra_w = round(W * 0.12) if s.frame == "macbook" else 0
    total_w, total_h = W + 2 * extra_w, H + base_h
    body = [f'<rect x="{extra_w}" y="0" width="{W}" height="{H}" rx="{outer_r:.1f}" fill="#111114"/>',
            f'<rect x="{extra_w + 2}" y="2" width="{W - 4}" height="{H - 4}" rx="{max(0, outer_r - 2):.1f}" '
            f'fill="none" stroke="#3a3a3f" stroke-width="2"/>']
    if s.frame == "iphone":
        body.append(f'<rect x="{extra_w + W / 2 - w * 0.14:.1f}" y="{bezel + h * 0.012:.1f}" width="{w * 0.28:.1f}" '
                    f'height="{max(6, w * 0.06):.1f}" rx="{max(3, w * 0.03):.1f}" fill="#000"/>')
    if s.frame == "macbook":
        body.append(f'<path d="M0 {H} H{total_w} L{total_w - extra_w * 0.3:.1f} {total_h} H{extra_w * 0.3:.1f} Z" '
                    f'fill="#c7c8cc"/>')
        body.append(f'<rect x="{total_w / 2 - W * 0.08:.1f}" y="{H}" width="{W * 0.16:.1f}" height="{base_h * 0.35:.1f}" '
                    f'rx="{base_h * 0.15:.1f}" fill="#a9aaae"/>')
    device = lay.render_svg(lay.svg_doc(total_w, total_h, "".join(body)), total_w, total_h)
    screen = lay.round_corners(shot, screen_r)
    out = lay.paste(device, screen, extra_w + bezel, bezel)
    if s.frame == "iphone":  # the island sits on the screen
        island = lay.render_svg(lay.svg_doc(total_w, total_h, body[2]), total_w, total_h)
        out = lay.paste(out, island, 0, 0)
    return out


def background(width: int, height: int, s: BeautifySettings, image):
    if s.background_type == "solid":
        return lay.solid(width, height, lay.rgba(s.background_color))
    if s.background_type == "transparent":
        return lay.solid(width, height, [0, 0, 0, 0])
    if s.background_type == "image":
        return v.with_alpha(lay.cover(image, width, height))
    colours = [lay.rgba(c) for c in s.gradient_stops]
    stops = [(i / (len(colours) - 1), c) for i, c in enumerate(colours)]
    if s.background_type == "radial-gradient":
        return lay.radial_gradient(width, height, stops)
    return lay.linear_gradient(width, height, stops, s.gradient_angle)


@tool("beautify", section=Section.IMAGE, settings=BeautifySettings, inputs=(1, 2),
      roles=("background",), accepts={"image", "svg"})
def run(call: ToolCall[BeautifySettings]) -> ToolResult:
    """Put a screenshot on a background with a frame and a shadow."""
    s = call.settings
    for colour in s.gradient_stops:
        lay.rgba(colour)
    shot, _ = lay.load_rgba(call.inputs[0], call.limits)
    bg_image = None
    if s.background_type == "image":
        if len(call.inputs) < 2:
            raise bad_input("backgroundType 'image' needs the background picture as a second part named 'background'.")
        bg_image = lay.load_rgba(call.inputs[1], call.limits)[0]
    window = v.run_vips("framed", lambda: framed(shot, s).copy_memory())
    if s.social_preset != "none":
        W, H = SOCIAL[s.social_preset]
        room_w, room_h = max(16, W - 2 * s.padding), max(16, H - 2 * s.padding)
        if window.width > room_w or window.height > room_h or s.padding:
            window = v.run_vips("scaled", lay.contain, window, room_w, room_h)
    else:
        W, H = window.width + 2 * s.padding, window.height + 2 * s.padding
    v.check_pixels(W, H, call.limits, "The result")
    x, y = (W - window.width) // 2, (H - window.height) // 2

    def compose():
        canvas = background(W, H, s, bg_image)
        preset = SHADOWS[s.shadow_preset]
        if preset:
            blur, dy, opacity = preset
            spread = blur
            shade = lay.shadow(window[3], blur, [0, 0, 0, 255], opacity, spread)
            canvas = lay.paste(canvas, shade, x - spread, y - spread + dy)
        canvas = lay.paste(canvas, window, x, y)
        if s.watermark_text:
            size = max(12, round(min(W, H) * 0.025))
            text = (f'<text x="{W - size}" y="{H - size}" font-family="DejaVu Sans, sans-serif" font-size="{size}" '
                    f'text-anchor="end" fill="#ffffff" fill-opacity="0.85" stroke="#000000" stroke-opacity="0.25" '
                    f'stroke-width="1">{escape(s.watermark_text)}</text>')
            canvas = lay.paste(canvas, lay.render_svg(lay.svg_doc(W, H, text), W, H), 0, 0)
        return canvas.copy_memory()

    result = v.run_vips("composed", compose)
    fmt = "jpeg" if s.output_format == "jpg" else s.output_format
    if fmt == "jpeg":
        result = result.flatten(background=[255, 255, 255]).cast("uchar")
    out = lay.save_as(result, call.workdir, f"{call.stem()}-beautified", fmt)
    return ToolResult([out], {"width": W, "height": H, "frame": s.frame})
