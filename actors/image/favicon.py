"""Favicon generator: every standard icon size, a multi-size .ico, the Apple touch icon, a web app
manifest and the HTML snippet that links them, as one ZIP.

The source is centred on a square canvas (transparent or `backgroundColor`), with optional padding and
rounded corners; every size is drawn from a 512 px master with a high-quality downscale.
"""

from __future__ import annotations

import io
import json

import pyvips
from PIL import Image
from pydantic import Field

from actors.common import imageio as v
from actors.image import _draw as d
from protocols.tools import Section, ToolCall, ToolResult, ToolSettings, tool

PNG_SIZES = {
    "favicon-16x16.png": 16,
    "favicon-32x32.png": 32,
    "favicon-48x48.png": 48,
    "favicon-96x96.png": 96,
    "apple-touch-icon.png": 180,
    "android-chrome-192x192.png": 192,
    "android-chrome-512x512.png": 512,
    "mstile-150x150.png": 150,
}
ICO_SIZES = (16, 32, 48)
MASTER = 512

SNIPPET = """<link rel="icon" href="/favicon.ico" sizes="48x48">
<link rel="icon" type="image/png" sizes="32x32" href="/favicon-32x32.png">
<link rel="icon" type="image/png" sizes="16x16" href="/favicon-16x16.png">
<link rel="icon" type="image/png" sizes="96x96" href="/favicon-96x96.png">
<link rel="apple-touch-icon" sizes="180x180" href="/apple-touch-icon.png">
<link rel="manifest" href="/site.webmanifest">
<meta name="msapplication-TileImage" content="/mstile-150x150.png">
<meta name="theme-color" content="{theme}">
"""


class FaviconSettings(ToolSettings):
    padding: float = Field(0, ge=0, le=40, description="Space around the image, in percent of the icon size")
    background_color: str | None = Field(None, pattern=d.HEX, description="Background (hex); none = transparent")
    border_radius: float = Field(0, ge=0, le=50, description="Corner radius in percent of the icon size "
                                                              "(50 = circle)")
    name: str = Field("App", max_length=100, description="Application name for the web manifest")


def master(image: pyvips.Image, s: FaviconSettings) -> Image.Image:
    image = d.rgb_with_alpha(image)
    inner = max(1, round(MASTER * (1 - 2 * s.padding / 100)))
    scale = inner / max(image.width, image.height)
    fitted = image.resize(scale) if scale != 1 else image
    bg = list(d.rgba(s.background_color)) if s.background_color else [0, 0, 0, 0]
    canvas = pyvips.Image.black(MASTER, MASTER, bands=4).new_from_image(bg).copy(interpretation="srgb")
    canvas = canvas.cast("uchar")
    left, top = (MASTER - fitted.width) // 2, (MASTER - fitted.height) // 2
    square = d.to_pil(d.composite(canvas, fitted, left, top))
    if square.mode != "RGBA":
        square = square.convert("RGBA")
    if s.border_radius:
        mask = d.rounded_box(MASTER, MASTER, round(MASTER * s.border_radius / 100), (255, 255, 255, 255))
        alpha = Image.composite(square.getchannel("A"), Image.new("L", square.size, 0), mask.getchannel("A"))
        square.putalpha(alpha)
    return square


@tool("favicon", section=Section.IMAGE, settings=FaviconSettings, accepts={"image", "svg"})
def run(call: ToolCall[FaviconSettings]) -> ToolResult:
    """Generate favicons in every standard size, with .ico, manifest and HTML."""
    s = call.settings
    image, _ = v.load_upright(call.inputs[0], call.limits)
    big = v.run_vips("resized", master, image, s)
    outputs = []
    for name, size in PNG_SIZES.items():
        icon = big.resize((size, size), Image.LANCZOS)
        if name == "apple-touch-icon.png":  # iOS shows transparency as black: flatten on the background
            flat = Image.new("RGBA", icon.size, d.rgba(s.background_color or "#ffffff"))
            flat.alpha_composite(icon)
            icon = flat.convert("RGB")
        path = call.workdir / name
        icon.save(path, optimize=True)
        outputs.append(path)
    ico = call.workdir / "favicon.ico"
    buffer = io.BytesIO()
    big.save(buffer, format="ICO", sizes=[(n, n) for n in ICO_SIZES])
    ico.write_bytes(buffer.getvalue())
    theme = s.background_color or "#ffffff"
    manifest = {
        "name": s.name,
        "short_name": s.name[:12],
        "icons": [
            {"src": "/android-chrome-192x192.png", "sizes": "192x192", "type": "image/png"},
            {"src": "/android-chrome-512x512.png", "sizes": "512x512", "type": "image/png"},
        ],
        "theme_color": theme,
        "background_color": theme,
        "display": "standalone",
    }
    webmanifest = call.workdir / "site.webmanifest"
    webmanifest.write_text(json.dumps(manifest, indent=2))
    snippet = call.workdir / "favicon-snippet.html"
    snippet.write_text(SNIPPET.format(theme=theme))
    files = [ico, *outputs, webmanifest, snippet]
    return ToolResult(files, {"files": [p.name for p in files], "html": SNIPPET.format(theme=theme)})
