"""Richer controls: draw a crop box, click to place, a trim timeline, paint an erase mask, reorder merge inputs."""

from __future__ import annotations

import pytest
import pyvips
from playwright.sync_api import expect

from tests.api._workspace import make_pdf, make_video, pdf_pages
from tests.web.conftest import wait_until


def download(page, tmp_path, name):
    link = page.locator("#result .actions a[download]").first
    link.wait_for(timeout=120_000)
    with page.expect_download() as info:
        link.click()
    path = tmp_path / name
    info.value.save_as(path)
    return path


def test_draw_the_crop_box_on_the_image(server, open_page, samples, tmp_path):
    w = open_page(server)
    page = w.page
    w.goto("/tools/crop")
    page.locator("#input-file").set_input_files(str(samples / "photo.jpg"))  # 400x300
    img = page.locator("#control .stage img")
    img.wait_for()
    wait_until(page, "document.querySelector('#control .stage img').naturalWidth > 0")
    box = img.bounding_box()
    sx, sy = box["width"] / 400, box["height"] / 300
    page.mouse.move(box["x"] + 100 * sx, box["y"] + 50 * sy)
    page.mouse.down()
    page.mouse.move(box["x"] + 200 * sx, box["y"] + 150 * sy, steps=5)
    page.mouse.up()
    values = [int(page.locator(f"#f-{n}").input_value()) for n in ("left", "top", "width", "height")]
    assert all(abs(a - b) <= 2 for a, b in zip(values, [100, 50, 100, 100], strict=True)), values
    page.get_by_role("button", name="Run").click()
    out = pyvips.Image.new_from_file(str(download(page, tmp_path, "crop.jpg")))
    assert abs(out.width - values[2]) <= 1 and abs(out.height - values[3]) <= 1
    w.screenshot("control-crop", full_page=False)
    assert not w.errors, w.errors


def test_click_to_place_a_text_overlay(server, open_page, samples):
    w = open_page(server)
    page = w.page
    w.goto("/tools/text-overlay")
    page.locator("#input-file").set_input_files(str(samples / "photo.jpg"))
    img = page.locator("#control .stage img")
    img.wait_for()
    wait_until(page, "document.querySelector('#control .stage img').naturalWidth > 0")
    box = img.bounding_box()
    img.click(position={"x": box["width"] * 0.25, "y": box["height"] * 0.5})
    assert abs(int(page.locator("#f-x").input_value()) - 100) <= 2
    assert abs(int(page.locator("#f-y").input_value()) - 150) <= 2
    page.get_by_label("Text").fill("Hello")
    page.get_by_role("button", name="Run").click()
    page.locator("#result .actions a[download]").wait_for()
    assert not w.errors, w.errors


def test_click_picks_the_nearest_named_position_of_a_watermark(server, open_page, tmp_path):
    w = open_page(server)
    page = w.page
    dark = tmp_path / "dark.png"
    pyvips.Image.black(400, 300).pngsave(str(dark))
    w.goto("/tools/watermark-text")
    page.locator("#input-file").set_input_files(str(dark))
    img = page.locator("#control .stage img")
    img.wait_for()
    wait_until(page, "document.querySelector('#control .stage img').naturalWidth > 0")
    box = img.bounding_box()
    img.click(position={"x": box["width"] * 0.12, "y": box["height"] * 0.2})  # nearest: the top-left corner
    assert page.locator("#f-position").input_value() == "top-left"
    marker = page.locator("#control .anchor")
    assert marker.inner_text() == "top-left"
    spot = marker.bounding_box()
    assert spot["x"] - box["x"] < 2 and spot["y"] - box["y"] < 2  # drawn in the picture's top-left corner
    img.click(position={"x": box["width"] * 0.55, "y": box["height"] * 0.45})
    assert page.locator("#f-position").input_value() == "center"
    page.locator("#f-position").select_option("bottom-left")  # the select and the picture agree
    assert marker.inner_text() == "bottom-left"
    img.click(position={"x": box["width"] * 0.9, "y": box["height"] * 0.1})
    assert page.locator("#f-position").input_value() == "top-right"
    page.locator("#f-text").fill("MARK")
    page.locator('[data-field="opacity"] input[data-value]').fill("100")
    img.evaluate("i => i.scrollIntoView({block: 'center'})")  # not under the sticky header
    w.screenshot("control-place", full_page=False)
    page.get_by_role("button", name="Run").click()
    out = pyvips.Image.new_from_file(str(download(page, tmp_path, "marked.png")))
    assert out.crop(200, 0, 200, 150).max() > 200  # the white text is in the top-right quarter
    for left, top in ((0, 0), (0, 150), (200, 150)):
        assert out.crop(left, top, 200, 150).max() < 30, (left, top)
    # a PDF tool's short names (tl … br), placed on the first page as the server renders it
    w.goto("/tools/pdf-page-numbers")
    page.locator("#input-file").set_input_files(str(make_pdf(tmp_path / "doc.pdf", pages=2)))
    first = page.locator("#control .stage img")
    first.wait_for()
    wait_until(page, "document.querySelector('#control .stage img').naturalWidth > 0")
    box = first.bounding_box()
    first.click(position={"x": box["width"] * 0.1, "y": box["height"] * 0.95})
    assert page.locator("#f-position").input_value() == "bl"
    assert not w.errors, w.errors


