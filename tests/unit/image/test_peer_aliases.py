"""The peer's current setting names, accepted beside the reference's (which win when both are sent)."""

from __future__ import annotations

import zipfile

import pytest
import pyvips

from service.openapi_tools import setting_aliases
from tests.helpers import run_tool
from tests.unit.image.test_overlay import changed, flat
from tests.unit.image.test_utilities import read_codes


def load(path):
    return pyvips.Image.new_from_file(str(path))


def test_qr_generate_peer_names(tmp_path):
    r = run_tool("qr-generate", [], {"text": "peer text 42", "foreground": "#b01020", "background": "#f0f0a0",
                                     "errorCorrection": "H", "size": 300}, tmp_path)
    assert [c.text for c in read_codes(r.outputs[0])] == ["peer text 42"]
    assert r.extra["errorCorrectionLevel"] == "H"
    im = load(r.outputs[0])
    assert im.getpoint(3, 3)[:3] == [240, 240, 160]  # the quiet zone is the background colour
    dark = [im.getpoint(x, y)[:3] for x in range(0, 300, 7) for y in range(0, 300, 7)]
    assert [176, 16, 32] in dark  # modules in the foreground colour


def test_qr_generate_reference_names_win(tmp_path):
    r = run_tool("qr-generate", [], {"data": "reference", "text": "peer", "colorLight": "#ffffff",
                                     "background": "#000000", "size": 300}, tmp_path)
    assert [c.text for c in read_codes(r.outputs[0])] == ["reference"]
    assert load(r.outputs[0]).getpoint(3, 3)[:3] == [255, 255, 255]


@pytest.mark.parametrize("name", ["size", "borderWidth"])
def test_border_size_means_width(samples, tmp_path, name):
    im = load(run_tool("border", samples / "photo.png", {name: 25, "borderColor": "#00ff00"}, tmp_path).outputs[0])
    assert (im.width, im.height) == (450, 350) and im.getpoint(5, 5)[:3] == [0, 255, 0]
    both = load(run_tool("border", samples / "photo.png", {"width": 5, name: 25}, tmp_path).outputs[0])
    assert both.width == 410


def test_watermark_text_position_tiled_means_tile(tmp_path):
    src = flat(tmp_path)
    a = load(src)
    tiled = load(run_tool("watermark-text", src, {"text": "DRAFT", "position": "tiled", "opacity": 100,
                                                   "fontSize": 24}, tmp_path).outputs[0])
    quadrants = [(0, 0, 200, 150), (200, 0, 200, 150), (0, 150, 200, 150), (200, 150, 200, 150)]
    assert all(changed(a, tiled, q) > 0.01 for q in quadrants)
    # an explicit tile: false wins: one label in the default corner (bottom-right)
    single = load(run_tool("watermark-text", src, {"text": "DRAFT", "position": "tiled", "tile": False,
                                                    "opacity": 100, "fontSize": 24}, tmp_path).outputs[0])
    assert changed(a, single, (0, 0, 200, 150)) == 0 and changed(a, single, (250, 240, 150, 60)) > 0.01


def test_bulk_rename_double_brace_placeholders(samples, tmp_path):
    files = [samples / "photo.jpg", samples / "photo.png", samples / "small.png"] * 4  # 12 files
    names = [f"f{i}{p.suffix}" for i, p in enumerate(files)]
    r = run_tool("bulk-rename", files, {"pattern": "2024-01-{{index}}"}, tmp_path, names=names)
    assert [m["renamed"] for m in r.extra["files"]][:3] == ["2024-01-1.jpg", "2024-01-2.png", "2024-01-3.png"]
    padded = run_tool("bulk-rename", files, {"pattern": "{{padded}}_{{original}}"}, tmp_path, names=names)
    renamed = [m["renamed"] for m in padded.extra["files"]]
    assert renamed[0] == "01_f0.jpg" and renamed[11] == "12_f11.png"  # padded to the width of 13
    with zipfile.ZipFile(padded.outputs[0]) as zf:
        assert sorted(zf.namelist()) == sorted(renamed)


def test_bulk_rename_unknown_double_brace_is_refused():
    from pydantic import ValidationError

    from actors.image.bulk_rename import BulkRenameSettings

    with pytest.raises(ValidationError, match="{{count}}"):
        BulkRenameSettings.model_validate({"pattern": "x-{{count}}"})


def test_aliases_are_documented():
    from actors import catalog

    specs = catalog.load()
    assert setting_aliases(specs["qr-generate"].settings) == {
        "text": "data", "foreground": "colorDark", "background": "colorLight", "errorCorrection": "errorCorrectionLevel"}
    assert setting_aliases(specs["border"].settings) == {
        "size": "width", "borderWidth": "width", "borderColor": "color", "cornerRadius": "borderRadius"}
