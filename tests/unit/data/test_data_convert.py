"""Data conversions checked by reading the results back: round trips keep the data, encodings and
delimiters are detected, formulas are never run and are written as text, hostile XML/YAML is refused."""

from __future__ import annotations

import csv
import io
import json
import zipfile

import pytest
import yaml
from openpyxl import Workbook, load_workbook

from protocols.errors import ToolError
from tests.helpers import run_tool


def read_csv(path):
    return list(csv.reader(io.StringIO(path.read_text(encoding="utf-8"), newline="")))


ROWS = [
    ["id", "name", "price", "code", "note", "flag"],
    ["1", "Zoë \"Z\" Müller", "12.5", "007", "a,b; c", "true"],
    ["2", "日本語", "-3", "1.50", "", "false"],
    ["3", "plain", "0", "x", "line1\nline2", "maybe"],
]


def write_rows(path, rows, delimiter=",", encoding="utf-8", bom=False):
    buf = io.StringIO()
    csv.writer(buf, delimiter=delimiter, lineterminator="\r\n").writerows(rows)
    data = buf.getvalue().encode(encoding)
    path.write_bytes((b"\xef\xbb\xbf" if bom else b"") + data)
    return path


# ---- csv-json ---------------------------------------------------------------------------------

def test_csv_json_csv_round_trip(tmp_path):
    src = write_rows(tmp_path / "data.csv", ROWS)
    as_json = run_tool("csv-json", src, {}, tmp_path)
    records = json.loads(as_json.outputs[0].read_text())
    assert as_json.extra["direction"] == "csv-to-json" and len(records) == 3
    assert records[0] == {"id": 1, "name": "Zoë \"Z\" Müller", "price": 12.5, "code": "007", "note": "a,b; c",
                          "flag": True}
    assert records[1]["code"] == "1.50" and records[1]["price"] == -3  # only lossless typing
    back = run_tool("csv-json", as_json.outputs[0], {}, tmp_path)
    assert back.extra["direction"] == "json-to-csv"
    assert read_csv(back.outputs[0]) == ROWS


@pytest.mark.parametrize("delimiter, encoding, bom", [
    (";", "utf-8", True), ("\t", "utf-8", False), ("|", "utf-8", False), (";", "cp1252", False),
    (",", "latin-1", False),
])
def test_csv_delimiter_and_encoding_detected(tmp_path, delimiter, encoding, bom):
    rows = [["name", "city", "amount"], ["José", "Zürich", "10"], ["Ånes", "Besançon", "20"]]
    src = write_rows(tmp_path / "in.csv", rows, delimiter, encoding, bom)
    records = json.loads(run_tool("csv-json", src, {"pretty": False}, tmp_path).outputs[0].read_text())
    assert records == [{"name": "José", "city": "Zürich", "amount": 10},
                       {"name": "Ånes", "city": "Besançon", "amount": 20}]


def test_json_to_csv_guards_formulas_and_flattens(tmp_path):
    src = tmp_path / "in.json"
    src.write_text(json.dumps({"items": [
        {"a": "=SUM(A1:A9)", "b": {"c": 1}, "d": [1, 2]},
        {"a": "+cmd|' /C calc'!A0", "e": "-5", "f": "@x", "g": None},
    ]}))
    rows = read_csv(run_tool("csv-json", src, {}, tmp_path).outputs[0])
    assert rows[0] == ["a", "b.c", "d", "e", "f", "g"]
    assert rows[1][0] == "'=SUM(A1:A9)" and rows[1][1] == "1" and json.loads(rows[1][2]) == [1, 2]
    assert rows[2][0].startswith("'+") and rows[2][3] == "-5" and rows[2][4] == "'@x" and rows[2][5] == ""


def test_csv_json_rejects_binary_and_bad_json(tmp_path):
    binary = tmp_path / "x.csv"
    binary.write_bytes(b"\x00\x01\x02binary")
    bad = tmp_path / "x.json"
    bad.write_text('[{"a": 1,}')
    for path, status in ((binary, 415), (bad, 400)):
        with pytest.raises(ToolError) as err:
            run_tool("csv-json", path, {}, tmp_path)
        assert err.value.status == status
    assert "line 1" in err.value.message


# ---- json-xml -----------------------------------------------------------------------------------

DATA = {"name": "A & <B>", "first name": "é", "n": [1, 2.5, -3, None, True, "x", {}, [], ""],
        "nested": {"k": {"z": "1", "ws": "  spaced  "}}, "xmlish": 0, "big": 12345678901234567890}


