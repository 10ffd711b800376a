"""PDF structure tools on generated PDFs, read back: page counts, order, rotation, encryption, metadata."""

from __future__ import annotations

import subprocess
import zipfile

import pikepdf
import pytest
from pydantic import ValidationError
from reportlab.pdfgen import canvas

from actors.common import pdfs
from protocols.errors import ToolError
from protocols.tools import Limits
from tests.helpers import run_tool
from tests.unit.documents.docpdfs import markers, numbered_pdf, page_count, page_texts


def refused(tool_id, inputs, settings, tmp_path, status=400, **kw):
    with pytest.raises(ToolError) as err:
        run_tool(tool_id, inputs, settings, tmp_path, **kw)
    assert err.value.status == status, err.value.message
    assert "/" not in err.value.message.replace("/z", "")  # no paths leak
    return err.value


# ---- page ranges ----------------------------------------------------------------------------
@pytest.mark.parametrize("text, expected", [
    ("1-3,5", [1, 2, 3, 5]),
    ("8-z", [8, 9, 10]),
    ("z-8", [10, 9, 8]),
    ("z-1", list(range(10, 0, -1))),
    ("r1,r2", [10, 9]),
    ("1-10:odd", [1, 3, 5, 7, 9]),
    ("1-10:even", [2, 4, 6, 8, 10]),
    ("3,3,1", [3, 3, 1]),
])
def test_qpdf_range_syntax(text, expected):
    assert pdfs.parse_pages(text, 10) == expected


@pytest.mark.parametrize("text", ["0", "11", "1-11", "a-3", "1,,2", "", "r11", "1:foo"])
def test_bad_ranges_are_client_errors(text):
    with pytest.raises(ToolError) as err:
        pdfs.parse_pages(text, 10)
    assert err.value.status == 400


# ---- merge / split ----------------------------------------------------------------------------
def test_merge_keeps_upload_order(docs, tmp_path):
    result = run_tool("merge-pdf", [docs / "three.pdf", docs / "ten.pdf"], {}, tmp_path)
    out = result.outputs[0]
    assert markers(out) == [1, 2, 3] + list(range(1, 11))
    assert result.extra["pages"] == 13


def test_merge_keeps_the_newest_pdf_version(docs, tmp_path):
    newer = tmp_path / "newer.pdf"
    with pikepdf.open(docs / "three.pdf") as pdf:
        pdf.save(newer, min_version="1.7")
    out = run_tool("merge-pdf", [docs / "ten.pdf", newer], {}, tmp_path / "out").outputs[0]
    with pikepdf.open(out) as merged:
        assert merged.pdf_version == "1.7" and len(merged.pages) == 13
    assert markers(out) == list(range(1, 11)) + [1, 2, 3]


def test_merge_keeps_the_form_fields_of_a_fillable_pdf(docs, tmp_path):
    form = _form_pdf(tmp_path / "form.pdf")
    out = run_tool("merge-pdf", [docs / "three.pdf", form], {}, tmp_path / "out").outputs[0]
    with pikepdf.open(out) as merged:
        assert len(merged.pages) == 4
        fields = [str(f.get("/T")) for f in merged.Root.AcroForm.Fields]
        assert "name" in fields  # the qpdf program merges the AcroForm along with the pages


def test_merge_refuses_a_non_pdf_and_page_limit(docs, tmp_path):
    refused("merge-pdf", [docs / "three.pdf", docs / "not-a-pdf.pdf"], {}, tmp_path)
    err = refused("merge-pdf", [docs / "three.pdf", docs / "ten.pdf"], {}, tmp_path, status=413,
                  limits=Limits(max_pdf_pages=12))
    assert "12" in err.message


def test_split_every_n_zips_parts(docs, tmp_path):
    result = run_tool("split-pdf", docs / "ten.pdf", {"mode": "every", "everyN": 4}, tmp_path)
    archive, *parts = result.outputs
    assert archive.suffix == ".zip" and len(parts) == 3
    assert [markers(p) for p in parts] == [[1, 2, 3, 4], [5, 6, 7, 8], [9, 10]]
    with zipfile.ZipFile(archive) as zf:
        assert len(zf.namelist()) == 3


def test_split_by_ranges(docs, tmp_path):
    result = run_tool("split-pdf", docs / "ten.pdf", {"mode": "range", "range": "1-2,5,z-9"}, tmp_path)
    parts = result.outputs[1:]
    assert [markers(p) for p in parts] == [[1, 2], [5], [10, 9]]
    refused("split-pdf", docs / "ten.pdf", {"mode": "range"}, tmp_path)
    with pytest.raises(ValidationError):
        run_tool("split-pdf", docs / "ten.pdf", {"mode": "every", "everyN": 501}, tmp_path)


