"""Shared plumbing of the data tools: what a file is, text decoding, CSV in and out, typed cells.

- Text: UTF-8 with or without BOM, UTF-16 with BOM, else Windows-1252/Latin-1.
- CSV: the delimiter (, ; tab |) is detected from the first rows; formulas are never evaluated, and
  every CSV/XLSX we write guards cells that a spreadsheet would read as a formula (= + - @ tab CR at
  the start) by writing them as text.
Every error is a client error whose message names no path and quotes no library.
"""

from __future__ import annotations

import codecs
import csv
import io
import json
import math
import re
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from protocols.errors import bad_input, unsupported

MAX_TEXT_BYTES = 512 * 1024 * 1024
DELIMITERS = (",", ";", "\t", "|")
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_NUMBER = re.compile(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?")
_INT = re.compile(r"-?(0|[1-9]\d*)")
_FLOAT = re.compile(r"-?(0|[1-9]\d*)\.\d+")

csv.field_size_limit(64 * 1024 * 1024)


# ---- what is this file ---------------------------------------------------------------------------

def sniff_format(path: Path, name: str) -> str:
    """-> xlsx, ods, xls, zip, csv, tsv, json, xml, yaml, txt or binary (content first, name breaks ties)."""
    ext = Path(name or path.name).suffix.lower()
    with open(path, "rb") as fh:
        head = fh.read(4096)
    if head[:4] in (b"PK\x03\x04", b"PK\x05\x06"):
        try:
            with zipfile.ZipFile(path) as zf:
                names = set(zf.namelist())
        except (zipfile.BadZipFile, OSError, ValueError, EOFError, NotImplementedError):
            return "binary"
        if "xl/workbook.xml" in names:
            return "xlsx"
        if "content.xml" in names and b"opendocument.spreadsheet" in head:
            return "ods"
        return "zip"
    if head[:8] == b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1":
        return "xls"
    try:
        text = decode(head, partial=True)
    except Exception:
        return "binary"
    stripped = text.lstrip("\ufeff \t\r\n")
    by_ext = {".csv": "csv", ".tsv": "tsv", ".tab": "tsv", ".json": "json", ".xml": "xml", ".yaml": "yaml",
              ".yml": "yaml", ".txt": "txt"}
    if stripped.startswith("<"):
        return "xml"
    if stripped[:1] in ("{", "[") and ext not in (".yaml", ".yml", ".csv", ".tsv", ".tab"):
        return "json"
    return by_ext.get(ext, "txt")


# ---- text ---------------------------------------------------------------------------------------

def decode(data: bytes, partial: bool = False) -> str:
    """Bytes -> str: UTF-8 (BOM or not), UTF-16 with BOM, else Windows-1252 / Latin-1."""
    if data.startswith(codecs.BOM_UTF8):
        data = data[3:]
        return _utf8(data, partial)
    if data[:2] in (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE):
        try:
            return data.decode("utf-16", errors="strict" if not partial else "ignore").lstrip("\ufeff")
        except UnicodeDecodeError:
            raise bad_input("The file is not valid UTF-16 text.") from None
    if b"\x00" in data:
        raise bad_input("The file is binary, not text.")
    try:
        return _utf8(data, partial)
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("cp1252")
    except UnicodeDecodeError:
        return data.decode("latin-1")


def _utf8(data: bytes, partial: bool) -> str:
    if partial:
        for cut in range(4):  # a head may end inside a multi-byte character
            try:
                return data[: len(data) - cut].decode("utf-8")
            except UnicodeDecodeError:
                continue
    return data.decode("utf-8")


def read_text(path: Path) -> str:
    size = path.stat().st_size
    if size == 0:
        raise bad_input("The file is empty.")
    if size > MAX_TEXT_BYTES:
        raise bad_input("The file is too large for this tool.")
    return decode(path.read_bytes())


# ---- CSV ------------------------------------------------------------------------------------------

@dataclass(slots=True)
class Table:
    header: list[str]
    rows: list[list[Any]]
    delimiter: str = ","


def detect_delimiter(text: str, name: str = "") -> str:
    """The candidate that splits the first rows into the same number (>1) of columns most consistently."""
    sample = text[: 64 * 1024]
    if len(text) > len(sample) and "\n" in sample:
        sample = sample[: sample.rfind("\n")]
    best, best_score = ",", (0.0, 0)
    for delim in DELIMITERS:
        try:
            counts = [len(r) for r, _ in zip(csv.reader(io.StringIO(sample, newline=""), delimiter=delim),
                                             range(50), strict=False) if r]
        except csv.Error:
            continue
        if not counts:
            continue
        mode = max(set(counts), key=counts.count)
        if mode < 2:
            continue
        score = (counts.count(mode) / len(counts), mode)
        if score > best_score:
            best, best_score = delim, score
    if best_score == (0.0, 0) and Path(name).suffix.lower() in (".tsv", ".tab"):
        return "\t"
    return best


def parse_csv(text: str, name: str = "", delimiter: str | None = None) -> list[list[str]]:
    delim = delimiter or detect_delimiter(text, name)
    try:
        rows = [row for row in csv.reader(io.StringIO(text, newline=""), delimiter=delim) if row]
    except csv.Error:
        raise bad_input("The CSV file is malformed (an unterminated quote or a field that is too large).") from None
    return rows


def read_table(path: Path, name: str = "") -> Table:
    """A CSV with a header row -> Table (ragged rows padded, extra cells get generated column names)."""
    text = read_text(path)
    delim = detect_delimiter(text, name)
    rows = parse_csv(text, name, delim)
    if not rows:
        raise bad_input("The CSV file has no rows.")
    header = [h.strip() for h in rows[0]]
    width = max(len(r) for r in rows)
    header += [""] * (width - len(header))
    body = [r + [""] * (width - len(r)) for r in rows[1:]]
    return Table(unique_names(header), body, delim)


def unique_names(names: list[str]) -> list[str]:
    """Blank names become column_N, repeats get _2, _3... so every column is addressable."""
    seen: set[str] = set()
    out = []
    for i, name in enumerate(names, 1):
        base = name or f"column_{i}"
        candidate, n = base, 1
        while candidate in seen:
            n += 1
            candidate = f"{base}_{n}"
        seen.add(candidate)
        out.append(candidate)
    return out


def guard(value: str) -> str:
    """A string a spreadsheet would run as a formula is written as text (a leading apostrophe)."""
    if len(value) > 1 and value.startswith(FORMULA_START) and not _NUMBER.fullmatch(value):
        return "'" + value
    return value


def cell_text(value: Any) -> str:
    """A JSON/XLSX value as CSV text (unguarded)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isfinite(value) and value.is_integer() and abs(value) < 1e15:
            return str(int(value))
        return repr(value)
    if isinstance(value, (dict, list)):
        try:
            return json.dumps(value, ensure_ascii=False, separators=(",", ":"))
        except RecursionError:
            raise bad_input("The data is nested too deeply.") from None
    return str(value)


def write_csv(path: Path, header: list[str] | None, rows: list[list[Any]], delimiter: str = ",") -> int:
    """UTF-8 CSV with every cell guarded against formula injection. Returns the number of data rows."""
    count = 0
    with open(path, "w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh, delimiter=delimiter, lineterminator="\r\n")
        if header is not None:
            writer.writerow([guard(cell_text(h)) for h in header])
        for row in rows:
            writer.writerow([guard(cell_text(v)) for v in row])
            count += 1
    return count


def typed(value: str) -> Any:
    """A CSV cell as a JSON value, only where the text comes back identical (ints, canonical floats,
    true/false); everything else, including 007 and 1.50, stays a string."""
    if _INT.fullmatch(value):
        return int(value)
    if _FLOAT.fullmatch(value):
        number = float(value)
        if repr(number) == value:
            return number
    if value == "true":
        return True
    if value == "false":
        return False
    return value


# ---- JSON ---------------------------------------------------------------------------------------

def load_json(path: Path) -> Any:
    text = read_text(path)
    try:
        return json.loads(text)
    except RecursionError:
        raise bad_input("The JSON is nested too deeply.") from None
    except json.JSONDecodeError as err:
        raise bad_input(f"The file is not valid JSON (line {err.lineno}, column {err.colno}).") from None


def dump_json(data: Any, path: Path, pretty: bool) -> None:
    try:
        text = json.dumps(data, ensure_ascii=False, indent=2 if pretty else None,
                          separators=None if pretty else (",", ":"), default=_json_default)
    except RecursionError:
        raise bad_input("The data is nested too deeply.") from None
    except ValueError:
        raise bad_input("The data refers to itself (a cycle) and cannot be written as JSON.") from None
    path.write_text(text + "\n", encoding="utf-8")


def _json_default(value: Any) -> Any:
    if hasattr(value, "isoformat"):
        return value.isoformat()
    if isinstance(value, (bytes, bytearray)):
        return value.decode("latin-1")
    if isinstance(value, (set, frozenset, tuple)):
        return list(value)
    return str(value)


def flatten(value: Any, prefix: str = "", out: dict[str, Any] | None = None, depth: int = 0) -> dict[str, Any]:
    """Nested objects -> dotted keys (20 levels; deeper ones and arrays stay whole, as JSON text)."""
    out = {} if out is None else out
    if isinstance(value, dict) and depth < 20:
        if not value and prefix:
            out[prefix] = {}
        for key, inner in value.items():
            flatten(inner, f"{prefix}.{key}" if prefix else str(key), out, depth + 1)
    else:
        out[prefix or "value"] = value
    return out


def records_to_table(data: Any) -> tuple[list[str] | None, list[list[Any]]]:
    """JSON -> (header, rows). Arrays of objects (the usual), an object wrapping one such array, a
    single object, arrays of arrays (no header) and arrays of scalars are understood."""
    if isinstance(data, dict):
        arrays = [v for v in data.values() if isinstance(v, list)]
        data = arrays[0] if len(data) == 1 and len(arrays) == 1 else [data]
    if not isinstance(data, list):
        data = [data]
    if not data:
        raise bad_input("The JSON holds no records to write as rows.")
    if all(isinstance(item, list) for item in data):
        return None, [list(item) for item in data]
    flat = [flatten(item) if isinstance(item, dict) else {"value": item} for item in data]
    header: dict[str, None] = {}
    for rec in flat:
        for key in rec:
            header.setdefault(key, None)
    columns = list(header)
    if not columns:
        raise bad_input("The JSON holds no fields to write as columns.")
    return columns, [[rec.get(c) for c in columns] for rec in flat]


def check_not_spreadsheet(fmt: str) -> None:
    if fmt in ("xls", "ods"):
        raise unsupported(f"{fmt.upper()} files are not read here; convert them with convert-spreadsheet first.")
    if fmt in ("zip", "xlsx", "binary"):
        raise unsupported("This tool expects a text file (CSV, JSON, XML or YAML).")
