"""Accessibility (axe-core, vendored), weight of a first load, and the README's screenshots."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from tests.web.conftest import SCREENSHOTS, axe_violations

DOCS = Path(__file__).resolve().parents[2] / "docs"
CATALOGUE_BUDGET = 150 * 1024  # compressed HTML + CSS + JS of the catalogue's first load
TOOL_BUDGET = 100 * 1024


def first_load_bytes(w, path: str) -> tuple[int, dict[str, int]]:
    """Bytes on the wire (compressed bodies and headers) of HTML, CSS and JS for one cold load."""
    sizes: dict[str, int] = {}

    def done(request):
        if request.resource_type in ("document", "stylesheet", "script"):
            s = request.sizes()
            sizes[request.url] = s["responseBodySize"] + s["responseHeadersSize"]

    w.page.on("requestfinished", done)
    w.goto(path)
    w.page.wait_for_load_state("networkidle")
    w.page.remove_listener("requestfinished", done)
    # time to interactive, reported (never asserted): the page's module scripts have run and wired their
    # handlers by the end of DOMContentLoaded
    timing = w.page.evaluate("(() => { const n = performance.getEntriesByType('navigation')[0];"
                             " return [n.responseEnd, n.domContentLoadedEventEnd, n.loadEventEnd]; })()")
    print(f"{path}: response {timing[0]:.0f} ms, interactive {timing[1]:.0f} ms, load {timing[2]:.0f} ms")
    return sum(sizes.values()), sizes


def test_first_loads_fit_the_weight_budget(server, open_page):
    w = open_page(server)
    cold = w.context.browser.new_context()
    cold.add_cookies(w.context.cookies())
    from tests.web.conftest import Watched

    fresh = Watched(cold, server.base_url)
    total, sizes = first_load_bytes(fresh, "/")
    print(f"\ncatalogue first load: {total} bytes compressed ({len(sizes)} files)")
    assert total <= CATALOGUE_BUDGET, sizes
    cold.close()
    cold = w.context.browser.new_context()
    cold.add_cookies(w.context.cookies())
    fresh = Watched(cold, server.base_url)
    total, sizes = first_load_bytes(fresh, "/tools/sharpening")
    print(f"tool page first load: {total} bytes compressed ({len(sizes)} files)")
    assert total <= TOOL_BUDGET, sizes
    cold.close()


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_main_pages_have_no_serious_accessibility_violations(server, open_page, samples, scheme):
    w = open_page(server, color_scheme=scheme)
    page = w.page
    found = {}
    pages = ["/", "/tools/sharpening", "/tools/watermark-text", "/library", "/pipelines", "/account", "/admin/users",
             "/admin/teams", "/admin/roles", "/admin/settings", "/admin/features", "/admin/audit", "/admin/health",
             "/admin/branding"]
    for path in pages:
        w.goto(path)
        page.wait_for_load_state("networkidle")
        found[path] = axe_violations(w)
    # a result, and a pipeline step's form
    w.goto("/tools/rotate")
    page.locator("#input-file").set_input_files(str(samples / "photo.jpg"))
    page.get_by_role("button", name="Run").click()
    page.locator("#result .actions a[download]").wait_for()
    found["result"] = axe_violations(w)
    w.goto("/pipelines")
    page.get_by_label("Add a step").select_option("resize")
    page.get_by_role("button", name="Add step").click()
    page.locator("li.step [data-settings]").wait_for(state="attached")
    page.locator("li.step summary").click()
    found["pipeline step"] = axe_violations(w)
    # signed out
    page.get_by_role("button", name="Sign out").click()
    page.wait_for_url(server.base_url + "/login")
    found["/login"] = axe_violations(w)
    bad = {k: v for k, v in found.items() if v}
    assert not bad, bad
    assert not w.errors, w.errors


def test_screenshots_of_the_catalogue_and_a_tool_page(server, open_page, samples):
    """Made on every run in the screenshot folder; LUTRA_DOC_SCREENSHOTS=1 copies them to docs/ for the README."""
    w = open_page(server, viewport={"width": 1280, "height": 860})
    page = w.page
    w.goto("/")
    catalogue = w.screenshot("catalogue", full_page=False)
    w.goto("/tools/sharpening")
    page.locator("#input-file").set_input_files(str(samples / "photo.jpg"))
    page.locator('[data-field="method"]').get_by_text("unsharp-mask", exact=True).click()
    page.locator("#f-amount").fill("300")
    page.get_by_role("button", name="Run").click()
    page.locator("#result .compare").wait_for()
    page.evaluate("window.scrollTo(0, 0)")
    page.wait_for_timeout(300)  # the before/after images settle
    tool = w.screenshot("tool-page", full_page=False)
    w2 = open_page(server, color_scheme="dark", viewport={"width": 1280, "height": 860})
    w2.goto("/")
    w2.screenshot("catalogue-dark", full_page=False)
    if os.environ.get("LUTRA_DOC_SCREENSHOTS") == "1":
        DOCS.mkdir(exist_ok=True)
        shutil.copy(catalogue, DOCS / "catalogue.png")
        shutil.copy(tool, DOCS / "tool-page.png")
    assert (SCREENSHOTS / "catalogue.png").stat().st_size > 10_000
    assert not w.errors, w.errors