# ---- rotate / extract / remove / organize ----------------------------------------------------
def test_rotate_range(docs, tmp_path):
    out = run_tool("rotate-pdf", docs / "three.pdf", {"angle": 90, "range": "2-z"}, tmp_path).outputs[0]
    with pikepdf.open(out) as pdf:
        assert [int(p.obj.get("/Rotate", 0)) for p in pdf.pages] == [0, 90, 90]
    twice = run_tool("rotate-pdf", out, {"angle": 270}, tmp_path).outputs[0]
    with pikepdf.open(twice) as pdf:
        assert [int(p.obj.get("/Rotate", 0)) % 360 for p in pdf.pages] == [270, 0, 0]
    with pytest.raises(ValidationError):
        run_tool("rotate-pdf", docs / "three.pdf", {"angle": 45}, tmp_path)


def test_extract_pages_in_given_order(docs, tmp_path):
    out = run_tool("extract-pages", docs / "ten.pdf", {"range": "1-3,8,10-z"}, tmp_path).outputs[0]
    assert markers(out) == [1, 2, 3, 8, 10]
    refused("extract-pages", docs / "ten.pdf", {"range": "12"}, tmp_path)


def test_remove_pages(docs, tmp_path):
    result = run_tool("remove-pages", docs / "ten.pdf", {"pages": "2,4-6,z"}, tmp_path)
    assert markers(result.outputs[0]) == [1, 3, 7, 8, 9]
    refused("remove-pages", docs / "three.pdf", {"pages": "1-z"}, tmp_path)


def test_organize_with_z_and_reverse(docs, tmp_path):
    out = run_tool("organize-pdf", docs / "ten.pdf", {"order": "3,1,2,5-z"}, tmp_path).outputs[0]
    assert markers(out) == [3, 1, 2, 5, 6, 7, 8, 9, 10]
    rev = run_tool("organize-pdf", docs / "three.pdf", {"order": "z-1"}, tmp_path).outputs[0]
    assert markers(rev) == [3, 2, 1]


# ---- passwords --------------------------------------------------------------------------------
def test_protect_then_unlock(docs, tmp_path):
    locked = run_tool("protect-pdf", docs / "three.pdf", {"userPassword": "open sesame", "ownerPassword": "boss"},
                      tmp_path).outputs[0]
    with pytest.raises(pikepdf.PasswordError):
        pikepdf.open(locked)
    with pikepdf.open(locked, password="open sesame") as pdf:
        assert pdf.is_encrypted and pdf.encryption.R == 6  # AES-256
        assert pdf.encryption.bits == 256 and "aesv3" in str(pdf.encryption.stream_method)
        assert len(pdf.pages) == 3 and not pdf.owner_password_matched
    with pikepdf.open(locked, password="boss") as pdf:  # the owner password opens it with full rights
        assert pdf.owner_password_matched and pdf.allow.modify_other
    # every other tool refuses an encrypted PDF up front
    err = refused("rotate-pdf", locked, {"angle": 90}, tmp_path)
    assert "unlock-pdf" in err.message
    refused("merge-pdf", [locked, docs / "three.pdf"], {}, tmp_path)
    refused("unlock-pdf", locked, {"password": "wrong"}, tmp_path)
    result = run_tool("unlock-pdf", locked, {"password": "open sesame"}, tmp_path)
    with pikepdf.open(result.outputs[0]) as pdf:
        assert not pdf.is_encrypted
    assert markers(result.outputs[0]) == [1, 2, 3]
    assert result.extra["wasEncrypted"] is True


def test_owner_only_protection_is_still_refused_by_others(docs, tmp_path):
    locked = run_tool("protect-pdf", docs / "three.pdf", {"ownerPassword": "boss"}, tmp_path).outputs[0]
    with pikepdf.open(locked) as pdf:  # opens without a password, but is encrypted
        assert pdf.is_encrypted
    refused("extract-pages", locked, {"range": "1"}, tmp_path)
    with pytest.raises(ValidationError):
        run_tool("protect-pdf", docs / "three.pdf", {}, tmp_path)


