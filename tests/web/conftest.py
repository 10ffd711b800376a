"""Browser tests: Playwright for Python driving Debian's Chromium (headless) against real servers.

Screenshots go to $LUTRA_WEB_SCREENSHOTS (default /tmp/lutra-web-screenshots); with LUTRA_DOC_SCREENSHOTS=1
the README's two screenshots in docs/ are made again."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import httpx
import pytest

from tests.helpers import Server

CHROMIUM = next((p for p in ("/usr/bin/chromium", "/usr/lib/chromium/chromium") if Path(p).exists()),
                shutil.which("chromium"))
SCREENSHOTS = Path(os.environ.get("LUTRA_WEB_SCREENSHOTS", "/tmp/lutra-web-screenshots"))
AXE = Path(__file__).parent / "vendor" / "axe.min.js"


# The browser tests' own server: the session's shared one holds what the API tests uploaded (a broken JPEG whose
# thumbnail is rightly a 422), and the library pages would show it; these tests count every 4xx as an error.
@pytest.fixture(scope="package")
def server(tmp_path_factory):
    srv = Server(tmp_path_factory.mktemp("web-server") / "data").start()
    yield srv
    srv.stop()


# per module: a Playwright left running would refuse any later sync_playwright() in this worker process
# (tests/e2e/test_docs_page.py runs its own)
@pytest.fixture(scope="module")
def browser():
    if CHROMIUM is None:
        pytest.fail("Debian's chromium is not installed (deps/image2.apt)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, chromium_sandbox=False,
                                     args=["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"])
        yield browser
        browser.close()


class Watched:
    """A page whose console errors, uncaught exceptions and CSP violations are collected."""

    def __init__(self, context, base_url: str) -> None:
        self.context = context
        self.page = context.new_page()
        self.base_url = base_url
        self.errors: list[str] = []
        self.page.on("console", lambda m: self.errors.append(f"console {m.type}: {m.text}") if m.type == "error" else None)
        self.page.on("pageerror", lambda e: self.errors.append(f"page error: {e}"))
        self.page.on("response", lambda r: self.errors.append(f"HTTP {r.status} {r.request.method} {r.url}")
                     if r.status >= 400 else None)
        # the app asks in its own <dialog> forms: a native prompt()/confirm() is a defect (and is dismissed)
        self.page.on("dialog", self._native_dialog)

    def _native_dialog(self, dialog) -> None:
        self.errors.append(f"native {dialog.type}(): {dialog.message}")
        dialog.dismiss()

    def goto(self, path: str):
        return self.page.goto(self.base_url + path)

    def screenshot(self, name: str, full_page: bool = True) -> Path:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        path = SCREENSHOTS / f"{name}.png"
        self.page.screenshot(path=str(path), full_page=full_page)
        return path


@pytest.fixture()
def open_page(browser, request):
    """open_page(server, user=None, password=..., **context options) -> a signed-in Watched page, on no page
    yet (goto one). Each gets a session of its own, from the API's sign-in: the form is tested on its own
    (test_session), and loading it and the catalogue for every test cost a second each."""
    contexts = []

    def make(server: Server, username: str | None = "admin", password: str = "admin", **options) -> Watched:
        context = browser.new_context(accept_downloads=True, **options)
        contexts.append(context)
        watched = Watched(context, server.base_url)
        if username is not None and server.env.get("AUTH_ENABLED", "true") != "false":
            session_cookie(context, server.base_url, username, password)
        return watched

    yield make
    for context in contexts:
        context.close()


def session_cookie(context, base_url: str, username: str, password: str) -> None:
    """Sign in as the page's form does (POST /api/auth/login with cookie: true) and give the context the
    session cookie, with the attributes the server sets (HttpOnly, SameSite=Strict)."""
    r = httpx.post(base_url + "/api/auth/login", json={"username": username, "password": password, "cookie": True},
                   timeout=30)
    assert r.status_code == 200, r.text
    context.add_cookies([{"name": c.name, "value": c.value, "url": base_url, "httpOnly": True, "sameSite": "Strict"}
                         for c in r.cookies.jar])


def sign_in(watched: Watched, username: str, password: str, expect: str = "/", start: str = "/login") -> None:
    page = watched.page
    watched.goto(start)
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(watched.base_url + expect)


def axe_violations(watched: Watched) -> list[dict]:
    """axe-core's serious and critical violations on the current page (evaluated over DevTools: the page's
    CSP allows no injected script tag, and must not be loosened for the test)."""
    page = watched.page
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        page.evaluate(AXE.read_text() + "\n;0")
    result = page.evaluate("async () => (await axe.run(document, {resultTypes: ['violations']})).violations"
                           ".map(v => ({id: v.id, impact: v.impact, help: v.help,"
                           " nodes: v.nodes.slice(0, 3).map(n => n.target.join(' '))}))")
    return [v for v in result if v["impact"] in ("serious", "critical")]


def wait_until(page, expression: str, timeout: float = 60) -> None:
    """Poll a JS expression through DevTools (page.wait_for_function evaluates strings inside the page, which
    its CSP forbids: no 'unsafe-eval')."""
    import time

    deadline = time.monotonic() + timeout
    while not page.evaluate(expression):
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for: {expression}")
        page.wait_for_timeout(50)
