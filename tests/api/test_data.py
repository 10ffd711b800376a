"""The data-file tools over HTTP (/api/v1/tools/files/<tool>) against a real server: results read back
through their download URLs, several inputs, several outputs, and bad inputs as 4xx {error, code}."""

from __future__ import annotations

import io
import json
import zipfile

import pytest
from PIL import Image

from tests.helpers import settings_field

CSV = "name;qty;price\nApple;3;1.5\nPear;10;0.25\nPlum;7;2\n"


def post(client, tool, files, settings=None):
    """files: list of (name, bytes) sent as repeated 'files' parts (one file: a 'file' part)."""
    field = "file" if len(files) == 1 else "files"
    parts = [(field, (name, data)) for name, data in files]
    return client.post(f"/api/v1/tools/files/{tool}", files=parts, data=settings_field(settings or {}))


def download(client, body):
    r = client.get(body["downloadUrl"])
    assert r.status_code == 200
    return r.content


def assert_error(r, status, code=None):
    assert r.status_code == status, r.text
    body = r.json()
    assert set(body) >= {"error", "code"} and body["error"]
    if code:
        assert body["code"] == code
    assert "/tmp" not in body["error"] and "Traceback" not in body["error"]
    return body


def test_csv_json_both_ways(client):
    r = post(client, "csv-json", [("fruit.csv", CSV.encode())], {"pretty": False})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["direction"] == "csv-to-json" and body["downloadUrl"].endswith("/fruit.json")
    records = json.loads(download(client, body))
    assert records[1] == {"name": "Pear", "qty": 10, "price": 0.25}
    back = post(client, "csv-json", [("fruit.json", json.dumps(records).encode())])
    assert back.status_code == 200, back.text
    text = download(client, back.json()).decode()
    assert text.splitlines()[:2] == ["name,qty,price", "Apple,3,1.5"]


def test_csv_excel_both_ways(client):
    r = post(client, "csv-excel", [("fruit.csv", CSV.encode())])
    assert r.status_code == 200, r.text
    xlsx = download(client, r.json())
    assert xlsx[:2] == b"PK"
    back = post(client, "csv-excel", [("fruit.xlsx", xlsx)], {"sheet": 1})
    assert back.status_code == 200, back.text
    assert download(client, back.json()).decode().splitlines()[1] == "Apple,3,1.5"
    assert_error(post(client, "csv-excel", [("fruit.xlsx", xlsx)], {"sheet": 4}), 400, "VALIDATION_ERROR")


def test_json_xml_and_yaml_json_round_trips(client):
    data = {"a": [1, "two", None, {"b": True}], "c": "d"}
    xml = post(client, "json-xml", [("d.json", json.dumps(data).encode())])
    assert xml.status_code == 200, xml.text
    again = post(client, "json-xml", [("d.xml", download(client, xml.json()))])
    assert json.loads(download(client, again.json())) == data
    yml = post(client, "yaml-json", [("d.json", json.dumps(data).encode())])
    assert yml.status_code == 200 and yml.json()["downloadUrl"].endswith(".yaml")
    js = post(client, "yaml-json", [("d.yaml", download(client, yml.json()))])
    assert json.loads(download(client, js.json())) == data


def test_xml_to_csv(client):
    xml = b"<r><row><a>1</a><b>x</b></row><row><a>2</a><b>y</b></row></r>"
    r = post(client, "xml-to-csv", [("r.xml", xml)])
    assert r.status_code == 200 and r.json()["recordElement"] == "row"
    assert download(client, r.json()).decode().split() == ["a,b", "1,x", "2,y"]


def test_split_and_merge(client):
    rows = "id,v\n" + "".join(f"{i},{i * 2}\n" for i in range(7))
    r = post(client, "split-csv", [("n.csv", rows.encode())], {"rowsPerFile": 3, "keepHeader": True})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["downloadUrl"].endswith(".zip") and len(body["downloads"]) == 3 and body["parts"] == 3
    with zipfile.ZipFile(io.BytesIO(download(client, body))) as zf:
        parts = [zf.read(n).decode().split() for n in sorted(zf.namelist())]
    assert [p[0] for p in parts] == ["id,v"] * 3 and sum(len(p) - 1 for p in parts) == 7
    merged = post(client, "merge-csvs", [(f"p{i}.csv", "\n".join(p).encode()) for i, p in enumerate(parts)])
    assert merged.status_code == 200, merged.text
    assert download(client, merged.json()).decode().split() == rows.split()


