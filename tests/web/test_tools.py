"""The catalogue and tool pages: search, recently used, a generated form, running a tool, a batch, errors."""

from __future__ import annotations

import io
import json
import zipfile

import pytest
import pyvips

from protocols.tools import REGISTRY
from tests.api._workspace import make_video
from tests.web.conftest import wait_until


def top_level_tools() -> list[str]:
    from actors import catalog

    catalog.load()
    return [s.id for s in REGISTRY.values() if not s.is_subroute]


def test_catalogue_lists_every_tool_by_section_and_finds_by_name_id_and_purpose(server, open_page):
    w = open_page(server)
    page = w.page
    w.goto("/")
    ids = page.locator("li.tool").evaluate_all("els => els.map(e => e.dataset.id)")
    assert sorted(ids) == sorted(top_level_tools())
    assert page.locator("#sec-image h3").all_text_contents()[:3] == ["Essentials", "Optimization", "Adjustments"]
    search = page.get_by_label("Search tools")
    search.fill("Rotate & Flip")  # name
    assert page.locator("li.tool:visible").evaluate_all("els => els.map(e => e.dataset.id)") == ["rotate"]
    search.fill("merge-pdf")  # id
    assert "merge-pdf" in page.locator("li.tool:visible").evaluate_all("els => els.map(e => e.dataset.id)")
    search.fill("subtitles")  # purpose (summary)
    found = page.locator("li.tool:visible").evaluate_all("els => els.map(e => e.dataset.id)")
    assert found and all("subtitle" in REGISTRY[i].summary.lower() or "subtitle" in i for i in found)
    search.fill("zzzz-no-such-tool")
    assert page.locator("#no-match").is_visible()
    assert not w.errors, w.errors


def test_resize_a_photo_download_it_and_see_it_in_recently_used(server, open_page, samples, tmp_path):
    w = open_page(server)
    page = w.page
    w.goto("/tools/resize")
    page.locator("#input-file").set_input_files(str(samples / "photo.jpg"))
    assert "photo.jpg" in page.locator(".drop .file-list").inner_text()
    page.get_by_label("Width", exact=True).fill("200")
    page.get_by_role("button", name="Run").click()
    download_link = page.get_by_role("link", name="Download photo.jpg")
    download_link.wait_for()
    assert "→" in page.locator(".sizes").inner_text()
    page.locator(".compare img.after").wait_for()  # the before/after slider
    with page.expect_download() as info:
        download_link.click()
    path = tmp_path / "small.jpg"
    info.value.save_as(path)
    img = pyvips.Image.new_from_file(str(path))
    assert (img.width, img.height) == (200, 150)
    w.screenshot("tool-resize-result")
    w.goto("/")
    assert page.locator("#recent").is_visible()
    assert page.locator("#recent a").first.inner_text() == "Resize"
    assert not w.errors, w.errors


def test_fields_follow_the_chosen_mode_and_server_errors_sit_next_to_their_field(server, open_page, samples):
    w = open_page(server)
    page = w.page
    w.goto("/tools/sharpening")
    amount = page.locator('[data-field="amount"]')
    sigma = page.locator('[data-field="sigma"]')
    assert sigma.is_visible() and not amount.is_visible()
    page.locator('[data-field="method"]').get_by_text("unsharp-mask").click()
    assert amount.is_visible() and not sigma.is_visible()
    # the slider and the number field are one value
    page.locator('[data-field="amount"] input[type=range]').fill("250")
    assert page.locator('#f-amount').input_value() == "250"
    # a value the browser lets through but the model refuses: the server's message lands on the field
    page.locator("#input-file").set_input_files(str(samples / "photo.jpg"))
    page.locator("#f-amount").fill("900")
    page.get_by_role("button", name="Run").click()
    error = page.locator('[data-field="amount"] .field-error')
    error.wait_for()
    assert "500" in error.inner_text()
    assert page.locator("#f-amount").get_attribute("aria-invalid") == "true"
    # colours get a picker, booleans a switch
    w.goto("/tools/watermark-text")
    assert page.locator('[data-field="color"] input[type=color]').count() == 1
    w.goto("/tools/resize")
    assert page.get_by_role("switch", name="Without enlargement").count() == 1
    w.errors = [e for e in w.errors if "400" not in e]
    assert not w.errors, w.errors


