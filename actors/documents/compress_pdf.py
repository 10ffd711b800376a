"""Compress a PDF with ghostscript: images downsampled and re-encoded, fonts subset, duplicates merged.

'quality' mode maps 1-100 to image resolution and JPEG quality; 'targetSize' searches for the best
quality that fits. The result is never bigger than the input (the input comes back unchanged then)."""

from __future__ import annotations

import shutil
from typing import Literal

from pydantic import Field, model_validator

from actors.common import pdfs
from actors.documents import _proc
from protocols.tools import Section, ToolCall, ToolResult, ToolSettings, tool


class CompressSettings(ToolSettings):
    mode: Literal["quality", "targetSize"] = Field("quality", description="Compress to a quality level, or aim "
                                                                          "for a file size")
    quality: int = Field(60, ge=1, le=100, description="1 = smallest file, 100 = best images (quality mode)")
    target_size_kb: int | None = Field(None, ge=1, le=10_000_000, description="Wanted size in KB (targetSize mode)")

    @model_validator(mode="after")
    def _target_needs_size(self):
        if self.mode == "targetSize" and self.target_size_kb is None:
            raise ValueError("targetSize mode needs targetSizeKb")
        return self


def gs_options(quality: int) -> list[str]:
    dpi = round(36 + (quality / 100) * 264)  # 1 -> ~39 dpi, 100 -> 300 dpi
    jpeg_q = max(5, min(95, quality))
    opts = ["-dCompatibilityLevel=1.7", "-dDetectDuplicateImages=true", "-dCompressFonts=true",
            "-dSubsetFonts=true", "-dEmbedAllFonts=true", f"-dJPEGQ={jpeg_q}"]
    for kind in ("Color", "Gray"):
        opts += [f"-dDownsample{kind}Images=true", f"-d{kind}ImageDownsampleType=/Bicubic",
                 f"-d{kind}ImageResolution={dpi}", f"-d{kind}ImageDownsampleThreshold=1.0",
                 f"-dAutoFilter{kind}Images=false", f"-d{kind}ImageFilter=/DCTEncode"]
    opts += ["-dDownsampleMonoImages=true", f"-dMonoImageResolution={max(150, dpi * 2)}",
             "-dMonoImageDownsampleThreshold=1.0"]
    return opts


def compress_once(call: ToolCall, quality: int) -> int:
    out = call.workdir / f"_q{quality}.pdf"
    _proc.ghostscript(call.inputs[0], out, gs_options(quality), what="Compressing the PDF")
    return out.stat().st_size


@tool("compress-pdf", section=Section.PDF, settings=CompressSettings, accepts={"pdf"})
def run(call: ToolCall[CompressSettings]) -> ToolResult:
    """Make a PDF smaller."""
    s = call.settings
    src = call.inputs[0]
    pdfs.check_input(src, call.limits)
    original = src.stat().st_size
    sizes: dict[int, int] = {}
    extra: dict = {}
    if s.mode == "quality":
        sizes[s.quality] = compress_once(call, s.quality)
        chosen = s.quality
    else:
        target = s.target_size_kb * 1024  # type: ignore[operator]
        low, high, chosen = 1, 95, None
        for _ in range(5):  # binary search for the best quality that fits
            mid = (low + high) // 2
            sizes[mid] = compress_once(call, mid)
            if sizes[mid] <= target:
                chosen, low = mid, mid + 1
            else:
                high = mid - 1
            if low > high:
                break
        if chosen is None:
            chosen = min(sizes, key=sizes.get)  # nothing fits: the smallest we made
        extra["targetMet"] = min(sizes[chosen], original) <= target
    out = pdfs.out_path(call)
    if sizes[chosen] < original:
        (call.workdir / f"_q{chosen}.pdf").replace(out)
        extra["compressed"] = True
    else:  # never hand back a bigger file
        shutil.copyfile(src, out)
        extra["compressed"] = False
    for q in sizes:
        (call.workdir / f"_q{q}.pdf").unlink(missing_ok=True)
    extra["quality"] = chosen
    return ToolResult([out], extra)
