"""Remove a PDF's password (the password that opens it is required)."""

from __future__ import annotations

from pydantic import Field

from actors.common import pdfs
from protocols.tools import Section, ToolCall, ToolResult, ToolSettings, tool


class UnlockSettings(ToolSettings):
    password: str = Field("", max_length=127, description="The PDF's user or owner password")


@tool("unlock-pdf", section=Section.PDF, settings=UnlockSettings, accepts={"pdf"},
      pipeline=False)
def run(call: ToolCall[UnlockSettings]) -> ToolResult:
    """Remove the password from a PDF."""
    s = call.settings
    with pdfs.opened(call.inputs[0], call.limits, password=s.password, allow_encrypted=True) as pdf:
        was_encrypted = pdf.is_encrypted
        out = pdfs.save(pdf, pdfs.out_path(call, "_unlocked"), encryption=False)
    return ToolResult([out], {"wasEncrypted": was_encrypted})
