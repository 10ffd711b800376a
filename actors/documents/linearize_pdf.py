"""Web-optimize (linearize) a PDF so that viewers can show page 1 before the whole file arrives."""

from __future__ import annotations

import pikepdf

from actors.common import pdfs
from protocols.tools import Section, ToolCall, ToolResult, ToolSettings, tool


class LinearizeSettings(ToolSettings):
    pass


@tool("linearize-pdf", section=Section.PDF, settings=LinearizeSettings, accepts={"pdf"})
def run(call: ToolCall) -> ToolResult:
    """Linearize a PDF for fast web viewing."""
    with pdfs.opened(call.inputs[0], call.limits) as pdf:
        out = pdfs.save(pdf, pdfs.out_path(call), linearize=True, compress_streams=True,
                        object_stream_mode=pikepdf.ObjectStreamMode.generate)
    return ToolResult([out], {"linearized": True})
