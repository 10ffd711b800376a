"""Convert every colour in a PDF (text, vector art, images) to grayscale with ghostscript."""

from __future__ import annotations

from actors.common import pdfs
from actors.documents import _proc
from protocols.tools import Section, ToolCall, ToolResult, ToolSettings, tool


class GrayscaleSettings(ToolSettings):
    pass


@tool("grayscale-pdf", section=Section.PDF, settings=GrayscaleSettings, accepts={"pdf"})
def run(call: ToolCall) -> ToolResult:
    """Convert a PDF to grayscale."""
    pdfs.check_input(call.inputs[0], call.limits)
    out = _proc.ghostscript(call.inputs[0], pdfs.out_path(call),
                           ["-sColorConversionStrategy=Gray", "-dProcessColorModel=/DeviceGray",
                            "-dCompatibilityLevel=1.7", "-dOverrideICC=true"],
                           what="Converting the PDF to grayscale")
    return ToolResult([out])