@pytest.mark.parametrize("pretty", [True, False])
def test_json_xml_json_round_trip(tmp_path, pretty):
    src = tmp_path / "data.json"
    src.write_text(json.dumps(DATA))
    xml = run_tool("json-xml", src, {"pretty": pretty}, tmp_path)
    assert xml.outputs[0].suffix == ".xml" and xml.outputs[0].read_bytes().startswith(b"<?xml")
    back = run_tool("json-xml", xml.outputs[0], {}, tmp_path)
    assert back.extra["direction"] == "xml-to-json"
    assert json.loads(back.outputs[0].read_text()) == DATA


def test_xml_to_json_generic_mapping(tmp_path):
    src = tmp_path / "c.xml"
    src.write_text('<?xml version="1.0"?><catalog xmlns="urn:x"><book id="1"><title>T1</title><a>A</a><a>B</a>'
                   '</book><book id="2"><price cur="EUR">5</price></book></catalog>')
    data = json.loads(run_tool("json-xml", src, {}, tmp_path).outputs[0].read_text())
    assert data == {"catalog": {"book": [{"@id": "1", "title": "T1", "a": ["A", "B"]},
                                         {"@id": "2", "price": {"@cur": "EUR", "#text": "5"}}]}}


BILLION_LAUGHS = """<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
 <!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
 <!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
 <!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
 <!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
 <!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">
]>
<lolz><row>&lol9;</row><row>x</row></lolz>
"""

XXE = """<?xml version="1.0"?>
<!DOCTYPE foo [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<foo><row>&xxe;</row><row>b</row></foo>
"""


@pytest.mark.parametrize("tool_id", ["json-xml", "xml-to-csv"])
@pytest.mark.parametrize("payload", [BILLION_LAUGHS, XXE])
def test_hostile_xml_refused(tmp_path, tool_id, payload):
    src = tmp_path / "evil.xml"
    src.write_text(payload)
    with pytest.raises(ToolError) as err:
        run_tool(tool_id, src, {}, tmp_path)
    assert err.value.status == 400 and "entity" in err.value.message
    assert not list((tmp_path).glob("out-*/*.json")) and not list(tmp_path.glob("out-*/*.csv"))


def test_malformed_xml_is_400(tmp_path):
    src = tmp_path / "bad.xml"
    src.write_text("<a><b></a>")
    with pytest.raises(ToolError) as err:
        run_tool("json-xml", src, {}, tmp_path)
    assert err.value.status == 400 and "well-formed" in err.value.message


# ---- xml-to-csv -----------------------------------------------------------------------------------

def test_xml_to_csv_finds_repeating_element(tmp_path):
    src = tmp_path / "feed.xml"
    src.write_text("""<?xml version="1.0"?>
<export><meta><generated>today</generated></meta>
 <people>
  <person id="1"><name>Ann</name><address><city>Oslo</city></address></person>
  <person id="2"><name>=HYPERLINK("http://x")</name><address><city>Rome</city></address><tag>a</tag></person>
  <person id="3"><name>Cy</name></person>
 </people></export>""")
    result = run_tool("xml-to-csv", src, {}, tmp_path)
    rows = read_csv(result.outputs[0])
    assert result.extra["recordElement"] == "person" and result.extra["rows"] == 3
    assert rows[0] == ["id", "name", "address.city", "tag"]
    assert rows[1] == ["1", "Ann", "Oslo", ""]
    assert rows[2] == ["2", "'=HYPERLINK(\"http://x\")", "Rome", "a"]
    assert rows[3] == ["3", "Cy", "", ""]


def test_json_to_xml_to_csv_chain(tmp_path):
    src = tmp_path / "list.json"
    src.write_text(json.dumps([{"a": 1, "b": "x"}, {"a": 2, "b": "y"}]))
    xml = run_tool("json-xml", src, {}, tmp_path).outputs[0]
    rows = read_csv(run_tool("xml-to-csv", xml, {}, tmp_path).outputs[0])
    assert rows == [["a", "b"], ["1", "x"], ["2", "y"]]


# ---- yaml-json ------------------------------------------------------------------------------------

YAML_DOC = """\
service:
  name: lutra
  ports: [80, 443]
  ratio: 0.25
  enabled: true
  owner: null
  tags:
    - a
    - "b: c"
  description: |
    multi
    line
"""


def test_yaml_json_yaml_round_trip(tmp_path):
    src = tmp_path / "conf.yaml"
    src.write_text(YAML_DOC)
    js = run_tool("yaml-json", src, {}, tmp_path)
    assert js.extra["direction"] == "yaml-to-json"
    assert json.loads(js.outputs[0].read_text()) == yaml.safe_load(YAML_DOC)
    back = run_tool("yaml-json", js.outputs[0], {}, tmp_path)
    assert back.extra["direction"] == "json-to-yaml" and back.outputs[0].suffix == ".yaml"
    assert yaml.safe_load(back.outputs[0].read_text()) == yaml.safe_load(YAML_DOC)


