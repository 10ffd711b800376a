"""Office conversions through the warm LibreOffice listener: inputs made here (python-docx,
python-pptx, CSV), results read back for their text. Conversions are shared through session fixtures
because each costs LibreOffice time."""

from __future__ import annotations

import csv
import io
import zipfile

import pytest
import trio
from docx import Document
from pptx import Presentation
from pptx.util import Inches

from actors.documents import _office
from protocols.errors import ToolError
from tests.helpers import run_tool
from tests.unit.documents.docpdfs import page_texts


@pytest.fixture(scope="session")
def office():
    listener = _office.listener()
    listener.start()
    return listener


@pytest.fixture(scope="session")
def inputs(tmp_path_factory):
    folder = tmp_path_factory.mktemp("office-in")
    doc = Document()
    doc.add_heading("Lutra Report", level=1)
    doc.add_paragraph("The quick brown fox jumps over the lazy dog. Grüße, €uro.")
    doc.save(folder / "report.docx")
    deck = Presentation()
    for title in ("Slide Alpha", "Slide Beta"):
        slide = deck.slides.add_slide(deck.slide_layouts[5])
        slide.shapes.title.text = title
        slide.shapes.add_textbox(Inches(1), Inches(3), Inches(4), Inches(1)).text_frame.text = f"{title} body"
    deck.save(folder / "deck.pptx")
    (folder / "table.csv").write_text("name;qty;note\nÄpfel;3;=1+1\nBirne;5;plain\n", encoding="utf-8")
    (folder / "notes.txt").write_text("First line of notes\n\nSecond paragraph\n", encoding="utf-8")
    (folder / "fake.docx").write_bytes(b"PK\x03\x04" + b"\x00" * 200)
    (folder / "random.pptx").write_bytes(bytes(range(256)) * 4)
    # a real xlsx renamed to .docx
    return folder


@pytest.fixture(scope="session")
def converted(office, inputs, tmp_path_factory):
    """Every conversion the tests look at, run once."""
    work = tmp_path_factory.mktemp("office-out")
    out = {}
    starts = office.starts

    def go(key, tool_id, path, settings=None):
        out[key] = run_tool(tool_id, path, settings or {}, work)

    go("docx.pdf", "word-to-pdf", inputs / "report.docx")
    go("docx.odt", "convert-document", inputs / "report.docx", {"format": "odt"})
    go("docx.rtf", "convert-document", inputs / "report.docx", {"format": "rtf"})
    go("docx.txt", "convert-document", inputs / "report.docx", {"format": "txt"})
    go("txt.docx", "convert-document", inputs / "notes.txt", {"format": "docx"})
    go("csv.xlsx", "convert-spreadsheet", inputs / "table.csv", {"format": "xlsx"})
    go("xlsx.csv", "convert-spreadsheet", out["csv.xlsx"].outputs[0], {"format": "csv"})
    go("xlsx.ods", "convert-spreadsheet", out["csv.xlsx"].outputs[0], {"format": "ods"})
    go("xlsx.pdf", "excel-to-pdf", out["csv.xlsx"].outputs[0])
    go("pptx.pdf", "powerpoint-to-pdf", inputs / "deck.pptx")
    go("pptx.odp", "convert-presentation", inputs / "deck.pptx", {"format": "odp"})
    go("odp.pptx", "convert-presentation", out["pptx.odp"].outputs[0], {"format": "pptx"})
    results = {k: v.outputs[0] for k, v in out.items()}
    results["listener starts"] = office.starts - starts  # type: ignore[assignment]
    return results


def zip_text(path, member):
    with zipfile.ZipFile(path) as zf:
        return zf.read(member).decode("utf-8")


def test_word_to_pdf(converted):
    pdf = converted["docx.pdf"]
    texts = page_texts(pdf)
    assert len(texts) == 1
    assert "Lutra Report" in texts[0] and "quick brown fox" in texts[0] and "Grüße" in texts[0]


def test_convert_document_formats(converted):
    assert "quick brown fox" in zip_text(converted["docx.odt"], "content.xml")
    assert zip_text(converted["docx.odt"], "mimetype") == "application/vnd.oasis.opendocument.text"
    rtf = converted["docx.rtf"].read_bytes()
    assert rtf.startswith(b"{\\rtf") and b"quick brown fox" in rtf
    txt = converted["docx.txt"].read_text("utf-8-sig")
    assert "Lutra Report" in txt and "Grüße, €uro" in txt
    from_txt = Document(str(converted["txt.docx"]))
    assert [p.text for p in from_txt.paragraphs if p.text] == ["First line of notes", "Second paragraph"]


