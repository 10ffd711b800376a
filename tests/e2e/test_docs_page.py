"""The interactive docs page in headless Chromium: it loads with no request leaving the server, shows every tool
section and area, works with an API key (try-it-out on a guarded route answers 200), and renders (screenshot)."""

from __future__ import annotations

import os
import shutil
from urllib.parse import urlsplit

import pytest
from PIL import Image, ImageStat

from service.openapi_content import AREA_TAGS, SECTION_TAGS

CHROMIUM = "/usr/bin/chromium"
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--no-first-run"]


@pytest.fixture(scope="module")
def browser():
    from pathlib import Path

    if not Path(CHROMIUM).exists():
        pytest.skip("chromium is not installed: run ./run setup (deps/image2.apt)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=FLAGS, headless=True)
        yield b
        b.close()


def test_docs_page_is_self_contained_shows_every_section_and_works_with_an_api_key(browser, server, tmp_path):
    with server.client() as c:
        key = c.post("/api/v1/api-keys", json={"name": "docs-page", "permissions": ["tools:use"]}).json()["key"]
    origin = urlsplit(server.base_url).netloc
    requests: list[str] = []
    errors: list[str] = []
    page = browser.new_page(viewport={"width": 1280, "height": 2000})
    page.on("request", lambda r: requests.append(r.url))
    page.on("pageerror", lambda e: errors.append(str(e)))
    response = page.goto(server.base_url + "/api/docs", wait_until="networkidle")
    assert response.status == 200
    page.wait_for_selector(".opblock-tag-section", timeout=60000)
    tags = page.locator(".opblock-tag-section h3").all_inner_texts()
    shown = {t.strip().split("\n")[0] for t in tags}
    for name, _ in SECTION_TAGS.values():
        assert name in shown, (name, shown)
    for name in AREA_TAGS:
        assert name in shown, (name, shown)
    assert page.locator(".info .title").inner_text().startswith("Lutra API")
    assert "Warning" not in page.locator(".swagger-ui").inner_text()  # Swagger UI found nothing to complain about

    # nothing was fetched from anywhere but this server (no CDN, no validator badge, no fonts)
    outside = [u for u in requests if not u.startswith(("data:", "blob:")) and urlsplit(u).netloc != origin]
    assert not outside, outside
    assert any(u.endswith("/api/v1/openapi.json") for u in requests)
    assert not errors, errors

    screenshot = tmp_path / "docs.png"
    page.screenshot(path=str(screenshot), full_page=False)
    if os.environ.get("LUTRA_DOCS_SCREENSHOT"):
        shutil.copy(screenshot, os.environ["LUTRA_DOCS_SCREENSHOT"])
    with Image.open(screenshot) as img:
        assert img.size == (1280, 2000)
        stat = ImageStat.Stat(img.convert("L"))
        assert stat.stddev[0] > 10  # text and coloured operation bars, not a blank page

    # try it out, authorised with the API key (what the Authorize dialog stores)
    page.evaluate("key => window.ui.preauthorizeApiKey('apiKeyHeader', key)", key)
    page.locator("#operations-tag-Tools").click()
    block = page.locator("#operations-Tools-get_api_v1_tools")
    block.wait_for(timeout=30000)
    block.locator(".opblock-summary").click()
    block.locator(".try-out__btn").click()
    block.locator(".execute").click()
    status = block.locator(".live-responses-table tr.response .response-col_status").first
    status.wait_for(timeout=30000)
    assert status.inner_text().strip().startswith("200")
    assert '"tools"' in block.locator(".live-responses-table .microlight").first.inner_text()

    # a tool's documented answer shows a concrete example (Example Value), as does its settings schema
    page.locator("h3.opblock-tag", has_text="Image tools").first.click()
    resize = page.locator(".opblock", has=page.locator('[data-path="/api/v1/tools/image/resize"]')).first
    resize.wait_for(timeout=30000)
    resize.locator(".opblock-summary").first.click()
    done = resize.locator(".responses-table tr.response[data-code='200'] .example").first
    done.wait_for(timeout=30000)
    shown = done.inner_text()
    assert '"downloadUrl"' in shown and "/api/v1/download/" in shown and '"processedSize"' in shown, shown
    page.close()
