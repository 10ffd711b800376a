"""Compress: a fixed quality, or a search for the best quality that fits a target size."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from actors.common import imageio as v
from protocols.fields import when
from protocols.tools import Section, ToolCall, ToolResult, ToolSettings, tool


class CompressSettings(ToolSettings):
    mode: Literal["quality", "targetSize"] = Field("quality", description="Fixed quality or target size")
    quality: int = Field(80, ge=1, le=100, description="Quality (quality mode)",
                         json_schema_extra=when("mode", "quality"))
    target_size_kb: float | None = Field(None, gt=0, le=1_000_000, description="Target size in KB (targetSize mode)",
                                          json_schema_extra=when("mode", "targetSize"))

    @model_validator(mode="after")
    def _target_given(self):
        if self.mode == "targetSize" and self.target_size_kb is None:
            raise ValueError("targetSizeKb is required in targetSize mode")
        return self


def _lossy_format(fmt: str) -> str:
    # formats whose size is driven by a quality knob; PNG/GIF use palette quantisation instead
    return fmt if fmt in ("jpeg", "webp", "avif", "heic", "heif", "png") else "jpeg"


def search_quality(image, fmt: str, target_bytes: int) -> tuple[bytes, int, bool]:
    """Binary search on quality for the largest encode that fits; best effort when none fits."""
    lo, hi = 1, 95
    best: tuple[bytes, int] | None = None
    smallest: tuple[bytes, int] | None = None
    while lo <= hi:
        q = (lo + hi) // 2
        data = v.encode(image, fmt, q)
        if smallest is None or len(data) < len(smallest[0]):
            smallest = (data, q)
        if len(data) <= target_bytes:
            best = (data, q)
            lo = q + 1
        else:
            hi = q - 1
    if best is not None:
        return best[0], best[1], True
    assert smallest is not None
    return smallest[0], smallest[1], False


@tool("compress", section=Section.IMAGE, settings=CompressSettings, accepts={"image", "svg"})
def run(call: ToolCall[CompressSettings]) -> ToolResult:
    """Compress an image by quality or to a target size."""
    s = call.settings
    extra: dict = {}
    if s.mode == "targetSize":
        # the search encodes several times: decode once into memory
        image, src_fmt = v.load_upright(call.inputs[0], call.limits)
        fmt = _lossy_format(v.output_format(src_fmt))
        assert s.target_size_kb is not None
        target = int(s.target_size_kb * 1024)
        data, quality, met = search_quality(image, fmt, target)
        extra = {"targetMet": met, "quality": quality, "targetSizeKb": s.target_size_kb}
        if not met:
            extra["message"] = (
                f"Could not reach {s.target_size_kb:g} KB at this size; the smallest result is "
                f"{len(data) / 1024:.1f} KB. Resize the image first to go smaller."
            )
    else:
        # one encode: stream the rows from the decoder to the encoder
        image, src_fmt = v.load_for_one_pass(call.inputs[0], call.limits)
        fmt = _lossy_format(v.output_format(src_fmt))
        data = v.encode(image, fmt, s.quality)
        extra = {"quality": s.quality}
    out = call.workdir / f"{call.stem()}.{v.EXTENSIONS[fmt]}"
    out.write_bytes(data)
    return ToolResult([out], extra)
