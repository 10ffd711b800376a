"""Convert a PDF to PDF/A-2b (archival) with ghostscript: fonts embedded, sRGB output intent, XMP
identification (pdfaid:part=2, conformance B)."""

from __future__ import annotations

import glob
from pathlib import Path

import pikepdf

from actors.common import pdfs
from actors.documents import _proc
from protocols.errors import ErrorCode, ToolError
from protocols.tools import Section, ToolCall, ToolResult, ToolSettings, tool


class PdfaSettings(ToolSettings):
    pass


def srgb_profile() -> Path:
    found = sorted(glob.glob("/usr/share/ghostscript/*/iccprofiles/srgb.icc")) or sorted(
        glob.glob("/usr/share/color/icc/**/sRGB*.icc", recursive=True))
    if not found:
        raise ToolError("PDF/A conversion needs an sRGB colour profile, which is not installed on this server.",
                        ErrorCode.FEATURE_NOT_INSTALLED, 501)
    return Path(found[-1])


def _ps_string(text: str) -> str:
    return "(" + text.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)") + ")"


def definition(icc: Path, title: str) -> str:
    """The PDFA_def.ps that ghostscript needs: the output intent built on the sRGB profile."""
    return f"""%!
[ /Title {_ps_string(title)} /DOCINFO pdfmark
/ICCProfile {_ps_string(str(icc))} def
[/_objdef {{icc_PDFA}} /type /stream /OBJ pdfmark
[{{icc_PDFA}} << /N 3 >> /PUT pdfmark
[{{icc_PDFA}} ICCProfile (r) file /PUT pdfmark
[/_objdef {{OutputIntent_PDFA}} /type /dict /OBJ pdfmark
[{{OutputIntent_PDFA}} <<
  /Type /OutputIntent
  /S /GTS_PDFA1
  /DestOutputProfile {{icc_PDFA}}
  /OutputConditionIdentifier (sRGB)
>> /PUT pdfmark
[{{Catalog}} << /OutputIntents [ {{OutputIntent_PDFA}} ] >> /PUT pdfmark
"""


@tool("pdfa-convert", section=Section.PDF, settings=PdfaSettings, accepts={"pdf"})
def run(call: ToolCall) -> ToolResult:
    """Convert a PDF to PDF/A-2b for archiving."""
    src = call.inputs[0]
    with pdfs.opened(src, call.limits) as pdf:
        title = str(pdf.docinfo.get("/Title") or call.stem())
    icc = srgb_profile()
    definition_file = call.workdir / "_pdfa_def.ps"
    definition_file.write_text(definition(icc, title[:200]), encoding="latin-1", errors="replace")
    out = pdfs.out_path(call, "_pdfa")
    # the definition file goes first so that its pdfmarks apply to the document
    _proc.ghostscript([definition_file, src], out, [
        "-dPDFA=2", "-dPDFACompatibilityPolicy=1", "-sColorConversionStrategy=RGB",
        "-sProcessColorModel=DeviceRGB", "-dEmbedAllFonts=true", "-dSubsetFonts=true",
        f"--permit-file-read={icc}", f"--permit-file-read={src}",
    ], what="Converting the PDF to PDF/A", timeout=_proc.GS_TIMEOUT)
    definition_file.unlink(missing_ok=True)
    with pikepdf.open(out) as pdf:
        meta = pdf.open_metadata()
        part, conformance = meta.get("pdfaid:part"), meta.get("pdfaid:conformance")
        intents = len(pdf.Root.get("/OutputIntents", []))
    if part != "2" or not intents:
        raise ToolError("The PDF could not be converted to PDF/A.")
    return ToolResult([out], {"pdfa": f"PDF/A-{part}{(conformance or 'b').lower()}"})
