"""OCR on rendered text: ≥ 95 % character accuracy, word boxes where the words are, bad inputs."""

from __future__ import annotations

import difflib

import pytest
from PIL import Image, ImageDraw, ImageFont

from protocols.errors import ToolError
from tests.helpers import run_tool

SENTENCE = "The quick brown fox jumps over the lazy dog"
LINE2 = "Pack my box with five dozen liquor jugs"
FONT = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"


def render(path, lines=(SENTENCE, LINE2), size=34):
    font = ImageFont.truetype(FONT, size)
    img = Image.new("RGB", (980, 60 + 70 * len(lines)), "white")
    draw = ImageDraw.Draw(img)
    for i, line in enumerate(lines):
        draw.text((40, 40 + 70 * i), line, fill="black", font=font)
    img.save(path)
    return path


def accuracy(expected: str, got: str) -> float:
    return difflib.SequenceMatcher(None, " ".join(expected.split()), " ".join(got.split())).ratio()


@pytest.fixture(scope="module")
def text_png(tmp_path_factory):
    return render(tmp_path_factory.mktemp("ocr") / "text.png")


@pytest.mark.parametrize("quality", ["fast", "balanced", "best"])
def test_ocr_reads_rendered_text(bundle, text_png, tmp_path, quality):
    bundle("ocr")
    result = run_tool("ocr", text_png, {"quality": quality}, tmp_path)
    text = result.extra["text"]
    assert accuracy(SENTENCE + "\n" + LINE2, text) >= 0.95, text
    assert result.outputs[0].read_text().strip() == text.strip()
    assert result.extra["engine"] == ("tesseract" if quality == "fast" else "ppocr")
    words = {w["text"]: w for w in result.extra["words"]}
    fox = words["fox"]["box"]
    # the first line is drawn at y = 40..80; "fox" is in the left half
    assert 25 <= fox["y"] <= 60 and fox["x"] < 490 and fox["width"] > 20
    jugs = words.get("jugs") or words.get("jugs.")
    assert jugs is not None and jugs["box"]["y"] > fox["y"] + 40


def test_ocr_enhance_on_small_low_contrast_text(bundle, tmp_path):
    bundle("ocr")
    font = ImageFont.truetype(FONT, 16)
    img = Image.new("RGB", (460, 60), (170, 170, 170))
    ImageDraw.Draw(img).text((10, 20), SENTENCE, fill=(90, 90, 90), font=font)
    img.save(tmp_path / "small.png")
    result = run_tool("ocr", tmp_path / "small.png", {"enhance": True, "quality": "balanced"}, tmp_path)
    assert accuracy(SENTENCE, result.extra["text"]) >= 0.9


def test_ocr_german_with_tesseract(tmp_path):
    render(tmp_path / "de.png", ("Grüße aus München und Köln",))
    result = run_tool("ocr", tmp_path / "de.png", {"quality": "fast", "language": "de"}, tmp_path)
    assert accuracy("Grüße aus München und Köln", result.extra["text"]) >= 0.9


def test_ocr_bad_inputs(tmp_path):
    (tmp_path / "bad.png").write_bytes(b"\x89PNG\r\n\x1a\nnot really")
    with pytest.raises(ToolError) as info:
        run_tool("ocr", tmp_path / "bad.png", {"quality": "fast"}, tmp_path)
    assert info.value.status == 400
    from pydantic import ValidationError

    with pytest.raises(ValidationError):
        run_tool("ocr", tmp_path / "bad.png", {"quality": "ultra"}, tmp_path)


def test_margin_is_added_only_when_content_reaches_the_border():
    import numpy as np

    from actors.vision import ocr_engines

    plain = np.full((120, 600, 3), 250, np.uint8)
    plain[50:70, 40:560] = 0  # a "line of text" well inside a plain border
    same, offset = ocr_engines.pad(plain)
    assert offset == 0 and same is plain  # already has a margin: the detector gets the image as it is
    edge = plain.copy()
    edge[50:70, 0:300] = 0  # text touching the left edge
    padded, offset = ocr_engines.pad(edge)
    assert offset == ocr_engines.MARGIN and padded.shape == (120 + 2 * offset, 600 + 2 * offset, 3)
    assert (padded[:offset] == 255).all()


