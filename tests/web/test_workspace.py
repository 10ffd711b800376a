"""Library (save a result, version chain, open in a tool), pipelines (build, save, load, run) and account
(API keys created in the browser and used from a plain HTTP client)."""

from __future__ import annotations

import re

import httpx
import pyvips
from playwright.sync_api import expect


def test_save_results_to_the_library_and_see_the_version_chain(server, open_page, samples, tmp_path):
    w = open_page(server)
    page = w.page
    w.goto("/tools/resize")
    page.locator("#input-file").set_input_files(str(samples / "photo.jpg"))
    page.get_by_label("Width", exact=True).fill("320")
    page.get_by_role("button", name="Run").click()
    page.get_by_role("button", name="Save to library").click()
    page.get_by_role("button", name="Saved (version 1)").wait_for()
    # open it from the library in another tool: its result becomes the file's next version
    w.goto("/library")
    card = page.locator(".file-card").first
    card.wait_for()
    assert "320×240" in card.inner_text()
    # the thumbnail is rendered on first request: on a busy box it may arrive after the card
    card.locator(".thumb img").wait_for()
    page.wait_for_function("() => { const img = document.querySelector('.file-card .thumb img');"
                           " return img && img.complete && img.naturalWidth > 0; }", timeout=60_000)
    card.get_by_role("button", name="Open in tool: photo.jpg").click()
    page.get_by_role("combobox", name="Tool").fill("rotate")
    page.get_by_role("button", name="Open", exact=True).click()
    page.wait_for_url(server.base_url + "/tools/rotate")
    page.locator(".drop .file-list li").wait_for()
    page.locator('[data-field="angle"] input[data-value]').fill("90")
    page.get_by_role("button", name="Run").click()
    page.get_by_role("button", name="Save to library").click()
    page.get_by_role("button", name="Saved (version 2)").wait_for()
    w.goto("/library")
    page.get_by_role("button", name=re.compile("^Versions of")).first.click()
    versions = page.locator("#versions li")
    versions.nth(1).wait_for()
    texts = versions.all_inner_texts()
    assert texts[0].startswith("v1") and texts[1].startswith("v2") and "rotate" in texts[1]
    w.screenshot("library-versions", full_page=False)
    page.get_by_role("button", name="Close").click()
    with page.expect_download() as info:
        page.locator(".file-card").first.get_by_role("link", name=re.compile("^Download")).click()
    info.value.save_as(tmp_path / "latest.jpg")
    img = pyvips.Image.new_from_file(str(tmp_path / "latest.jpg"))
    assert (img.width, img.height) == (240, 320)
    # search and delete
    page.get_by_label("Search").fill("no-such-name")
    page.locator("#no-files").wait_for(state="visible")
    page.get_by_label("Search").fill("")
    page.locator(".file-card").first.wait_for()
    cards = page.locator(".file-card")
    before = cards.count()
    cards.first.get_by_role("button", name=re.compile("^Delete")).click()
    page.get_by_role("dialog").get_by_role("button", name="Delete").click()
    expect(cards).to_have_count(before - 1, timeout=60_000)
    assert not w.errors, w.errors


def test_open_a_result_in_another_tool(server, open_page, samples, tmp_path):
    w = open_page(server)
    page = w.page
    w.goto("/tools/resize")
    page.locator("#input-file").set_input_files(str(samples / "photo.jpg"))
    page.get_by_label("Width", exact=True).fill("200")
    page.get_by_role("button", name="Run").click()
    picker = page.get_by_label("Open the result in another tool")
    picker.locator('option[value="rotate"]').wait_for(state="attached")
    picker.select_option("rotate")
    page.wait_for_url(server.base_url + "/tools/rotate")
    page.locator(".drop .file-list li", has_text="photo.jpg").wait_for()
    page.locator('[data-field="angle"] input[data-value]').fill("90")
    page.get_by_role("button", name="Run").click()
    link = page.locator("#result .actions a[download]")
    link.wait_for()
    with page.expect_download() as info:
        link.click()
    info.value.save_as(tmp_path / "chain.jpg")
    img = pyvips.Image.new_from_file(str(tmp_path / "chain.jpg"))
    assert (img.width, img.height) == (150, 200)  # the resized result, rotated
    assert page.evaluate("sessionStorage.getItem('lutra.handoff')") is None  # used once
    assert not w.errors, w.errors


def test_run_a_pipeline_on_a_batch(server, open_page, samples, tmp_path):
    import zipfile

    w = open_page(server)
    page = w.page
    w.goto("/pipelines")
    page.get_by_label("Add a step").select_option("rotate")
    page.get_by_role("button", name="Add step").click()
    page.locator("li.step [data-settings]").wait_for(state="attached")
    page.locator("#pipe-file").set_input_files([str(samples / "photo.jpg"), str(samples / "small.png")])
    page.get_by_role("button", name="Run pipeline").click()
    link = page.get_by_role("link", name=re.compile(r"^Download pipeline-batch\.zip"))
    link.wait_for()
    with page.expect_download() as info:
        link.click()
    info.value.save_as(tmp_path / "batch.zip")
    with zipfile.ZipFile(tmp_path / "batch.zip") as z:
        assert len([n for n in z.namelist() if n.endswith((".jpg", ".png"))]) == 2
    assert not w.errors, w.errors


