"""Sign-in, the session cookie, CSRF, the forced password change, AUTH_ENABLED=false, the CSP."""

from __future__ import annotations

import re

import httpx

from tests.web.conftest import sign_in

PAGES = ["/", "/tools/resize", "/tools/sharpening", "/library", "/pipelines", "/account", "/admin/users",
         "/admin/teams", "/admin/roles", "/admin/settings", "/admin/features", "/admin/audit", "/admin/health",
         "/admin/branding"]


def cookie_client(server) -> tuple[httpx.Client, dict]:
    c = httpx.Client(base_url=server.base_url)
    r = c.post("/api/auth/login", json={"username": "admin", "password": "admin", "cookie": True})
    assert r.status_code == 200, r.text
    return c, r.json()


def csrf_of(client: httpx.Client) -> str:
    html = client.get("/account").text
    return re.search(r'<meta name="csrf-token" content="([0-9a-f]{64})">', html).group(1)


def test_sign_in_and_out_in_the_browser(server, open_page):
    w = open_page(server, username=None)
    w.goto("/tools/resize")
    w.page.wait_for_url(re.compile(r"/login\?next=/tools/resize$"))
    w.page.get_by_label("Username").fill("admin")
    w.page.get_by_label("Password").fill("wrong-password")
    w.page.get_by_role("button", name="Sign in").click()
    assert "Invalid username or password" in w.page.get_by_role("alert").inner_text()
    assert w.page.get_by_label("Password").input_value() == ""  # the password does not stay in the page
    w.errors.clear()  # the refused sign-in's 401
    w.page.get_by_label("Password").fill("admin")
    w.page.get_by_role("button", name="Sign in").click()
    w.page.wait_for_url(server.base_url + "/tools/resize")
    (cookie,) = [c for c in w.context.cookies() if c["name"] == "lutra_session"]
    assert cookie["httpOnly"] and cookie["sameSite"] == "Strict" and cookie["path"] == "/"
    assert w.page.evaluate("document.cookie") == ""  # no script can read the session
    assert w.page.locator("header .brand").inner_text() == "Lutra"
    w.page.get_by_role("button", name="Sign out").click()
    w.page.wait_for_url(re.compile(r"/login$"))
    assert not [c for c in w.context.cookies() if c["name"] == "lutra_session"]
    w.goto("/")
    w.page.wait_for_url(re.compile(r"/login$"))
    assert not w.errors, w.errors


def test_cookie_session_needs_csrf_token_for_changes_and_bearer_does_not(server):
    c, body = cookie_client(server)
    assert "token" not in body and body["user"]["username"] == "admin"
    assert c.get("/api/auth/session").status_code == 200  # reads need no token
    r = c.post("/api/v1/api-keys", json={"name": "no-csrf"})
    assert r.status_code == 403 and "CSRF" in r.json()["error"]
    r = c.post("/api/v1/api-keys", json={"name": "bad-csrf"}, headers={"X-CSRF-Token": "0" * 64})
    assert r.status_code == 403
    r = c.post("/api/v1/api-keys", json={"name": "with-csrf"}, headers={"X-CSRF-Token": csrf_of(c)})
    assert r.status_code == 201, r.text
    key = r.json()["key"]
    # scripts: a bearer token or API key needs no CSRF token, and a cookie sent along changes nothing
    with server.client() as bearer:
        bearer.cookies.set("lutra_session", "forged")
        assert bearer.post("/api/v1/api-keys", json={"name": "script"}).status_code == 201
    assert httpx.get(server.base_url + "/api/v1/api-keys", headers={"X-API-Key": key}).status_code == 200
    # logout with the cookie also needs the token, and ends the session
    assert c.post("/api/auth/logout").status_code == 403
    assert c.post("/api/auth/logout", headers={"X-CSRF-Token": csrf_of(c)}).status_code == 200
    assert c.get("/api/auth/session").status_code == 401


def test_forced_password_change_happens_in_the_browser(make_server, open_page):
    srv = make_server(skip_must_change_password="false")
    w = open_page(srv, username=None)
    sign_in(w, "admin", "admin", expect="/change-password")
    w.goto("/")  # every page sends a must-change user back here
    w.page.wait_for_url(srv.base_url + "/change-password")
    assert "must choose a new password" in w.page.locator("main").inner_text()
    w.page.get_by_label("Current password").fill("admin")
    w.page.get_by_label("New password", exact=False).first.fill("a-much-better-one")
    w.page.get_by_label("Repeat the new password").fill("a-much-better-one")
    w.page.get_by_role("button", name="Change password").click()
    w.page.wait_for_url(srv.base_url + "/")
    assert w.page.get_by_role("heading", name="Tools", exact=True).is_visible()
    assert httpx.post(srv.base_url + "/api/auth/login", json={"username": "admin", "password": "a-much-better-one"}).json()["user"]["mustChangePassword"] is False
    assert not w.errors, w.errors


def test_auth_disabled_goes_straight_in(make_server, open_page):
    srv = make_server(auth_enabled="false")
    w = open_page(srv, username=None)
    w.goto("/")
    assert w.page.url == srv.base_url + "/"
    assert w.page.locator("li.tool").count() > 100
    assert w.page.get_by_role("button", name="Sign out").count() == 0
    assert not w.errors, w.errors


def test_pages_send_a_strict_csp_and_hold_no_inline_script_or_style(server):
    c, _ = cookie_client(server)
    assert httpx.get(server.base_url + "/login").status_code == 200
    for path in PAGES:
        r = c.get(path)
        assert r.status_code == 200, (path, r.status_code)
        csp = r.headers["Content-Security-Policy"]
        assert "script-src 'self';" in csp and "unsafe-inline" not in csp and "frame-ancestors 'none'" in csp
        html = r.text
        assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", html), path
        assert not re.search(r"\son[a-z]+\s*=", html), path
        assert not re.search(r"\sstyle\s*=", html), path
        assert "token" not in r.url.query.decode()


def test_sign_in_only_redirects_within_the_site(server, open_page):
    w = open_page(server, username=None)
    for target in ("//evil.example/x", "https://evil.example/", "/\\evil.example"):
        w.goto("/login?next=" + target)
        assert w.page.locator("#login").get_attribute("data-next") == "/"
    sign_in(w, "admin", "admin", expect="/library", start="/login?next=/library")
