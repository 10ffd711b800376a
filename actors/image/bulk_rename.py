"""Bulk rename: new names from a pattern with {n} (padded counter), {date} and {original}; several → ZIP.

The peer's double-brace placeholders work too: {{index}} is {n}, {{padded}} is {n} zero-padded to the
width of the last number, {{original}} and {{date}} are {original} and {date}.

{date} is the capture date from EXIF (DateTimeOriginal, else DateTime) as YYYY-MM-DD, or today's date
(UTC) for files without one. The extension of each file is kept. Names are made safe (no path
separators, control characters or leading dots) and made unique with a `_2`, `_3`... suffix.
"""

from __future__ import annotations

import re
import shutil
from datetime import UTC, datetime
from pathlib import Path

from pydantic import Field, field_validator

from protocols.tools import Section, ToolCall, ToolResult, ToolSettings, tool

# {{name}} (the peer's form) or {name}
PLACEHOLDER = re.compile(r"\{\{([^{}]*)\}\}|\{([^{}]*)\}")
KNOWN = {"n", "date", "original"}
PEER = {"index": "n", "padded": "padded", "original": "original", "date": "date", "n": "n"}


def placeholders(pattern: str) -> list[tuple[str, bool]]:
    """(name, double-braced) of each placeholder in the pattern."""
    return [(double or single, bool(double)) for double, single in
            ((m.group(1), m.group(2)) for m in PLACEHOLDER.finditer(pattern))]


class BulkRenameSettings(ToolSettings):
    pattern: str = Field("{original}-{n}", min_length=1, max_length=200,
                         description="Name pattern: {n} counter, {date} capture date, {original} original name "
                                     "(the peer's {{index}}, {{padded}}, {{original}}, {{date}} work too)")
    start_index: int = Field(1, ge=0, le=1_000_000, description="First value of {n}")
    padding: int = Field(0, ge=0, le=10, description="Zero-pad {n} to this many digits (0 = no padding)")

    @field_validator("pattern")
    @classmethod
    def _known_placeholders(cls, value: str) -> str:
        for name, double in placeholders(value):
            if name not in (PEER if double else KNOWN):
                shown = f"{{{{{name}}}}}" if double else f"{{{name}}}"
                raise ValueError(f"unknown placeholder {shown}; use {{n}}, {{date}} or {{original}} "
                                 "(or {{index}}, {{padded}})")
        return value


def capture_date(path: Path) -> str | None:
    try:
        import pyvips

        image = pyvips.Image.new_from_file(str(path))
        for field in ("exif-ifd2-DateTimeOriginal", "exif-ifd0-DateTime"):
            if image.get_typeof(field):
                text = str(image.get(field))
                if re.match(r"\d{4}:\d{2}:\d{2}", text):
                    return text[:10].replace(":", "-")
    except Exception:  # not an image, or no EXIF: fall back to today
        return None
    return None


def safe_name(name: str) -> str:
    name = re.sub(r"[\x00-\x1f\x7f/\\:*?\"<>|]+", "_", name).strip().lstrip(".")
    return name[:200] or "file"


def new_names(names: list[str], dates: list[str], s: BulkRenameSettings) -> list[str]:
    out: list[str] = []
    taken: set[str] = set()
    width = len(str(s.start_index + len(names)))  # {{padded}}: as the peer pads
    for i, (original, date) in enumerate(zip(names, dates, strict=True)):
        counter = str(s.start_index + i).zfill(s.padding)
        stem, suffix = Path(original).stem, Path(original).suffix.lower()
        values = {"n": counter, "date": date, "original": stem, "padded": str(s.start_index + i).zfill(width)}

        def fill(m: re.Match, vals: dict = values) -> str:
            return vals[PEER[m.group(1)]] if m.group(1) is not None else vals[m.group(2)]

        base = safe_name(PLACEHOLDER.sub(fill, s.pattern))
        candidate, k = f"{base}{suffix}", 2
        while candidate.lower() in taken:
            candidate, k = f"{base}_{k}{suffix}", k + 1
        taken.add(candidate.lower())
        out.append(candidate)
    return out


@tool("bulk-rename", section=Section.IMAGE, settings=BulkRenameSettings, inputs=(1, 1000))
def run(call: ToolCall[BulkRenameSettings]) -> ToolResult:
    """Rename many files from a pattern; several files come back as a ZIP."""
    s = call.settings
    today = datetime.now(UTC).strftime("%Y-%m-%d")
    needs_date = any(name == "date" for name, _ in placeholders(s.pattern))
    dates = [(capture_date(p) if needs_date else None) or today for p in call.inputs]
    names = [call.names[i] if i < len(call.names) else p.name for i, p in enumerate(call.inputs)]
    renamed = new_names(names, dates, s)
    folder = call.workdir
    outputs = []
    for src, name in zip(call.inputs, renamed, strict=True):
        target = folder / name
        shutil.copyfile(src, target)
        outputs.append(target)
    mapping = [{"original": o, "renamed": r} for o, r in zip(names, renamed, strict=True)]
    return ToolResult(outputs, {"files": mapping, "count": len(outputs)})
