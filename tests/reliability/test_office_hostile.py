"""Spreadsheets that would hold the single warm LibreOffice listener for minutes.

A few kB can declare a used area of 17 billion cells (one value at XFD1048576, a merge over the whole sheet,
an ODS row repeated a million times). They are refused up front (actors/documents/_sheet_extent.py, 400
VALIDATION_ERROR with a clear message); what slips past the check (a legitimately big sheet, binary xls)
ends at its deadline as a clean TIMEOUT, and the next small conversion succeeds: the listener is freed at
once (no retry of the abandoned conversion, no kill of someone else's).
"""

from __future__ import annotations

import io
import shutil
import tempfile
import zipfile
from pathlib import Path

import httpx
import pytest

from actors.documents import _sheet_extent as se
from actors.documents._office import OfficeListener
from protocols.errors import ErrorCode, ToolError
from tests.helpers import settings_field, wait_job
from tests.reliability import corpus

HAS_OFFICE = shutil.which("soffice") is not None
needs_office = pytest.mark.skipif(not HAS_OFFICE, reason="LibreOffice is not installed: run ./run setup (deps/documents.apt)")
BOMBS = corpus.sheet_bombs()
# every route that hands a spreadsheet to LibreOffice, with each output it can ask for
ROUTES = [("pdf/excel-to-pdf", {}), ("pdf/convert-spreadsheet", {"format": "csv"}),
          ("pdf/convert-spreadsheet", {"format": "xlsx"}), ("pdf/convert-spreadsheet", {"format": "ods"})]