def test_batch_of_three_files_downloads_a_zip(server, open_page, samples, tmp_path):
    w = open_page(server)
    page = w.page
    w.goto("/tools/rotate")
    files = []
    for i in range(3):
        p = tmp_path / f"img{i}.png"
        pyvips.Image.new_from_file(str(samples / "small.png")).pngsave(str(p))
        files.append(str(p))
    page.locator("#input-file").set_input_files(files)
    page.locator('[data-field="angle"] input[data-value]').fill("90")
    page.get_by_role("button", name="Run").click()
    link = page.get_by_role("link", name="Download rotate-batch.zip")
    link.wait_for()
    assert page.locator(".batch-status li.good").count() == 3
    with page.expect_download() as info:
        link.click()
    path = tmp_path / "batch.zip"
    info.value.save_as(path)
    with zipfile.ZipFile(path) as z:
        names = [n for n in z.namelist() if n.endswith(".png")]
        assert len(names) == 3
        img = pyvips.Image.new_from_buffer(z.read(names[0]), "")
        assert (img.width, img.height) == (150, 200)
    assert not w.errors, w.errors


def test_a_failing_run_shows_the_servers_message(server, open_page, samples):
    w = open_page(server)
    page = w.page
    w.goto("/tools/resize")
    page.locator("#input-file").set_input_files(str(samples / "text.png"))
    page.get_by_label("Width", exact=True).fill("100")
    page.get_by_role("button", name="Run").click()
    error = page.locator(".form-error")
    error.wait_for()
    assert "image" in error.inner_text().lower()


@pytest.fixture(scope="module")
def video(tmp_path_factory):
    return make_video(tmp_path_factory.mktemp("video") / "clip.mp4", seconds=4, size="640x360")


def test_video_conversion_reports_progress_to_100_and_a_second_run_can_be_canceled(server, open_page, video):
    w = open_page(server)
    page = w.page
    w.goto("/tools/convert-video")
    page.evaluate("""() => { window.__frames = []; const Orig = window.EventSource;
        window.EventSource = function (url) { const s = new Orig(url);
          s.addEventListener('message', (e) => window.__frames.push(JSON.parse(e.data))); return s; }; }""")
    page.locator("#input-file").set_input_files(str(video))
    page.locator('[data-field="format"]').get_by_text("webm", exact=True).click()
    page.get_by_role("button", name="Run").click()
    page.get_by_role("link", name="Download clip.webm").wait_for(timeout=120_000)
    frames = page.evaluate("window.__frames")
    assert frames[-1]["status"] == "completed" and frames[-1]["progress"] == 100
    assert page.locator("video").count() == 1
    # a second run, canceled while it runs
    page.get_by_role("button", name="Run").click()
    page.get_by_role("button", name="Cancel").wait_for()
    wait_until(page, "window.__frames.length > 0 && window.__frames.at(-1).status === 'processing'")
    page.get_by_role("button", name="Cancel").click()
    page.locator(".form-error").wait_for()
    assert "cancel" in page.locator(".form-error").inner_text().lower()
    assert json.dumps(page.evaluate("window.__frames.at(-1)")).count("canceled") >= 1


def test_a_batch_shows_each_files_state_live_with_its_own_download_or_error(server, open_page, video, tmp_path):
    w = open_page(server)
    page = w.page
    w.goto("/tools/convert-video")
    clips = []
    for name in ("one.mp4", "two.mp4"):
        (tmp_path / name).write_bytes(video.read_bytes())
        clips.append(str(tmp_path / name))
    (tmp_path / "notes.txt").write_text("not a video\n")
    page.locator("#input-file").set_input_files([*clips, str(tmp_path / "notes.txt")])
    page.locator('[data-field="format"]').get_by_text("webm", exact=True).click()
    # every state each row shows, as it shows it (the rows are made when Run is pressed)
    page.evaluate("""() => { window.__seen = {}; new MutationObserver(() => {
        for (const li of document.querySelectorAll('.batch-status li')) {
          const seen = (window.__seen[li.dataset.index] ||= []);
          const now = li.dataset.state + ' ' + li.querySelector('.pct').textContent;
          if (seen.at(-1) !== now) seen.push(now);
        } }).observe(document.getElementById('result'), {subtree: true, childList: true, characterData: true,
                                                         attributes: true}); }""")
    page.get_by_role("button", name="Run").click()
    zip_link = page.get_by_role("link", name="Download convert-video-batch.zip")
    zip_link.wait_for(timeout=180_000)
    rows = page.locator(".batch-status li")
    seen = page.evaluate("window.__seen")
    for index in ("0", "1"):  # each video was seen running with its own percent before it was done
        running = [s for s in seen[index] if s.startswith("processing ")]
        assert any(0 < int(s.split()[1]) < 100 for s in running), seen
        assert seen[index][-1].startswith("completed"), seen
    assert rows.nth(2).locator(".state").inner_text().startswith("failed: convert-video expects")
    assert "notes.txt" in rows.nth(2).locator(".state").inner_text()
    assert rows.nth(2).get_by_role("link").count() == 0
    with page.expect_download() as info:  # one file's own result, without the ZIP
        rows.nth(1).get_by_role("link", name="Download two.webm").click()
    info.value.save_as(tmp_path / "two.webm")
    assert (tmp_path / "two.webm").read_bytes()[:4] == bytes.fromhex("1a45dfa3")  # EBML: a WebM file
    with page.expect_download() as info:
        zip_link.click()
    info.value.save_as(tmp_path / "batch.zip")
    assert sorted(zip_names((tmp_path / "batch.zip").read_bytes())) == ["one.webm", "two.webm"]
    w.screenshot("tool-batch-live")
    assert not w.errors, w.errors


