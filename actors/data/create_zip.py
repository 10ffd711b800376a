"""Create a ZIP archive from 2-50 uploaded files (already-compressed formats are stored as-is)."""

from __future__ import annotations

import zipfile
from pathlib import Path

from protocols.tools import Section, ToolCall, ToolResult, ToolSettings, tool

STORED = {".jpg", ".jpeg", ".png", ".webp", ".avif", ".heic", ".heif", ".gif", ".zip", ".gz", ".7z", ".mp4",
          ".mp3", ".m4a", ".webm", ".mkv", ".mov", ".ogg", ".opus", ".flac", ".docx", ".xlsx", ".pptx", ".odt",
          ".ods", ".odp", ".epub", ".jxl"}


class CreateZipSettings(ToolSettings):
    pass


def _archive_names(names: list[str]) -> list[str]:
    """Client names, made unique (a.txt, a_1.txt...) so no entry hides another."""
    seen: set[str] = set()
    out = []
    for i, raw in enumerate(names):
        name = Path(raw.replace("\\", "/")).name or f"file{i + 1}"
        candidate, n = name, 0
        while candidate.lower() in seen:
            n += 1
            candidate = f"{Path(name).stem}_{n}{Path(name).suffix}"
        seen.add(candidate.lower())
        out.append(candidate)
    return out


@tool("create-zip", section=Section.FILES, settings=CreateZipSettings, inputs=(2, 50))
def run(call: ToolCall) -> ToolResult:
    """Pack 2-50 files into one ZIP archive."""
    names = _archive_names(call.names or [p.name for p in call.inputs])
    out = call.workdir / "archive.zip"
    with zipfile.ZipFile(out, "w", allowZip64=True) as zf:
        for path, name in zip(call.inputs, names, strict=True):
            method = zipfile.ZIP_STORED if Path(name).suffix.lower() in STORED else zipfile.ZIP_DEFLATED
            zf.write(path, arcname=name, compress_type=method, compresslevel=6 if method else None)
    return ToolResult([out], {"entries": names, "count": len(names)})