def _write(tmp_path: Path, name: str, data: bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


def _ext(name: str) -> str:
    return name.rsplit(".", 1)[1]


def _small_xlsx() -> bytes:
    import openpyxl

    wb = openpyxl.Workbook()
    wb.active.append(["fruit", "qty"])
    wb.active.append(["apple", 3])
    wb.active.append(["pear", 5])
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


# ---- the measure, without LibreOffice --------------------------------------------------------------------
@pytest.mark.parametrize("key", sorted(BOMBS))
def test_every_sheet_bomb_is_refused_before_libreoffice(tmp_path, key):
    name, data, _ = BOMBS[key]
    path = _write(tmp_path, name, data)
    target = "pdf"
    with pytest.raises(ToolError) as err:
        se.check(path, _ext(name), target)
    assert err.value.code == ErrorCode.VALIDATION_ERROR and err.value.status == 400
    assert "too" in err.value.message and "/" not in err.value.message
    if key != "csv-corner":  # sheets are refused whatever the output; a CSV only on its way to PDF
        for other in ("csv", "xlsx", "ods"):
            with pytest.raises(ToolError):
                se.check(path, _ext(name), other)
    assert len(data) < (2 << 20)  # a few kB (the CSV: 1 MB of newlines) declaring billions of cells


def test_the_used_area_of_real_workbooks(tmp_path, monkeypatch):
    import openpyxl

    wb = openpyxl.Workbook()
    ws = wb.active
    for r in range(1, 201):
        ws.append([r, f"item {r}", r * 1.5, None, "x"])
    ws.merge_cells("G2:H3")  # a merge reaches past the values: column H
    ws["J1"].number_format = "0.00"  # formatting alone is not content
    second = wb.create_sheet("two")
    second["C7"] = "=1+1"
    path = tmp_path / "real.xlsx"
    wb.save(path)
    area, _, sheets = se.measure(path, "xlsx")
    assert sheets == [(200, 8), (7, 3)]
    assert area == 200 * 8 + 7 * 3
    se.check(path, "xlsx", "pdf")  # accepted
    for chunk in (7, 13, 64, 1000):  # the fast scan reads in slices: a tag cut in two changes nothing
        monkeypatch.setattr(se, "FAST_CHUNK", chunk)
        assert se.measure(path, "xlsx")[2] == [(200, 8), (7, 3)]


def test_xlsx_cells_without_references_and_with_character_references(tmp_path):
    # no r attributes: positions follow one another (the expat path)
    sequential = _write(tmp_path, "s.xlsx", corpus.xlsx_with_sheet(
        "<sheetData><row><c><v>1</v></c><c/><c><v>3</v></c></row><row r=\"5\"><c><v>4</v></c></row></sheetData>"))
    assert se.measure(sequential, "xlsx")[2] == [(5, 3)]
    # a reference spelled with a character reference is read as the parser reads it
    charref = _write(tmp_path, "c.xlsx", corpus.xlsx_with_sheet(
        '<sheetData><row r="1048576"><c r="&#88;FD1048576"><v>1</v></c></row></sheetData>'))
    assert se.measure(charref, "xlsx")[2] == [(1048576, 16384)]
    with pytest.raises(ToolError):
        se.check(charref, "xlsx", "xlsx")
    # a prefixed namespace and single quotes take the fast path just as well
    prefixed = _write(tmp_path, "p.xlsx", corpus.xlsx_with_sheet(
        "<x:sheetData xmlns:x='urn:x'><x:row r='2'><x:c r='AB2' t='n'><x:v>1</x:v></x:c><x:c r='AC2' s='1'/>"
        "</x:row></x:sheetData>"))
    assert se.measure(prefixed, "xlsx")[2] == [(2, 28)]


def test_ods_repeats_spans_and_trailing_empty_rows(tmp_path):
    cell = corpus.ODS_CELL.format(v=7)
    repeated = cell.replace("<table:table-cell ", '<table:table-cell table:number-columns-repeated="4" ')
    rows = ('<table:table-row table:number-rows-repeated="3">' + repeated + "</table:table-row>"
            # what LibreOffice itself writes after the data: formatted but empty rows, repeated to the end
            + '<table:table-row table:number-rows-repeated="1048573"><table:table-cell '
            'table:number-columns-repeated="1024"/></table:table-row>')
    path = _write(tmp_path, "r.ods", corpus.ods_bytes(rows))
    area, filled, sheets = se.measure(path, "ods")
    assert (area, filled, sheets) == (12, 12, [(3, 4)])
    spanned = _write(tmp_path, "s.ods", corpus.ods_bytes(corpus.ods_rows(
        ["<table:table-cell/>", cell.replace("<table:table-cell ", '<table:table-cell table:number-columns-spanned="3" '
                                             'table:number-rows-spanned="2" ')])))
    assert se.measure(spanned, "ods")[2] == [(2, 4)]
    se.check(path, "ods", "pdf")


def test_the_limit_is_a_boundary(tmp_path):
    path = _write(tmp_path, "b.xlsx", corpus.xlsx_with_sheet(
        '<sheetData><row r="10"><c r="J10"><v>1</v></c></row></sheetData>'))  # 10 x 10
    se.check(path, "xlsx", "pdf", limit=100)
    with pytest.raises(ToolError, match="10 rows x 10 columns"):
        se.check(path, "xlsx", "pdf", limit=99)


def test_entity_declarations_are_refused(tmp_path):
    laughs = corpus.ods_bytes(corpus.ods_rows(["<table:table-cell><text:p>&lol9;</text:p></table:table-cell>"]),
                              head='<?xml version="1.0"?>' + corpus.BILLION_LAUGHS_DTD)
    xxe = corpus.xlsx_with_sheet("<sheetData/>", head='<?xml version="1.0"?>' + corpus.XXE_DTD)
    for path in (_write(tmp_path, "lol.ods", laughs), _write(tmp_path, "xxe.xlsx", xxe)):
        with pytest.raises(ToolError, match="DTD"):
            se.check(path, _ext(path.name), "pdf")


def test_unreadable_and_other_inputs_are_left_to_libreoffice(tmp_path):
    broken = _write(tmp_path, "t.xlsx", corpus.xlsx_with_sheet("<sheetData/>")[:300])
    se.check(broken, "xlsx", "pdf")  # not judged here: LibreOffice refuses it
    cut = _write(tmp_path, "x.xlsx", corpus.xlsx_with_sheet('<sheetData><row r="3"><c r="B3"><v>1</v></c></row><row'))
    assert se.measure(cut, "xlsx")[2] == [(3, 2)]  # what was read before the XML broke off still counts
    csv = _write(tmp_path, "c.csv", BOMBS["csv-corner"][1])
    se.check(csv, "csv", "xlsx")  # a CSV only matters on its way to PDF
    se.check(_write(tmp_path, "o.xls", b"\xd0\xcf\x11\xe0" + b"\0" * 100), "xls", "pdf")


# ---- the listener: a conversion past its timeout -----------------------------------------------------------
@needs_office
def test_a_libreoffice_timeout_is_a_timeout_and_the_listener_recovers(tmp_path):
    """unoserver stops a conversion past its own timeout; that used to come back as 'could not read this
    document' (400) with LibreOffice left half-dead. Now: 504 TIMEOUT, and a fresh listener for the next."""
    listener = OfficeListener(Path(tempfile.mkdtemp(dir=tmp_path)), conversion_timeout=4)
    try:
        listener.start()
        name, data, _ = BOMBS["xlsx-huge-dimension"]  # straight to LibreOffice: the check is bypassed here
        with pytest.raises(ToolError) as err:
            listener.convert_sync(_write(tmp_path, name, data), tmp_path / "out.pdf")
        assert err.value.code == ErrorCode.TIMEOUT and err.value.status == 504
        out = listener.convert_sync(_write(tmp_path, "small.xlsx", _small_xlsx()), tmp_path / "small.pdf")
        import fitz

        with fitz.open(out) as pdf:
            assert "apple" in pdf[0].get_text()
        assert listener.starts == 2
    finally:
        listener.stop()


# ---- over HTTP ---------------------------------------------------------------------------------------------
def _post(client: httpx.Client, route: str, name: str, data: bytes, settings: dict) -> httpx.Response:
    return client.post(f"/api/v1/tools/{route}", files={"file": (name, data)}, data=settings_field(settings))


def _finish(client: httpx.Client, r: httpx.Response, timeout: float = 180) -> dict:
    assert r.status_code in (200, 202), r.text
    if r.status_code == 200:
        return {"status": "completed", "result": r.json()}
    return wait_job(client, r.json()["jobId"], timeout=timeout)


def _assert_small_conversion_works(client: httpx.Client) -> None:
    done = _finish(client, _post(client, "pdf/excel-to-pdf", "small.xlsx", _small_xlsx(), {}))
    assert done["status"] == "completed", done
    pdf = client.get(done["result"]["downloadUrl"]).content
    import fitz

    with fitz.open(stream=pdf, filetype="pdf") as doc:
        text = doc[0].get_text()
    assert "apple" in text and "pear" in text


@pytest.mark.e2e
@needs_office
def test_sheet_bombs_get_a_clear_400_and_the_listener_stays_free(make_server):
    srv = make_server(sync_wait_ms=30000)
    with srv.client(timeout=120) as c:
        for key, (name, data, _) in sorted(BOMBS.items()):
            for route, settings in ROUTES:
                if key == "csv-corner" and route != "pdf/excel-to-pdf":
                    continue
                r = _post(c, route, name, data, settings)
                if r.status_code == 202:  # refused in the job: the same error, as the job's failure
                    frame = wait_job(c, r.json()["jobId"], timeout=120)
                    status, code, error = 400, frame.get("code"), frame.get("error", "")
                    assert frame["status"] == "failed", (key, route, frame)
                else:
                    status, code, error = r.status_code, r.json().get("code"), r.json().get("error", "")
                assert (status, code) == (400, "VALIDATION_ERROR"), (key, route, settings, r.text)
                assert "too large" in error or "too many" in error, error
        # nothing reached LibreOffice, and the next small conversion works
        _assert_small_conversion_works(c)
    assert srv.healthy()


@pytest.mark.e2e
@needs_office
def test_a_conversion_past_its_deadline_frees_the_listener_for_the_next(make_server, tmp_path):
    """A sheet within the limits but slow to lay out (600 000 rows into a PDF: about a minute) runs past a
    10 s job deadline. The job fails with TIMEOUT; its conversion is stopped and NOT retried on a fresh
    listener (it used to be, holding the listener for another minute, so the next job timed out too)."""
    srv = make_server(sync_wait_ms=0, job_timeout_long_s=10, office_warm="true")
    big = "a,b,c,d\n" + "".join(f"{i},word {i},{i * 3},x\n" for i in range(600_000))
    with srv.client(timeout=120) as c:
        _assert_small_conversion_works(c)  # the listener is warm
        frame = _finish(c, _post(c, "pdf/excel-to-pdf", "big.csv", big.encode(), {}))
        assert frame["status"] == "failed" and frame["code"] == "TIMEOUT", frame
        _assert_small_conversion_works(c)
        _assert_small_conversion_works(c)
    assert srv.healthy()


def test_the_corpus_bombs_are_what_they_claim():
    for key, (name, data, _) in BOMBS.items():
        if name.endswith((".xlsx", ".ods")):
            with zipfile.ZipFile(io.BytesIO(data)) as zf:
                assert zf.testzip() is None, key