def table_rows(region) -> list[list[str]]:
    region.locator("table").wait_for(timeout=120_000)
    return region.locator("tr").evaluate_all("rows => rows.map(r => [...r.cells].map(c => c.textContent))")


def test_spreadsheets_in_and_out_are_shown_as_tables(server, open_page, tmp_path):
    import openpyxl

    expected = [["fruit", "note", "qty"], ["apple", "red, sweet", "3"], ["pear", "green", "5"]]
    csv = tmp_path / "fruit.csv"
    csv.write_text('fruit,note,qty\napple,"red, sweet",3\npear,green,5\n')
    w = open_page(server)
    page = w.page
    # CSV in (read in the page), XLSX out (turned back into rows by the server's csv-excel)
    w.goto("/tools/csv-excel")
    page.locator("#input-file").set_input_files(str(csv))
    assert table_rows(page.get_by_role("region", name="Preview of fruit.csv")) == expected
    page.get_by_role("button", name="Run").click()
    page.get_by_role("link", name="Download fruit.xlsx").wait_for(timeout=120_000)
    assert table_rows(page.get_by_role("region", name="Preview of fruit.xlsx (first sheet)")) == expected
    # XLSX in: its first sheet, shown before anything runs
    book = openpyxl.Workbook()
    for row in [["fruit", "note", "qty"], ["apple", "red, sweet", 3], ["pear", "green", 5]]:
        book.active.append(row)
    book.create_sheet("other").append(["not", "shown"])
    book.save(tmp_path / "stock.xlsx")
    w.goto("/tools/excel-to-pdf")
    page.locator("#input-file").set_input_files(str(tmp_path / "stock.xlsx"))
    assert table_rows(page.get_by_role("region", name="Preview of stock.xlsx (first sheet)")) == expected
    # ODS out (LibreOffice makes it, and turns it back into CSV for the preview)
    w.goto("/tools/convert-spreadsheet")
    page.locator("#input-file").set_input_files(str(csv))
    page.locator('[data-field="format"]').get_by_text("ods", exact=True).click()
    page.get_by_role("button", name="Run").click()
    page.get_by_role("link", name="Download fruit.ods").wait_for(timeout=120_000)
    assert table_rows(page.get_by_role("region", name="Preview of fruit.ods (first sheet)")) == expected
    w.screenshot("tool-spreadsheet-preview")
    assert not w.errors, w.errors


def test_usable_at_375_px_wide(server, open_page):
    w = open_page(server, viewport={"width": 375, "height": 740})
    page = w.page
    for path in ("/", "/tools/sharpening", "/library", "/pipelines", "/account", "/admin/users"):
        w.goto(path)
        overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
        assert overflow <= 0, (path, overflow)
    w.goto("/")
    menu = page.get_by_role("button", name="Menu")
    assert menu.get_attribute("aria-expanded") == "false"
    menu.click()
    page.get_by_role("link", name="Library").click()
    page.wait_for_url(server.base_url + "/library")
    w.goto("/tools/resize")
    w.screenshot("mobile-tool")
    assert not w.errors, w.errors


def test_keyboard_alone_reaches_a_tool_and_runs_it(server, open_page, samples):
    w = open_page(server)
    page = w.page
    w.goto("/")
    page.keyboard.press("Tab")  # the skip link first
    assert page.evaluate("document.activeElement.textContent") == "Skip to content"
    page.get_by_label("Search tools").focus()
    page.keyboard.type("strip-metadata")
    page.keyboard.press("Enter")
    page.wait_for_url(server.base_url + "/tools/strip-metadata")
    page.locator("#input-file").set_input_files(str(samples / "photo.jpg"))
    page.locator("#run").focus()
    page.keyboard.press("Enter")
    page.get_by_role("link", name="Download photo.jpg").wait_for()
    assert not w.errors, w.errors


def zip_names(data: bytes) -> list[str]:
    return zipfile.ZipFile(io.BytesIO(data)).namelist()