# ---- repair / linearize / metadata / flatten ---------------------------------------------------
def test_repair_rebuilds_a_damaged_xref(docs, tmp_path):
    data = bytearray((docs / "ten.pdf").read_bytes())
    xref = data.rindex(b"startxref")
    data[xref + 10: xref + 20] = b"9999999999"  # point startxref at nowhere
    broken = tmp_path / "broken.pdf"
    broken.write_bytes(bytes(data))
    result = run_tool("repair-pdf", broken, {}, tmp_path)
    out = result.outputs[0]
    check = subprocess.run(["qpdf", "--check", str(out)], capture_output=True, timeout=60)
    assert check.returncode == 0, check.stdout
    assert markers(out) == list(range(1, 11))
    refused("repair-pdf", docs / "not-a-pdf.pdf", {}, tmp_path)


def test_linearize(docs, tmp_path):
    out = run_tool("linearize-pdf", docs / "ten.pdf", {}, tmp_path).outputs[0]
    with pikepdf.open(out) as pdf:
        assert pdf.is_linearized
    assert markers(out) == list(range(1, 11))


def test_metadata_write_and_read(docs, tmp_path):
    result = run_tool("pdf-metadata", docs / "three.pdf",
                      {"title": "Quarterly Report", "author": "Ada", "subject": "Sales", "keywords": "q1, sales"},
                      tmp_path)
    out = result.outputs[0]
    with pikepdf.open(out) as pdf:
        assert str(pdf.docinfo["/Title"]) == "Quarterly Report"
        assert str(pdf.docinfo["/Author"]) == "Ada"
        assert str(pdf.docinfo["/Keywords"]) == "q1, sales"
        meta = pdf.open_metadata()
        assert meta["dc:title"] == "Quarterly Report"
    assert result.extra["metadata"]["subject"] == "Sales"
    read = run_tool("pdf-metadata", out, {}, tmp_path)
    assert read.extra["metadata"]["title"] == "Quarterly Report" and read.extra["updated"] == []
    cleared = run_tool("pdf-metadata", out, {"author": ""}, tmp_path)
    assert cleared.extra["metadata"]["author"] is None
    assert cleared.extra["metadata"]["title"] == "Quarterly Report"


def _form_pdf(path):
    c = canvas.Canvas(str(path))
    c.drawString(72, 750, "Form page")
    c.acroForm.textfield(name="name", value="FilledValue42", x=72, y=600, width=200, height=24)
    c.linkURL("https://example.com", (72, 500, 200, 520))
    c.showPage()
    c.save()
    with pikepdf.open(path, allow_overwriting_input=True) as pdf:  # a free-text note annotation too
        note = pikepdf.Dictionary(Type=pikepdf.Name.Annot, Subtype=pikepdf.Name.Square,
                                  Rect=[300, 300, 400, 400], C=[1, 0, 0])
        pdf.pages[0].obj.Annots.append(pdf.make_indirect(note))
        pdf.save(path)
    return path


def test_flatten_bakes_form_values(tmp_path):
    src = _form_pdf(tmp_path / "form.pdf")
    with pikepdf.open(src) as pdf:
        assert "/AcroForm" in pdf.Root and len(pdf.pages[0].Annots) >= 2
    result = run_tool("flatten-pdf", src, {}, tmp_path)
    out = result.outputs[0]
    with pikepdf.open(out) as pdf:
        assert "/AcroForm" not in pdf.Root
        assert "/Annots" not in pdf.pages[0].obj
    text = page_texts(out)[0]
    assert "FilledValue42" in text and "Form page" in text


# ---- bad inputs, shared by every structure tool -------------------------------------------------
@pytest.mark.parametrize("tool_id, settings", [
    ("rotate-pdf", {"angle": 90}), ("split-pdf", {}), ("extract-pages", {"range": "1"}),
    ("remove-pages", {"pages": "1"}), ("organize-pdf", {"order": "1"}), ("linearize-pdf", {}),
    ("pdf-metadata", {}), ("flatten-pdf", {}), ("protect-pdf", {"userPassword": "x"}),
])
def test_not_a_pdf_and_truncated_and_page_limit(docs, tmp_path, tool_id, settings):
    refused(tool_id, docs / "not-a-pdf.pdf", settings, tmp_path)
    refused(tool_id, docs / "ten.pdf", settings, tmp_path, status=413, limits=Limits(max_pdf_pages=5))


def test_truncated_pdf_is_refused_or_recovered(docs, tmp_path):
    try:
        out = run_tool("rotate-pdf", docs / "truncated.pdf", {"angle": 90}, tmp_path).outputs[0]
    except ToolError as err:
        assert err.status == 400
    else:  # qpdf recovered what it could: the result must still be a valid PDF
        assert page_count(out) >= 1


