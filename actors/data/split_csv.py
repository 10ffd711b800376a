"""Split a CSV into parts of `rowsPerFile` data rows (the header repeated in each part unless
keepHeader is false); the parts come back as one ZIP."""

from __future__ import annotations

from pydantic import Field

from actors.archive import write_zip
from actors.data import _tabular as t
from protocols.errors import bad_input
from protocols.tools import Section, ToolCall, ToolResult, ToolSettings, tool

MAX_PARTS = 1000


class SplitCsvSettings(ToolSettings):
    rows_per_file: int = Field(1000, ge=1, le=1_000_000, description="Data rows in each part")
    keep_header: bool = Field(True, description="Repeat the header row at the top of every part")


@tool("split-csv", section=Section.FILES, settings=SplitCsvSettings, accepts={"text"})
def run(call: ToolCall[SplitCsvSettings]) -> ToolResult:
    """Split a CSV into several files of N rows each (ZIP)."""
    s = call.settings
    name = call.names[0] if call.names else ""
    fmt = t.sniff_format(call.inputs[0], name)
    t.check_not_spreadsheet(fmt)
    if fmt in ("json", "xml"):
        raise bad_input(f"split-csv expects a CSV file; this file looks like {fmt.upper()}.")
    table = t.read_table(call.inputs[0], name)
    if not table.rows:
        raise bad_input("The CSV has a header but no data rows to split.")
    parts = -(-len(table.rows) // s.rows_per_file)
    if parts > MAX_PARTS:
        raise bad_input(f"That would make {parts} files (at most {MAX_PARTS}); use a larger rowsPerFile.")
    width = len(str(parts))
    outputs = []
    for i in range(parts):
        chunk = table.rows[i * s.rows_per_file:(i + 1) * s.rows_per_file]
        out = call.workdir / f"{call.stem()}_part{i + 1:0{width}d}.csv"
        t.write_csv(out, table.header if s.keep_header else None, chunk, table.delimiter)
        outputs.append(out)
    extra = {"parts": parts, "rows": len(table.rows)}
    if len(outputs) == 1:  # still a ZIP, so the answer has the same shape whatever the row count
        archive = call.workdir / f"{call.stem()}.zip"
        write_zip(archive, outputs)
        outputs[0].unlink()
        return ToolResult([archive], extra)
    return ToolResult(outputs, extra)
