"""Barcode generator (JSON body, no upload): code128, ean13, upca, code39, itf14, datamatrix via zxing-cpp."""

from __future__ import annotations

import re
from typing import Literal

from pydantic import Field, model_validator

from actors.common import imageio as v
from actors.image import _layout as lay
from protocols.errors import bad_input
from protocols.tools import Section, ToolCall, ToolResult, ToolSettings, tool

BarcodeType = Literal["code128", "ean13", "upca", "code39", "itf14", "datamatrix"]

# type -> (zxing-cpp format name, input rule, what the rule means)
RULES: dict[str, tuple[str, re.Pattern[str], str]] = {
    "code128": ("Code128", re.compile(r"^[\x00-\xff]{1,80}$"), "1-80 Latin-1 characters"),
    "ean13": ("EAN13", re.compile(r"^\d{12,13}$"), "12 digits (or 13 with a valid check digit)"),
    "upca": ("UPCA", re.compile(r"^\d{11,12}$"), "11 digits (or 12 with a valid check digit)"),
    "code39": ("Code39", re.compile(r"^[0-9A-Za-z \-.$/+%]{1,60}$"), "1-60 of A-Z, 0-9, space and - . $ / + %"),
    "itf14": ("ITF14", re.compile(r"^\d{13,14}$"), "13 digits (or 14 with a valid check digit)"),
    "datamatrix": ("DataMatrix", re.compile(r"^[\s\S]{1,1500}$"), "1-1500 characters"),
}


class BarcodeGenerateSettings(ToolSettings):
    text: str = Field(..., min_length=1, max_length=1500, description="The data to encode")
    type: BarcodeType = Field("code128", description="Symbology")
    scale: int = Field(3, ge=1, le=8, description="Pixels per module")
    include_text: bool = Field(True, description="Print the human-readable text under 1D codes")

    @model_validator(mode="after")
    def _fits_symbology(self):
        _, rule, meaning = RULES[self.type]
        if not rule.match(self.text):
            raise ValueError(f"{self.type} takes {meaning}")
        return self


@tool("barcode-generate", section=Section.IMAGE, settings=BarcodeGenerateSettings,
      body="json", inputs=(0, 0))
def run(call: ToolCall[BarcodeGenerateSettings]) -> ToolResult:
    """Generate a barcode image from text."""
    import numpy as np
    import zxingcpp

    s = call.settings
    fmt_name, _, meaning = RULES[s.type]
    text = s.text.upper() if s.type == "code39" else s.text
    try:
        code = zxingcpp.create_barcode(text, getattr(zxingcpp.BarcodeFormat, fmt_name))
        hrt = s.include_text and s.type != "datamatrix"
        pixels = np.array(zxingcpp.write_barcode_to_image(code, scale=s.scale, add_hrt=hrt, add_quiet_zones=True))
    except (ValueError, RuntimeError):
        raise bad_input(f"'{s.text[:40]}' cannot be encoded as {s.type} ({meaning}; check digits must be valid).") from None
    image = lay.from_numpy(pixels)
    out = v.save(image, call.workdir, f"barcode-{s.type}", "png")
    return ToolResult([out], {"type": s.type, "text": code.text, "width": image.width, "height": image.height})
