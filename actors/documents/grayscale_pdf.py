"""Convert every colour in a PDF (text, vector art, images) to grayscale with ghostscript."""

from __future__ import annotations

from actors.documents import _pdf
from protocols.tools import Section, ToolCall, ToolResult, ToolSettings, tool


class GrayscaleSettings(ToolSettings):
    pass


@tool("grayscale-pdf", section=Section.PDF, settings=GrayscaleSettings, accepts={"pdf"})
def run(call: ToolCall) -> ToolResult:
    """Convert a PDF to grayscale."""
    _pdf.check_input(call.inputs[0], call.limits)
    out = _pdf.ghostscript(call.inputs[0], _pdf.out_path(call),
                           ["-sColorConversionStrategy=Gray", "-dProcessColorModel=/DeviceGray",
                            "-dCompatibilityLevel=1.7", "-dOverrideICC=true"],
                           what="Converting the PDF to grayscale")
    return ToolResult([out])