def test_ocr_reads_text_touching_the_edge(bundle, tmp_path):
    bundle("ocr")
    font = ImageFont.truetype(FONT, 34)
    img = Image.new("RGB", (760, 44), "white")
    ImageDraw.Draw(img).text((0, 0), SENTENCE, fill="black", font=font)
    img.save(tmp_path / "edge.png")
    result = run_tool("ocr", tmp_path / "edge.png", {"quality": "balanced"}, tmp_path)
    assert accuracy(SENTENCE, result.extra["text"]) >= 0.95, result.extra["text"]
    first = min(result.extra["words"], key=lambda w: w["box"]["x"])
    assert first["box"]["x"] <= 10 and first["box"]["y"] <= 10  # boxes are in the caller's coordinates


def test_a_second_ocr_job_reuses_the_loaded_engine(bundle, text_png, tmp_path):
    from actors import models

    bundle("ocr")
    run_tool("ocr", text_png, {"quality": "balanced"}, tmp_path / "one")
    loads = models.runtime_info()["modelLoads"]
    engine = next(m for m in models.loaded() if m["model"] == "ocr/ppocr")
    result = run_tool("ocr", text_png, {"quality": "balanced"}, tmp_path / "two")
    assert accuracy(SENTENCE + "\n" + LINE2, result.extra["text"]) >= 0.95
    assert models.runtime_info()["modelLoads"] == loads
    again = next(m for m in models.loaded() if m["model"] == "ocr/ppocr")
    assert again["loads"] == engine["loads"] and again["loadedAt"] == engine["loadedAt"]
    assert again["uses"] == engine["uses"] + 1 and again["loadMs"] > 0


def test_equal_parameter_calls_overlap_and_other_parameters_wait():
    import threading

    from actors.vision.ocr_engines import SameParams

    gate = SameParams()
    both_inside = threading.Barrier(2, timeout=30)  # breaks (and fails the test) if the calls were serialised
    order: list[str] = []

    def same() -> None:
        with gate.hold("balanced"):
            both_inside.wait()

    threads = [threading.Thread(target=same) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not both_inside.broken and gate.active == 0

    holding, release = threading.Event(), threading.Event()

    def first() -> None:
        with gate.hold("balanced"):
            holding.set()
            release.wait(30)
            order.append("balanced done")

    def other() -> None:
        with gate.hold("best"):
            order.append("best ran")

    a = threading.Thread(target=first)
    a.start()
    assert holding.wait(30)
    b = threading.Thread(target=other)
    b.start()
    while not gate._waiting:  # b is queued behind the running call with other parameters
        assert b.is_alive()
        holding.wait(0.01)
    assert order == []
    release.set()
    a.join(30)
    b.join(30)
    assert order == ["balanced done", "best ran"]


def test_two_ocr_jobs_at_once_read_their_own_text(bundle, tmp_path):
    import threading

    bundle("ocr")
    lines = {"one": "The quick brown fox jumps over the lazy dog", "two": "Pack my box with five dozen liquor jugs"}
    results: dict[str, str] = {}

    def job(name: str) -> None:
        path = render(tmp_path / f"{name}.png", (lines[name],))
        results[name] = run_tool("ocr", path, {"quality": "balanced"}, tmp_path / name).extra["text"]

    threads = [threading.Thread(target=job, args=(n,)) for n in lines]
    for t in threads:
        t.start()
    for t in threads:
        t.join(300)
    for name, line in lines.items():
        assert accuracy(line, results[name]) >= 0.95, results


@pytest.mark.parametrize("quality", ["fast", "balanced", "best"])
@pytest.mark.parametrize(("size", "colour"), [((640, 480), "white"), ((300, 200), (40, 90, 160)), ((1, 1), "black")])
def test_ocr_on_an_image_without_text_gives_empty_text(bundle, tmp_path, quality, size, colour):
    bundle("ocr")
    path = tmp_path / "blank.png"
    Image.new("RGB", size, colour).save(path)
    result = run_tool("ocr", path, {"quality": quality}, tmp_path)
    assert result.extra["text"] == "" and result.extra["words"] == [] and result.extra["wordCount"] == 0
    assert result.outputs[0].read_text() == ""