@pytest.fixture(scope="module")
def clip(tmp_path_factory):
    return make_video(tmp_path_factory.mktemp("trim") / "clip.mp4", seconds=4)


def test_trim_on_a_timeline(server, open_page, clip, tmp_path):
    w = open_page(server)
    page = w.page
    w.goto("/tools/trim-video")
    page.locator("#input-file").set_input_files(str(clip))
    start = page.get_by_label("Start of the cut")
    start.wait_for()
    wait_until(page, "Number(document.querySelector('[aria-label=\"End of the cut\"]').max) > 3")
    start.fill("1")
    page.get_by_label("End of the cut").fill("3")
    assert float(page.locator("#f-startS").input_value()) == 1.0
    assert float(page.locator("#f-endS").input_value()) == 3.0
    page.locator("label[for=f-precise]").click()  # a fast cut starts at the keyframe before 1 s
    assert page.get_by_role("switch", name="Precise").is_checked()
    page.get_by_role("button", name="Run").click()
    out = download(page, tmp_path, "cut.mp4")
    import subprocess

    duration = float(subprocess.run(["ffprobe", "-v", "error", "-show_entries", "format=duration", "-of", "csv=p=0",
                                     str(out)], capture_output=True, text=True, check=True).stdout)
    assert 1.5 <= duration <= 2.6
    assert not w.errors, w.errors


def test_paint_the_erase_mask_it_is_sent_as_the_mask_input(server, open_page, samples):
    w = open_page(server)
    page = w.page
    w.goto("/tools/erase-object")
    page.locator("#input-file").set_input_files(str(samples / "photo.jpg"))
    canvas = page.locator("#control canvas")
    canvas.wait_for()
    wait_until(page, "document.querySelector('#control canvas').width === 400")
    box = canvas.bounding_box()
    page.mouse.move(box["x"] + box["width"] * 0.4, box["y"] + box["height"] * 0.5)
    page.mouse.down()
    page.mouse.move(box["x"] + box["width"] * 0.6, box["y"] + box["height"] * 0.5, steps=8)
    page.mouse.up()
    sent = {}

    def capture(route):
        body = route.request.post_data_buffer or b""
        sent["mask"] = b'name="mask"; filename="mask.png"' in body
        start = body.find(b"\x89PNG")
        sent["png"] = body[start:body.find(b"\r\n--", start)] if start >= 0 else b""
        route.continue_()

    page.route("**/api/v1/tools/image/erase-object", capture)
    page.get_by_role("button", name="Run").click()
    page.locator(".form-error, #result .actions a[download]").first.wait_for(timeout=120_000)
    assert sent["mask"]
    mask = pyvips.Image.new_from_buffer(sent["png"], "")[0]
    assert (mask.width, mask.height) == (400, 300)
    assert mask.max() == 255 and mask.min() == 0
    assert mask.crop(190, 140, 20, 20).min() == 255  # painted in the middle
    assert mask.crop(0, 0, 40, 40).max() == 0  # nothing in the corner


