"""CSV <-> JSON, direction from the input: a CSV (any delimiter) becomes an array of objects keyed by
the header row; JSON (array of objects, or an object wrapping one) becomes a CSV."""

from __future__ import annotations

from pydantic import Field

from actors.data import _tabular as t
from protocols.tools import Section, ToolCall, ToolResult, ToolSettings, tool


class CsvJsonSettings(ToolSettings):
    pretty: bool = Field(True, description="Indent the JSON output (CSV to JSON)")


@tool("csv-json", section=Section.FILES, settings=CsvJsonSettings, accepts={"text"})
def run(call: ToolCall[CsvJsonSettings]) -> ToolResult:
    """Convert CSV to JSON or JSON to CSV (direction from the input)."""
    s = call.settings
    src, name = call.inputs[0], call.names[0] if call.names else ""
    fmt = t.sniff_format(src, name)
    t.check_not_spreadsheet(fmt)
    if fmt == "json":
        header, rows = t.records_to_table(t.load_json(src))
        out = call.workdir / f"{call.stem()}.csv"
        count = t.write_csv(out, header, rows)
        return ToolResult([out], {"direction": "json-to-csv", "rows": count, "columns": len(header or rows[0])})
    if fmt in ("xml", "yaml"):
        raise t.bad_input("csv-json converts CSV or JSON; this file looks like " + fmt.upper() + ".")
    table = t.read_table(src, name)
    records = [{k: t.typed(v) for k, v in zip(table.header, row, strict=True)} for row in table.rows]
    out = call.workdir / f"{call.stem()}.json"
    t.dump_json(records, out, s.pretty)
    return ToolResult([out], {"direction": "csv-to-json", "rows": len(records), "columns": len(table.header)})
