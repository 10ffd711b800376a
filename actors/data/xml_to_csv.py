"""XML -> CSV: finds the repeating element (the records) and flattens each into one row."""

from __future__ import annotations

from actors.data import _tabular as t
from actors.data import _xml as x
from protocols.errors import bad_input
from protocols.tools import Section, ToolCall, ToolResult, ToolSettings, tool


class XmlToCsvSettings(ToolSettings):
    pass


@tool("xml-to-csv", section=Section.FILES, settings=XmlToCsvSettings, accepts={"text"})
def run(call: ToolCall) -> ToolResult:
    """Convert XML records (the repeating element) to CSV rows."""
    src, name = call.inputs[0], call.names[0] if call.names else ""
    fmt = t.sniff_format(src, name)
    t.check_not_spreadsheet(fmt)
    if fmt != "xml":
        raise bad_input("xml-to-csv expects an XML file.")
    root = x.parse(src)
    out = call.workdir / f"{call.stem()}.csv"
    if x.is_typed(root):  # written by json-xml: its records are the JSON records
        header, rows = t.records_to_table(x.xml_to_json(root))
        count = t.write_csv(out, header, rows)
        return ToolResult([out], {"rows": count, "columns": len(header or rows[0]), "recordElement": "item"})
    records = x.find_records(root)
    flat = [x.record_fields(r) for r in records]
    columns: dict[str, None] = {}
    for rec in flat:
        for key in rec:
            columns.setdefault(key, None)
    if not columns:
        raise bad_input("The XML holds no values to write as rows.")
    header = list(columns)
    count = t.write_csv(out, header, [[rec.get(c, "") for c in header] for rec in flat])
    return ToolResult([out], {"rows": count, "columns": len(header), "recordElement": x.local(records[0].tag)})