def test_reorder_merge_inputs(server, open_page, tmp_path):
    w = open_page(server)
    page = w.page
    wide = make_pdf(tmp_path / "wide.pdf", pages=1, size=(400, 200))
    tall = make_pdf(tmp_path / "tall.pdf", pages=1, size=(200, 400))
    w.goto("/tools/merge-pdf")
    page.locator("#input-file").set_input_files([str(wide), str(tall)])
    page.get_by_role("button", name="Move tall.pdf up").click()
    assert page.locator(".drop .file-list .fname").all_inner_texts() == ["tall.pdf", "wide.pdf"]
    page.get_by_role("button", name="Run").click()
    out = download(page, tmp_path, "merged.pdf")
    sizes = pdf_pages(out.read_bytes())
    assert [round(w_) for w_, _ in sizes] == [200, 400]
    assert not w.errors, w.errors


def test_pick_and_order_pdf_pages_from_thumbnails(server, open_page, tmp_path):
    w = open_page(server)
    page = w.page
    doc = make_pdf(tmp_path / "three.pdf", pages=3)
    w.goto("/tools/extract-pages")
    page.locator("#input-file").set_input_files(str(doc))
    page.get_by_role("button", name="Page 3", exact=True).wait_for()
    wait_until(page, "[...document.querySelectorAll('.pages img')].every(i => i.complete && i.naturalWidth > 0)")
    page.get_by_role("button", name="Page 1", exact=True).click()
    page.get_by_role("button", name="Page 3", exact=True).click()
    assert page.get_by_role("button", name="Page 1", exact=True).get_attribute("aria-pressed") == "true"
    assert page.locator("#f-range").input_value() == "1,3"
    page.get_by_role("button", name="Page 2", exact=True).click()
    assert page.locator("#f-range").input_value() == "1-3"
    page.get_by_role("button", name="Page 2", exact=True).click()
    page.get_by_role("button", name="Run").click()
    assert len(pdf_pages(download(page, tmp_path, "two.pdf").read_bytes())) == 2
    w.goto("/tools/organize-pdf")
    page.locator("#input-file").set_input_files(str(doc))
    page.get_by_role("button", name="Move page 3 earlier").wait_for()
    assert page.locator("#f-order").input_value() == "1,2,3"
    # each move redraws the thumbnails: the second click waits for the first one's order
    page.get_by_role("button", name="Move page 3 earlier").click()
    expect(page.locator("#f-order")).to_have_value("1,3,2")
    page.get_by_role("button", name="Move page 3 earlier").click()
    expect(page.locator("#f-order")).to_have_value("3,1,2")
    page.get_by_role("button", name="Run").click()
    assert len(pdf_pages(download(page, tmp_path, "ordered.pdf").read_bytes())) == 3
    w.screenshot("control-pages", full_page=False)
    assert not w.errors, w.errors


def test_turn_single_pdf_pages_from_their_thumbnails(server, open_page, tmp_path):
    import json

    import pikepdf

    w = open_page(server)
    page = w.page
    doc = make_pdf(tmp_path / "three.pdf", pages=3)
    w.goto("/tools/rotate-pdf")
    page.locator("#input-file").set_input_files(str(doc))
    page.get_by_role("button", name="Turn page 3 left").wait_for()
    wait_until(page, "[...document.querySelectorAll('.pages img')].every(i => i.complete && i.naturalWidth > 0)")
    page.get_by_role("button", name="Turn page 2 right").click()
    page.get_by_role("button", name="Turn page 2 right").click()
    page.get_by_role("button", name="Turn page 3 left").click()
    assert json.loads(page.locator("#f-pageAngles").input_value()) == {"2": 180, "3": 270}
    thumbs = page.locator(".pages .turned img")
    assert [thumbs.nth(i).evaluate("i => i.style.transform") for i in range(3)] == ["", "rotate(180deg)", "rotate(270deg)"]
    page.get_by_role("button", name="Turn page 3 right").click()
    page.get_by_role("button", name="Turn page 3 right").click()  # 270 -> 0 -> 90
    w.screenshot("control-pages-rotate", full_page=False)
    page.get_by_role("button", name="Run").click()
    with pikepdf.open(download(page, tmp_path, "turned.pdf")) as pdf:
        assert [int(p.obj.get("/Rotate", 0)) for p in pdf.pages] == [0, 180, 90]
    assert not w.errors, w.errors
