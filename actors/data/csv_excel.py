"""CSV <-> XLSX, direction from the input. CSV -> XLSX: numbers become numbers (only where the text
comes back identical), anything a spreadsheet would run as a formula is stored as text. XLSX -> CSV:
one worksheet (`sheet`, 1-based); formulas are never evaluated — a formula cell gives the value Excel
cached when it last saved the file, or, when there is none, its formula text written as text."""

from __future__ import annotations

import datetime as dt
import re
import zipfile
import zlib
from pathlib import Path
from typing import Any

from pydantic import Field

from actors.data import _tabular as t
from actors.data import _zipsafe as z
from protocols.errors import bad_input
from protocols.tools import Section, ToolCall, ToolResult, ToolSettings, tool

MAX_ROWS = 1_048_576
MAX_CELLS = 20_000_000  # rows x columns after padding: a used range of A1:XFD1048576 is 17 billion
MAX_COLUMNS = 16_384
_SHEET_BAD = re.compile(r"[\[\]:*?/\\]")
# a part of the workbook that fails to inflate (or ends early) while openpyxl reads it
DAMAGED_ZIP = (zipfile.BadZipFile, zlib.error, EOFError)


class CsvExcelSettings(ToolSettings):
    sheet: int = Field(1, ge=1, le=10000, description="Worksheet number to convert (XLSX input, 1-based)")


def _xlsx_value(text: str, cell_factory: Any) -> Any:
    """A CSV cell as an XLSX cell: a number, or text (a formula-like string is stored as text)."""
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

    if text == "":
        return None
    value = t.typed(text)
    if isinstance(value, bool):
        return text
    if isinstance(value, int) and abs(value) >= 10**15:  # beyond what a spreadsheet number keeps
        return text
    if isinstance(value, (int, float)):
        return value
    text = ILLEGAL_CHARACTERS_RE.sub("", text)
    if text.startswith(t.FORMULA_START) and len(text) > 1:
        cell = cell_factory(text)
        cell.data_type = "s"  # a string cell, never a formula
        cell.quotePrefix = True  # and shown as typed text when edited
        return cell
    return text


def csv_to_xlsx(call: ToolCall) -> ToolResult:
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell

    table = t.read_table(call.inputs[0], call.names[0] if call.names else "")
    if len(table.rows) + 1 > MAX_ROWS or len(table.header) > MAX_COLUMNS:
        raise bad_input(f"The CSV is larger than a worksheet can hold ({MAX_ROWS} rows, {MAX_COLUMNS} columns).")
    wb = Workbook(write_only=True)
    title = _SHEET_BAD.sub("_", call.stem())[:31].strip("'") or "Sheet1"
    ws = wb.create_sheet(title)

    def cell_factory(value: str) -> Any:
        return WriteOnlyCell(ws, value=value)

    ws.append([_xlsx_value(h, cell_factory) if isinstance(h, str) else h for h in table.header])
    for row in table.rows:
        ws.append([_xlsx_value(v, cell_factory) for v in row])
    out = call.workdir / f"{call.stem()}.xlsx"
    wb.save(out)
    return ToolResult([out], {"direction": "csv-to-xlsx", "rows": len(table.rows), "columns": len(table.header)})


def _csv_value(value: Any) -> Any:
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, dt.datetime):
        return value.date().isoformat() if value.time() == dt.time(0) else value.isoformat(sep=" ")
    if isinstance(value, (dt.date, dt.time)):
        return value.isoformat()
    if isinstance(value, dt.timedelta):
        return str(value)
    return value


def _trim(rows: list[list[Any]]) -> list[list[Any]]:
    while rows and all(v in (None, "") for v in rows[-1]):
        rows.pop()
    width = max((max((i + 1 for i, v in enumerate(r) if v not in (None, "")), default=0) for r in rows), default=0)
    if width * len(rows) > MAX_CELLS:
        raise bad_input(f"The worksheet is too large to convert ({len(rows)} rows x {width} columns).")
    return [r[:width] + [None] * (width - len(r)) for r in rows]


def xlsx_to_csv(call: ToolCall, sheet: int) -> ToolResult:
    from openpyxl import load_workbook
    from openpyxl.utils.exceptions import InvalidFileException

    src: Path = call.inputs[0]
    with z.open_zip(src) as zf:
        z.check(zf, ratio=False)  # sheet XML compresses very well; the size limits still apply
    try:
        cached = load_workbook(src, read_only=True, data_only=True)
        formulas = load_workbook(src, read_only=True, data_only=False)
    except (InvalidFileException, *DAMAGED_ZIP, KeyError, ValueError, OSError, TypeError):
        raise bad_input("The file is not a readable XLSX workbook.") from None
    try:
        sheets = cached.worksheets
        if sheet > len(sheets):
            raise bad_input(f"The workbook has {len(sheets)} worksheet{'s' * (len(sheets) != 1)}; "
                            f"sheet {sheet} does not exist.")
        values_ws, formula_ws = sheets[sheet - 1], formulas.worksheets[sheet - 1]
        # the sheet's <dimension> is only the file's claim: iterate the rows and cells really present
        values_ws.reset_dimensions()
        formula_ws.reset_dimensions()
        rows: list[list[Any]] = []
        cells = 0
        for values, raw in zip(values_ws.iter_rows(values_only=True), formula_ws.iter_rows(values_only=True),
                               strict=False):
            row = []
            for value, formula in zip(values, raw, strict=False):
                if value is None and isinstance(formula, str) and formula.startswith("="):
                    value = formula  # no cached result: the formula text, written as text (guarded)
                row.append(_csv_value(value))
            rows.append(row)
            cells += len(row)
            if len(rows) > MAX_ROWS:
                raise bad_input("The worksheet has too many rows.")
            if cells > MAX_CELLS:
                raise bad_input("The worksheet is too large to convert (over 20 million cells).")
        name = values_ws.title
    except (KeyError, ValueError, TypeError, *DAMAGED_ZIP):
        raise bad_input("The file is not a readable XLSX workbook.") from None
    finally:
        cached.close()
        formulas.close()
    rows = _trim(rows)
    if not rows:
        raise bad_input(f"Worksheet {sheet} is empty.")
    out = call.workdir / f"{call.stem()}.csv"
    count = t.write_csv(out, None, rows)
    return ToolResult([out], {"direction": "xlsx-to-csv", "sheet": name, "rows": count,
                              "columns": len(rows[0]), "sheets": len(sheets)})


@tool("csv-excel", section=Section.FILES, settings=CsvExcelSettings, accepts={"text", "office"})
def run(call: ToolCall[CsvExcelSettings]) -> ToolResult:
    """Convert CSV to Excel (XLSX) or an XLSX worksheet to CSV (direction from the input)."""
    s = call.settings
    fmt = t.sniff_format(call.inputs[0], call.names[0] if call.names else "")
    if fmt == "xlsx":
        return xlsx_to_csv(call, s.sheet)
    if fmt in ("xls", "ods"):
        t.check_not_spreadsheet(fmt)
    if fmt in ("zip", "binary"):
        raise bad_input("csv-excel expects a CSV or an XLSX workbook.")
    if fmt in ("json", "xml", "yaml"):
        raise bad_input(f"csv-excel expects a CSV or an XLSX workbook; this file looks like {fmt.upper()}.")
    return csv_to_xlsx(call)
