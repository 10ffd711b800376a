"""Read and write a PDF's title, author, subject and keywords (Info dictionary and XMP kept in step).

Fields left out are kept; an empty string clears a field. With no field given the file is unchanged and
the response carries the current metadata."""

from __future__ import annotations

import warnings
from typing import Any

import pikepdf
from pikepdf.models.metadata import DOCINFO_MAPPING
from pydantic import Field

from actors.common import pdfs
from protocols.tools import Section, ToolCall, ToolResult, ToolSettings, tool

FIELDS = {"title": "/Title", "author": "/Author", "subject": "/Subject", "keywords": "/Keywords"}
XMP_TWINS = [str(name) for _, _, name, _ in DOCINFO_MAPPING]  # the docinfo keys that have an XMP field
READ_ONLY = {"creator": "/Creator", "producer": "/Producer", "creationDate": "/CreationDate", "modDate": "/ModDate"}


class MetadataSettings(ToolSettings):
    title: str | None = Field(None, max_length=2000, description="Document title ('' clears it)")
    author: str | None = Field(None, max_length=2000, description="Author ('' clears it)")
    subject: str | None = Field(None, max_length=2000, description="Subject ('' clears it)")
    keywords: str | None = Field(None, max_length=2000, description="Keywords, comma-separated ('' clears them)")


def read(pdf: pikepdf.Pdf) -> dict[str, Any]:
    info = pdf.docinfo
    out: dict[str, Any] = {}
    for name, key in {**FIELDS, **READ_ONLY}.items():
        value = info.get(key)
        out[name] = str(value) if value is not None else None
    out["pages"] = len(pdf.pages)
    return out


@tool("pdf-metadata", section=Section.PDF, settings=MetadataSettings, accepts={"pdf"})
def run(call: ToolCall[MetadataSettings]) -> ToolResult:
    """Read or change a PDF's metadata."""
    s = call.settings
    changes = {name: getattr(s, name) for name in FIELDS if getattr(s, name) is not None}
    with pdfs.opened(call.inputs[0], call.limits) as pdf:
        if changes:
            with pdf.open_metadata(set_pikepdf_as_editor=False) as xmp:
                for name, value in changes.items():
                    key = FIELDS[name]
                    if value:
                        pdf.docinfo[key] = value
                    elif key in pdf.docinfo:
                        del pdf.docinfo[key]
                # only keys with an XMP twin: pikepdf's warning about any other key (e.g. /Trapped, or a
                # damaged name) fails on some names, and such keys are skipped anyway
                twins = {key: pdf.docinfo[key] for key in XMP_TWINS if key in pdf.docinfo}
                with warnings.catch_warnings():  # a value that cannot be converted is skipped
                    warnings.simplefilter("ignore")
                    xmp.load_from_docinfo(twins, delete_missing=True)
        metadata = read(pdf)
        out = pdfs.save(pdf, pdfs.out_path(call))
    return ToolResult([out], {"metadata": metadata, "updated": sorted(changes)})
