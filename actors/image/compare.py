"""Image compare: side-by-side, overlay or diff (with a threshold), plus a similarity score."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from actors.common import imageio as v
from actors.image import _layout as lay
from protocols.tools import Section, ToolCall, ToolResult, ToolSettings, tool


class CompareSettings(ToolSettings):
    mode: Literal["side-by-side", "overlay", "diff"] = Field("diff", description="What the output image shows")
    diff_threshold: int = Field(10, ge=0, le=255,
                                description="Per-channel difference (0-255) above which a pixel counts as changed")
    diff_color: str = Field("#ff0000", pattern=lay.HEX_PATTERN, description="Colour of changed pixels (diff)")
    opacity: float = Field(0.5, ge=0, le=1, description="Opacity of the second image (overlay)")
    gap: int = Field(0, ge=0, le=200, description="Gap between the images (side-by-side)")


def similarity(a, b) -> dict:
    """Scores for two same-size RGB images: mean-error similarity, SSIM on luminance, PSNR."""
    import numpy as np

    x = lay.to_numpy(a).astype(np.float64)
    y = lay.to_numpy(b).astype(np.float64)
    mse = float(((x - y) ** 2).mean())
    mae = float(np.abs(x - y).mean())
    psnr = float("inf") if mse == 0 else 10 * np.log10(255.0**2 / mse)
    lx = x[..., :3] @ [0.299, 0.587, 0.114]
    ly = y[..., :3] @ [0.299, 0.587, 0.114]
    c1, c2 = (0.01 * 255) ** 2, (0.03 * 255) ** 2
    # SSIM over 8x8 blocks
    h, w = (lx.shape[0] // 8) * 8, (lx.shape[1] // 8) * 8
    if h and w:
        bx = lx[:h, :w].reshape(h // 8, 8, w // 8, 8).swapaxes(1, 2).reshape(-1, 64)
        by = ly[:h, :w].reshape(h // 8, 8, w // 8, 8).swapaxes(1, 2).reshape(-1, 64)
    else:
        bx, by = lx.reshape(1, -1), ly.reshape(1, -1)
    mx, my = bx.mean(1), by.mean(1)
    vx, vy = bx.var(1), by.var(1)
    cov = ((bx - mx[:, None]) * (by - my[:, None])).mean(1)
    ssim = ((2 * mx * my + c1) * (2 * cov + c2)) / ((mx**2 + my**2 + c1) * (vx + vy + c2))
    return {"similarity": round(100 * (1 - mae / 255), 3), "ssim": round(float(ssim.mean()), 5),
            "psnr": None if psnr == float("inf") else round(psnr, 3), "mse": round(mse, 4)}


@tool("compare", section=Section.IMAGE, settings=CompareSettings, inputs=(2, 2),
      accepts={"image", "svg"})
def run(call: ToolCall[CompareSettings]) -> ToolResult:
    """Compare two images: a visual comparison and similarity scores."""
    s = call.settings
    first, fmt = lay.load_rgb(call.inputs[0], call.limits)
    second, _ = lay.load_rgb(call.inputs[1], call.limits)
    first = v.with_alpha(first)
    second = v.with_alpha(second)
    resized = (second.width, second.height) != (first.width, first.height)
    second_fit = v.run_vips("resized", v.resize_exact, second, first.width, first.height) if resized else second

    def build():
        diff = (first[:3] - second_fit[:3]).abs()
        changed = (diff > s.diff_threshold).bandor()
        return diff, changed

    diff, changed = v.run_vips("compared", build)
    changed_pixels = int(round(changed.avg() / 255 * first.width * first.height))
    scores = similarity(first[:3], second_fit[:3])

    if s.mode == "side-by-side":
        height = max(first.height, second.height)
        second_side = lay.contain(second, second.width * height / second.height, height) if second.height != height else second
        first_side = lay.contain(first, first.width * height / first.height, height) if first.height != height else first
        canvas = lay.solid(first_side.width + s.gap + second_side.width, height, [255, 255, 255, 0])
        canvas = lay.paste(canvas, first_side, 0, 0)
        result = lay.paste(canvas, second_side, first_side.width + s.gap, 0)
    elif s.mode == "overlay":
        top = second_fit[:3].bandjoin((second_fit[3] * s.opacity).cast("uchar")).copy(interpretation="srgb")
        result = lay.paste(first, top, 0, 0)
    else:
        grey = first[:3].colourspace("b-w")[0]
        faded = ((grey * 0.35) + 140).cast("uchar")
        base = faded.bandjoin([faded, faded]).copy(interpretation="srgb")
        colour = lay.rgba(s.diff_color)[:3]
        marks = lay.solid(first.width, first.height, colour + [255])[:3]
        result = changed.ifthenelse(marks, base).bandjoin(255).copy(interpretation="srgb")
    result = v.run_vips("drawn", lambda: result.cast("uchar").copy_memory())
    out = v.save(result, call.workdir, f"{call.stem()}-compare-{s.mode}", "png")
    total = first.width * first.height
    extra = {**scores, "mode": s.mode, "changedPixels": changed_pixels, "totalPixels": total,
             "diffPercentage": round(100 * changed_pixels / total, 4), "identical": changed_pixels == 0,
             "resizedSecond": resized, "width": result.width, "height": result.height}
    return ToolResult([out], extra)