def test_build_save_load_and_run_a_three_step_pipeline(server, open_page, samples, tmp_path):
    w = open_page(server)
    page = w.page
    w.goto("/pipelines")
    for tool in ("resize", "rotate", "convert"):
        page.get_by_label("Add a step").select_option(tool)
        page.get_by_role("button", name="Add step").click()
        page.locator(f'li.step[data-tool="{tool}"] [data-settings]').wait_for(state="attached")
    steps = page.locator("li.step")
    steps.nth(0).locator("summary").click()
    steps.nth(0).get_by_label("Width", exact=True).fill("100")
    steps.nth(1).locator("summary").click()
    steps.nth(1).locator('[data-field="angle"] input[data-value]').fill("90")
    steps.nth(2).locator("summary").click()
    steps.nth(2).locator('[data-field="format"] select, [data-field="format"] input[value="png"]').first.evaluate(
        "e => e.tagName === 'SELECT' ? (e.value = 'png', e.dispatchEvent(new Event('change', {bubbles: true}))) : e.click()")
    # reorder: move convert up and back down
    page.get_by_role("button", name="Move Convert up").click()
    assert page.locator("li.step").evaluate_all("els => els.map(e => e.dataset.tool)") == ["resize", "convert", "rotate"]
    page.get_by_role("button", name="Move Convert down").click()
    page.get_by_label("Name", exact=True).fill("thumb-rotate-png")
    page.get_by_role("button", name="Save pipeline").click()
    page.locator("#saved li", has_text="thumb-rotate-png").wait_for()
    # load it into a fresh builder and run it
    w.goto("/pipelines")
    page.get_by_role("button", name="Load thumb-rotate-png").click()
    page.locator("li.step").nth(2).wait_for()
    assert page.locator("li.step").evaluate_all("els => els.map(e => e.dataset.tool)") == ["resize", "rotate", "convert"]
    page.locator("#pipe-file").set_input_files(str(samples / "photo.jpg"))
    page.get_by_role("button", name="Run pipeline").click()
    link = page.get_by_role("link", name=re.compile(r"^Download .*\.png$"))
    link.wait_for()
    with page.expect_download() as info:
        link.click()
    info.value.save_as(tmp_path / "out.png")
    img = pyvips.Image.new_from_file(str(tmp_path / "out.png"))
    assert (img.width, img.height) == (75, 100)
    w.screenshot("pipelines")
    # delete it
    page.get_by_role("button", name="Delete thumb-rotate-png").click()
    page.get_by_role("dialog").get_by_role("button", name="Delete").click()
    page.locator("#no-saved").wait_for(state="visible")
    assert not w.errors, w.errors


def test_create_an_api_key_in_the_browser_and_use_it_from_httpx(server, open_page, samples):
    w = open_page(server)
    page = w.page
    w.context.grant_permissions(["clipboard-read", "clipboard-write"])
    w.goto("/account")
    page.get_by_label("Name").fill("from-the-browser")
    page.get_by_role("button", name="Create key").click()
    secret = page.locator("#secret-value")
    secret.wait_for()
    key = secret.inner_text()
    assert re.fullmatch(r"si_[0-9a-f]{96}", key)
    page.get_by_role("button", name="Copy").click()
    assert page.evaluate("navigator.clipboard.readText()") == key
    page.get_by_role("button", name="Done").click()
    assert page.locator("#secret-value").inner_text() == ""  # the key does not stay in the page
    assert key not in page.content()
    assert page.locator("#keys tbody tr", has_text="from-the-browser").count() == 1
    with httpx.Client(base_url=server.base_url, headers={"Authorization": f"Bearer {key}"}) as c:
        r = c.post("/api/v1/tools/image/resize", files={"file": ("p.jpg", (samples / "photo.jpg").read_bytes())},
                   data={"settings": '{"width": 40}'})
        assert r.status_code == 200, r.text
        img = pyvips.Image.new_from_buffer(c.get(r.json()["downloadUrl"]).content, "")
        assert img.width == 40
    page.get_by_role("button", name="Delete key from-the-browser").click()
    page.get_by_role("dialog").get_by_role("button", name="Delete").click()
    expect(page.locator("#keys tbody tr", has_text="from-the-browser")).to_have_count(0, timeout=60_000)
    assert httpx.get(server.base_url + "/api/v1/api-keys", headers={"Authorization": f"Bearer {key}"}).status_code == 401
    assert not w.errors, w.errors
