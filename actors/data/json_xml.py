"""JSON <-> XML, direction from the input. XML is parsed with entity expansion and external
references refused; JSON written as XML carries type attributes so that it converts back exactly."""

from __future__ import annotations

from pydantic import Field

from actors.data import _tabular as t
from actors.data import _xml as x
from protocols.errors import bad_input
from protocols.tools import Section, ToolCall, ToolResult, ToolSettings, tool


class JsonXmlSettings(ToolSettings):
    pretty: bool = Field(True, description="Indent the output")


@tool("json-xml", section=Section.FILES, settings=JsonXmlSettings, accepts={"text"})
def run(call: ToolCall[JsonXmlSettings]) -> ToolResult:
    """Convert JSON to XML or XML to JSON (direction from the input)."""
    s = call.settings
    src, name = call.inputs[0], call.names[0] if call.names else ""
    fmt = t.sniff_format(src, name)
    t.check_not_spreadsheet(fmt)
    if fmt == "xml":
        data = x.xml_to_json(x.parse(src))
        out = call.workdir / f"{call.stem()}.json"
        t.dump_json(data, out, s.pretty)
        return ToolResult([out], {"direction": "xml-to-json"})
    if fmt != "json":
        raise bad_input("json-xml converts JSON or XML; this file is neither.")
    out = call.workdir / f"{call.stem()}.xml"
    x.json_to_xml(t.load_json(src), out, s.pretty)
    return ToolResult([out], {"direction": "json-to-xml"})
