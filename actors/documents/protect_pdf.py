"""Protect a PDF with AES-256 (user password to open, owner password for permissions)."""

from __future__ import annotations

import pikepdf
from pydantic import Field, model_validator

from actors.common import pdfs
from protocols.tools import Section, ToolCall, ToolResult, ToolSettings, tool


class ProtectSettings(ToolSettings):
    user_password: str = Field("", max_length=127, description="Password needed to open the PDF")
    owner_password: str = Field("", max_length=127, description="Password for full rights (defaults to the user "
                                                                "password)")

    @model_validator(mode="after")
    def _needs_one(self):
        if not self.user_password and not self.owner_password:
            raise ValueError("give userPassword, ownerPassword or both")
        return self


@tool("protect-pdf", section=Section.PDF, settings=ProtectSettings, accepts={"pdf"},
      pipeline=False)
def run(call: ToolCall[ProtectSettings]) -> ToolResult:
    """Encrypt a PDF with a password (AES-256)."""
    s = call.settings
    owner = s.owner_password or s.user_password
    with pdfs.opened(call.inputs[0], call.limits) as pdf:
        encryption = pikepdf.Encryption(owner=owner, user=s.user_password, R=6, aes=True)
        out = pdfs.save(pdf, pdfs.out_path(call, "_protected"), encryption=encryption)
    return ToolResult([out], {"encryption": "AES-256"})