def test_numbered_fixture_reads_back(tmp_path):
    path = numbered_pdf(tmp_path / "n.pdf", 2)
    assert markers(path) == [1, 2]


# ---- encrypted PDFs: refused up front by every structure tool (only unlock-pdf opens them) ---------
@pytest.fixture(scope="module")
def locked_pdfs(tmp_path_factory):
    folder = tmp_path_factory.mktemp("locked")
    numbered_pdf(folder / "three.pdf", 3)
    user = run_tool("protect-pdf", folder / "three.pdf", {"userPassword": "pw"}, folder).outputs[0]
    owner = run_tool("protect-pdf", folder / "three.pdf", {"ownerPassword": "boss"}, folder).outputs[0]
    return {"user": user, "owner": owner, "plain": folder / "three.pdf"}


@pytest.mark.parametrize("kind", ["user", "owner"])
@pytest.mark.parametrize("tool_id, settings", [
    ("merge-pdf", {}), ("split-pdf", {}), ("rotate-pdf", {"angle": 90}), ("extract-pages", {"range": "1"}),
    ("remove-pages", {"pages": "1"}), ("organize-pdf", {"order": "1"}), ("protect-pdf", {"userPassword": "x"}),
    ("repair-pdf", {}), ("linearize-pdf", {}), ("pdf-metadata", {}), ("pdf-metadata", {"title": "T"}),
    ("flatten-pdf", {}),
])
def test_encrypted_pdf_is_refused_up_front(locked_pdfs, tmp_path, tool_id, settings, kind):
    locked = locked_pdfs[kind]
    inputs = [locked_pdfs["plain"], locked] if tool_id == "merge-pdf" else locked
    err = refused(tool_id, inputs, settings, tmp_path)
    assert "password" in err.message and "unlock-pdf" in err.message
    assert not [p for p in tmp_path.glob("out-*/*") if not p.name.startswith("_")]  # nothing written
    # unlock-pdf is the one tool that opens it (the owner-only file needs no password to open)
    result = run_tool("unlock-pdf", locked, {"password": "pw" if kind == "user" else ""}, tmp_path)
    with pikepdf.open(result.outputs[0]) as pdf:
        assert not pdf.is_encrypted
    assert markers(result.outputs[0]) == [1, 2, 3]


def test_metadata_write_survives_a_damaged_info_key(docs, tmp_path):
    """An Info key that is not UTF-8 (a damaged file) used to crash the XMP sync; it is left alone now."""
    from tests.unit.documents.docpdfs import bad_info_key_pdf

    src = bad_info_key_pdf(tmp_path / "badkey.pdf", docs / "three.pdf")
    result = run_tool("pdf-metadata", src, {"title": "Fixed", "keywords": "k1"}, tmp_path)
    with pikepdf.open(result.outputs[0]) as pdf:
        assert str(pdf.docinfo["/Title"]) == "Fixed" and pdf.open_metadata()["dc:title"] == "Fixed"
    assert markers(result.outputs[0]) == [1, 2, 3]


@pytest.mark.parametrize("tool_id, settings", [
    ("repair-pdf", {}), ("rotate-pdf", {"angle": 90}), ("merge-pdf", {}), ("split-pdf", {}),
    ("pdf-metadata", {}), ("linearize-pdf", {}), ("protect-pdf", {"userPassword": "x"}),
])
def test_a_broken_page_tree_is_repaired_or_a_client_error(docs, tmp_path, tool_id, settings):
    """qpdf opens the file, then fails flattening its page tree with a runtime error (not a PdfError):
    repair-pdf falls back to ghostscript, the other tools answer a 4xx; none raises an unexpected error."""
    from tests.unit.documents.docpdfs import broken_tree_pdf

    src = broken_tree_pdf(tmp_path / "tree.pdf", docs / "three.pdf")
    inputs = [docs / "three.pdf", src] if tool_id == "merge-pdf" else src
    try:
        result = run_tool(tool_id, inputs, settings, tmp_path)
    except ToolError as err:
        assert 400 <= err.status < 500, err.message
        assert tool_id != "repair-pdf" or "repair" in err.message
    else:
        assert result.outputs[0].stat().st_size > 0
        if tool_id == "repair-pdf":
            assert page_count(result.outputs[0]) >= 1 and result.extra["method"] == "ghostscript"