def test_merge_mismatched_columns_is_400(client):
    r = post(client, "merge-csvs", [("a.csv", b"id,name\n1,a\n"), ("b.csv", b"id,mail\n2,b\n")])
    body = assert_error(r, 400, "VALIDATION_ERROR")
    assert "'b.csv'" in body["error"] and "'mail'" in body["error"]


def test_multi_file_limits(client):
    assert_error(post(client, "merge-csvs", [("a.csv", b"a\n1\n")]), 400)
    assert_error(post(client, "create-zip", [("a.txt", b"a")]), 400)
    many = [(f"f{i}.txt", b"x") for i in range(51)]
    assert_error(post(client, "create-zip", many), 400)


def test_create_and_extract_zip(client):
    r = post(client, "create-zip", [("a.txt", b"alpha"), ("b.txt", b"beta"), ("c.csv", b"x,y\n")])
    assert r.status_code == 200, r.text
    archive = download(client, r.json())
    assert sorted(zipfile.ZipFile(io.BytesIO(archive)).namelist()) == ["a.txt", "b.txt", "c.csv"]
    ex = post(client, "extract-zip", [("bundle.zip", archive)])
    assert ex.status_code == 200, ex.text
    body = ex.json()
    assert sorted(e["path"] for e in body["entries"]) == ["a.txt", "b.txt", "c.csv"]
    by_name = {d["filename"]: d for d in body["downloads"]}
    assert client.get(by_name["b.txt"]["downloadUrl"]).content == b"beta"


def _zip(entries, method=zipfile.ZIP_DEFLATED):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", method) as zf:
        for name, data in entries:
            zf.writestr(name, data)
    return buf.getvalue()


def test_extract_zip_refuses_bomb_and_traversal(client):
    bomb = _zip([("zeros.bin", bytes(16 * 1024 * 1024))])
    assert_error(post(client, "extract-zip", [("bomb.zip", bomb)]), 413, "PAYLOAD_TOO_LARGE")
    traversal = _zip([("ok.txt", b"ok"), ("../../etc/evil", b"x")])
    assert_error(post(client, "extract-zip", [("t.zip", traversal)]), 400, "VALIDATION_ERROR")
    # not a ZIP at all: the upload sniffer refuses it before the tool runs
    assert_error(post(client, "extract-zip", [("t.zip", b"hello, not a zip")]), 415, "UNSUPPORTED_MEDIA_TYPE")


def test_chart_maker_size_and_bad_settings(client):
    r = post(client, "chart-maker", [("fruit.csv", CSV.encode())], {"kind": "pie", "title": "Fruit",
                                                                     "width": 500, "height": 350})
    assert r.status_code == 200, r.text
    with Image.open(io.BytesIO(download(client, r.json()))) as im:
        assert im.size == (500, 350) and im.format == "PNG"
    assert_error(post(client, "chart-maker", [("fruit.csv", CSV.encode())], {"width": 99999}), 400,
                 "VALIDATION_ERROR")
    assert_error(post(client, "chart-maker", [("fruit.csv", CSV.encode())], {"kind": "radar"}), 400)
    assert_error(post(client, "split-csv", [("fruit.csv", CSV.encode())], {"rowsPerFile": 0}), 400,
                 "VALIDATION_ERROR")


@pytest.mark.parametrize("tool, name, data, status", [
    ("json-xml", "evil.xml", b'<?xml version="1.0"?><!DOCTYPE l [<!ENTITY a "aaaa"><!ENTITY b "&a;&a;&a;">]>'
                             b"<l>&b;</l>", 400),
    ("json-xml", "broken.json", b'{"a": [1, 2', 400),
    ("yaml-json", "bad.yaml", b"a: [1, 2\nb: {", 400),
    ("csv-json", "photo.png", b"\x89PNG\r\n\x1a\n" + b"\0" * 64, 415),
    ("csv-excel", "fake.xlsx", _zip([("xl/workbook.xml", b"<broken")]), 400),
    ("chart-maker", "words.csv", b"a,b\nx,y\n", 400),
    ("split-csv", "empty.csv", b"", 400),
    ("xml-to-csv", "data.json", b'{"a": 1}', 400),
])
def test_bad_inputs_are_4xx_json(client, tool, name, data, status):
    assert_error(post(client, tool, [(name, data)]), status)