def test_yaml_safe_loader_and_alias_bomb(tmp_path):
    unsafe = tmp_path / "x.yaml"
    unsafe.write_text('a: !!python/object/apply:os.system ["echo pwned"]\n')
    bomb = tmp_path / "bomb.yaml"
    lines = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for prev, cur in zip("abcdefgh", "bcdefghi", strict=True):
        lines.append(f"{cur}: &{cur} [{', '.join(['*' + prev] * 9)}]")
    bomb.write_text("\n".join(lines) + "\n")
    cyclic = tmp_path / "cycle.yaml"
    cyclic.write_text("a: &x [1, *x]\n")
    for path in (unsafe, bomb, cyclic):
        with pytest.raises(ToolError) as err:
            run_tool("yaml-json", path, {}, tmp_path)
        assert err.value.status == 400, path.name


# ---- csv-excel --------------------------------------------------------------------------------------

def test_csv_to_xlsx_types_and_formula_guard(tmp_path):
    rows = [["id", "name", "amount", "code", "formula", "at"],
            ["1", "Zoë", "-3.5", "007", "=1+1", "@SUM(A1)"],
            ["2", "B", "10", "", "-x", "plain"]]
    src = write_rows(tmp_path / "t.csv", rows, ";")
    result = run_tool("csv-excel", src, {}, tmp_path)
    assert result.extra["direction"] == "csv-to-xlsx"
    wb = load_workbook(result.outputs[0])
    ws = wb.active
    cells = [[c for c in r] for r in ws.iter_rows()]
    assert [c.value for c in cells[0]] == rows[0]
    assert cells[1][0].value == 1 and cells[1][2].value == -3.5 and cells[1][3].value == "007"
    for cell in (cells[1][4], cells[1][5], cells[2][4]):
        assert cell.data_type == "s", cell.value  # stored as text, never as a formula
    assert cells[1][4].value == "=1+1" and cells[2][3].value is None
    with zipfile.ZipFile(result.outputs[0]) as zf:
        assert b"<f>" not in zf.read("xl/worksheets/sheet1.xml")


def test_xlsx_to_csv_sheet_selection_and_formulas(tmp_path):
    wb = Workbook()
    ws = wb.active
    ws.title = "First"
    ws.append(["a", "b", "sum"])
    ws.append([1, 2, "=A2+B2"])  # openpyxl stores no cached value: the formula text comes back as text
    ws.append([True, None, 3.25])
    second = wb.create_sheet("Second")
    second.append(["x", "y"])
    second.append(["=cmd", 5])
    path = tmp_path / "book.xlsx"
    wb.save(path)
    first = run_tool("csv-excel", path, {}, tmp_path)
    assert first.extra["sheet"] == "First" and first.extra["sheets"] == 2
    assert read_csv(first.outputs[0]) == [["a", "b", "sum"], ["1", "2", "'=A2+B2"], ["TRUE", "", "3.25"]]
    two = run_tool("csv-excel", path, {"sheet": 2}, tmp_path)
    assert read_csv(two.outputs[0]) == [["x", "y"], ["'=cmd", "5"]]
    with pytest.raises(ToolError) as err:
        run_tool("csv-excel", path, {"sheet": 3}, tmp_path)
    assert err.value.status == 400 and "2 worksheets" in err.value.message


def test_csv_xlsx_csv_round_trip(tmp_path):
    rows = [["id", "name", "price", "code"], ["1", "Ann", "12.5", "007"], ["2", "日本", "-3", "1.50"]]
    src = write_rows(tmp_path / "r.csv", rows)
    xlsx = run_tool("csv-excel", src, {}, tmp_path).outputs[0]
    assert read_csv(run_tool("csv-excel", xlsx, {}, tmp_path).outputs[0]) == rows


def test_csv_excel_rejects_corrupt_and_other_formats(tmp_path):
    fake = tmp_path / "fake.xlsx"
    with zipfile.ZipFile(fake, "w") as zf:
        zf.writestr("xl/workbook.xml", "<not a workbook")
    ole = tmp_path / "old.xls"
    ole.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 600)
    js = tmp_path / "x.json"
    js.write_text('{"a": 1}')
    for path, status in ((fake, 400), (ole, 415), (js, 400)):
        with pytest.raises(ToolError) as err:
            run_tool("csv-excel", path, {}, tmp_path)
        assert err.value.status == status, path.name