def test_spreadsheet_round_trip_keeps_data_and_never_evaluates(converted):
    with zipfile.ZipFile(converted["csv.xlsx"]) as zf:
        assert "xl/workbook.xml" in zf.namelist()
    rows = list(csv.reader(io.StringIO(converted["xlsx.csv"].read_text("utf-8-sig"))))
    assert rows == [["name", "qty", "note"], ["Äpfel", "3", "=1+1"], ["Birne", "5", "plain"]]
    assert zip_text(converted["xlsx.ods"], "mimetype") == "application/vnd.oasis.opendocument.spreadsheet"
    assert "Äpfel" in zip_text(converted["xlsx.ods"], "content.xml")
    text = page_texts(converted["xlsx.pdf"])[0]
    assert "Äpfel" in text and "Birne" in text


def test_presentations(converted):
    texts = page_texts(converted["pptx.pdf"])
    assert len(texts) == 2  # one page per slide
    assert "Slide Alpha" in texts[0] and "Slide Beta body" in texts[1]
    assert zip_text(converted["pptx.odp"], "mimetype") == "application/vnd.oasis.opendocument.presentation"
    back = Presentation(str(converted["odp.pptx"]))
    titles = [shape.text_frame.text for slide in back.slides for shape in slide.shapes if shape.has_text_frame]
    assert "Slide Alpha" in titles and "Slide Beta" in titles


@pytest.mark.parametrize("tool_id, name, message", [
    ("word-to-pdf", "fake.docx", "corrupt"),
    ("powerpoint-to-pdf", "random.pptx", "corrupt"),
    ("word-to-pdf", "deck.pptx", "not a word-processing document"),
    ("excel-to-pdf", "report.docx", "not a spreadsheet"),
    ("powerpoint-to-pdf", "notes.txt", "plain text"),
])
def test_wrong_or_corrupt_inputs_are_400(office, inputs, tmp_path, tool_id, name, message):
    with pytest.raises(ToolError) as err:
        run_tool(tool_id, inputs / name, {}, tmp_path)
    assert err.value.status == 400 and message in err.value.message


def test_renamed_file_and_broken_ooxml(office, converted, inputs, tmp_path):
    renamed = tmp_path / "really-a-sheet.docx"
    renamed.write_bytes(converted["csv.xlsx"].read_bytes())
    with pytest.raises(ToolError) as err:
        run_tool("convert-document", renamed, {"format": "odt"}, tmp_path)
    assert err.value.status == 400
    broken = tmp_path / "broken.docx"
    with zipfile.ZipFile(inputs / "report.docx") as src, zipfile.ZipFile(broken, "w") as dst:
        for item in src.infolist():
            data = src.read(item)
            dst.writestr(item, data[: len(data) // 3] if item.filename == "word/document.xml" else data)
    with pytest.raises(ToolError) as err:
        run_tool("word-to-pdf", broken, {}, tmp_path)
    assert err.value.status in (400, 422)
    assert "/" not in err.value.message


def test_listener_restarts_after_dying(office, inputs, tmp_path):
    starts = office.starts
    office.kill()  # as if LibreOffice crashed
    assert not office.alive()
    out = run_tool("convert-document", inputs / "notes.txt", {"format": "odt"}, tmp_path).outputs[0]
    assert "First line of notes" in zip_text(out, "content.xml")
    assert office.starts == starts + 1 and office.alive()


def test_cancel_kills_the_conversion(office, tmp_path):
    big = tmp_path / "big.csv"  # seconds of layout: the cancel lands mid-conversion
    big.write_text("a,b\n" + "".join(f"{i},row {i}\n" for i in range(100_000)))
    office.start()

    async def cancelled_mid_way():
        async with trio.open_nursery() as nursery:
            nursery.start_soon(office.convert, big, tmp_path / "x.pdf")
            while office.current is None:
                await trio.sleep(0.05)
            nursery.cancel_scope.cancel()

    trio.run(cancelled_mid_way)
    assert not office.alive()  # LibreOffice was stopped with the job; the next conversion restarts it
    office.start()
    assert office.alive()


def test_a_conversion_cancelled_before_it_starts_leaves_the_listener_alone(office, inputs, tmp_path):
    """It never reached LibreOffice (it was waiting its turn): killing LibreOffice would only have stopped
    someone else's conversion."""
    async def cancelled():
        with trio.CancelScope() as scope:
            scope.cancel()
            await office.convert(inputs / "notes.txt", tmp_path / "x.pdf")

    office.start()
    starts = office.starts
    trio.run(cancelled)
    assert office.alive() and office.starts == starts


def test_one_warm_listener_serves_every_conversion(office, converted):
    # every conversion above went through the one warm listener: twelve conversions, no LibreOffice start
    assert office.conversions >= 12
    assert converted["listener starts"] == 0
