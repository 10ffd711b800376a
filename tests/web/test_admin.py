"""Administration in the browser: users, disabled tools, roles, audit log, health, branding, AI features.
Each page shows only with its permission; the API refuses regardless."""

from __future__ import annotations

import base64
import io
import re

import httpx
import pytest
from PIL import Image

from tests.web.conftest import sign_in, wait_until


@pytest.fixture(scope="module")
def scratch(make_server):
    """A server of this module's own for the tests that change what every page shows (a tool disabled, the
    branding, an installed bundle): the package's server stays as the other tests expect it. One for the
    three, not one each: they change different things, and each start costs seconds."""
    return make_server()


def test_admin_creates_a_user_disables_a_tool_and_it_vanishes_for_that_user(scratch, open_page):
    srv = scratch
    admin = open_page(srv)
    page = admin.page
    admin.goto("/admin/users")
    page.get_by_label("Username", exact=True).fill("carol")
    page.get_by_label("Password", exact=True).fill("carol-password-1")
    page.get_by_label("Role", exact=True).select_option("user")
    page.get_by_role("button", name="Create user").click()
    page.locator("#users tbody tr", has_text="carol").wait_for()
    admin.goto("/admin/settings")
    page.get_by_label("Filter").fill("strip-metadata")
    page.locator("#disabled-tools label:visible").get_by_role("checkbox").check()
    page.get_by_role("button", name="Save settings").click()
    page.get_by_text("Settings saved.").wait_for()

    carol = open_page(srv, "carol", "carol-password-1")
    carol.goto("/")
    ids = carol.page.locator("li.tool").evaluate_all("els => els.map(e => e.dataset.id)")
    assert "strip-metadata" not in ids and "resize" in ids
    carol.goto("/tools/strip-metadata")
    assert "disabled" in carol.page.locator("main").inner_text()
    # a user sees only the admin pages their role opens (settings, read-only), and the API refuses the rest
    carol.goto("/admin")
    carol.page.wait_for_url(srv.base_url + "/admin/settings")
    assert carol.page.locator(".admin-nav a").all_inner_texts() == ["Settings"]
    assert carol.page.get_by_role("button", name="Save settings").is_disabled()
    carol.goto("/admin/users")
    assert "users:manage" in carol.page.locator("main").inner_text()
    assert carol.page.evaluate("fetch('/api/auth/users').then(r => r.status)") == 403
    admin.screenshot("admin-settings")
    assert not admin.errors, admin.errors


def test_roles_show_the_17_permissions_and_a_custom_role_is_saved(server, open_page):
    w = open_page(server)
    page = w.page
    w.goto("/admin/roles")
    assert page.locator("#new-role [data-perms] input[type=checkbox]").count() == 17
    page.locator("#nr-name").fill("auditor")
    page.locator("#new-role").get_by_label("audit:read").check()
    page.locator("#new-role").get_by_label("system:health").check()
    page.get_by_role("button", name="Create role").click()
    card = page.locator("#roles section", has_text="auditor")
    card.wait_for()
    checked = card.locator("input:checked").evaluate_all("els => els.map(e => e.value)")
    assert sorted(checked) == ["audit:read", "system:health"]
    assert not w.errors, w.errors


def test_audit_log_filters_and_health(server, open_page):
    httpx.post(server.base_url + "/api/auth/login", json={"username": "admin", "password": "not-it"})
    w = open_page(server)
    page = w.page
    w.goto("/admin/audit")
    page.locator("#audit tbody tr").first.wait_for()
    page.get_by_label("Action").fill("LOGIN_FAILED")
    page.get_by_role("button", name="Filter").click()
    wait_until(page, "[...document.querySelectorAll('#audit tbody tr td:nth-child(2)')].every(td => td.textContent === 'LOGIN_FAILED')")
    assert page.locator("#audit tbody tr").count() >= 1
    w.goto("/admin/health")
    page.locator("#health section").first.wait_for()
    assert re.search(r"queue|database|gpu", page.locator("#health").inner_text(), re.I)
    assert not w.errors, w.errors


def test_branding_name_and_logo_show_in_the_header_and_on_sign_in(scratch, open_page, tmp_path):
    srv = scratch
    w = open_page(srv)
    page = w.page
    w.goto("/admin/branding")
    logo = tmp_path / "logo.png"
    Image.new("RGB", (64, 64), (200, 30, 90)).save(logo)
    page.get_by_label("Name").fill("Acme Media")
    page.get_by_label(re.compile("^Logo")).set_input_files(str(logo))
    page.get_by_role("button", name="Save branding").click()
    page.wait_for_load_state("load")
    page.locator("header .brand", has_text="Acme Media").wait_for()
    assert page.locator("header .brand img").evaluate("img => img.naturalWidth") == 64
    fresh = open_page(srv, username=None)
    fresh.goto("/login")
    assert fresh.page.get_by_role("heading").inner_text() == "Sign in to Acme Media"
    png = httpx.get(srv.base_url + "/assets/brand-logo").content
    assert Image.open(io.BytesIO(png)).size == (64, 64)
    # the setting refuses anything but a raster image
    svg = "data:image/png;base64," + base64.b64encode(b"<svg onload=alert(1)>").decode()
    with srv.client() as c:
        r = c.put("/api/v1/settings", json={"brandLogo": svg})
        assert r.status_code == 400 and r.json()["details"][0]["path"] == "brandLogo"
    sign_in(fresh, "admin", "admin")
    assert not w.errors, w.errors


def test_install_the_face_detection_bundle_and_watch_its_progress(scratch, open_page):
    srv = scratch
    w = open_page(srv)
    page = w.page
    w.goto("/")
    badge = page.locator('li.tool[data-id="blur-faces"] .badge.install')
    badge.wait_for()
    assert re.search(r"install · [\d.]+ [KMG]B", badge.inner_text())
    badge.click()
    page.wait_for_url(re.compile("/admin/features"))
    row = page.locator("tr#face-detection")
    page.evaluate("""() => { window.__frames = []; const Orig = window.EventSource;
        window.EventSource = function (url) { const s = new Orig(url);
          s.addEventListener('message', (e) => window.__frames.push(JSON.parse(e.data))); return s; }; }""")
    row.get_by_role("button", name=re.compile("^Install")).click()
    row.get_by_role("button", name=re.compile("^Uninstall")).wait_for(timeout=600_000)
    frames = page.evaluate("window.__frames")
    assert frames[-1]["status"] == "completed" and frames[-1]["progress"] == 100
    # the page followed the install's own progress stream; from a warm package cache the install can end
    # before the first frame, and a late subscriber then gets the latest frame only
    progress = [f["progress"] for f in frames]
    assert progress == sorted(progress)
    w.goto("/")
    assert page.locator('li.tool[data-id="blur-faces"] .badge').count() == 0
    assert not w.errors, w.errors


def test_reset_a_password_rename_a_team_and_delete_in_the_apps_own_dialogs(server, open_page):
    w = open_page(server)
    page = w.page
    w.goto("/admin/users")
    page.get_by_label("Username", exact=True).fill("erin")
    page.get_by_label("Password", exact=True).fill("erin-password-1")
    page.get_by_label("Role", exact=True).select_option("user")  # waits for the roles to load
    page.get_by_role("button", name="Create user").click()
    page.locator("#users tbody tr", has_text="erin").wait_for()
    # reset password: a labelled password field in a modal dialog; too short stays open and says why
    page.get_by_role("button", name="Reset password of erin").click()
    dialog = page.get_by_role("dialog", name="Reset the password of erin")
    field = dialog.get_by_label("New password (at least 8 characters)")
    assert field.get_attribute("type") == "password"
    field.fill("short")
    dialog.get_by_role("button", name="Reset password").click()
    assert dialog.get_by_role("alert").inner_text()
    field.fill("erin-new-password-2")
    dialog.get_by_role("button", name="Reset password").click()
    page.get_by_text("Password reset.").wait_for()
    assert page.locator("dialog").count() == 0 and "erin-new-password-2" not in page.content()
    r = httpx.post(server.base_url + "/api/auth/login", json={"username": "erin", "password": "erin-new-password-2"})
    assert r.status_code == 200, r.text
    # delete: Escape keeps the user, the dialog's button deletes
    page.get_by_role("button", name="Delete erin").click()
    page.get_by_role("dialog").get_by_text("Delete the user erin?").wait_for()
    page.keyboard.press("Escape")
    page.locator("dialog").wait_for(state="detached")
    assert page.locator("#users tbody tr", has_text="erin").count() == 1
    page.get_by_role("button", name="Delete erin").click()
    page.get_by_role("dialog").get_by_role("button", name="Delete").click()
    page.locator("#users tbody tr", has_text="erin").wait_for(state="detached")
    # rename a team: the name is filled in; the server's refusal shows in the dialog
    w.goto("/admin/teams")
    page.get_by_label("New team").fill("Night shift")
    page.get_by_role("button", name="Create team").click()
    page.get_by_role("button", name="Rename Night shift").click()
    dialog = page.get_by_role("dialog", name="Rename the team Night shift")
    name = dialog.get_by_label("New name")
    assert name.input_value() == "Night shift"
    taken = page.locator("#teams tbody th").first.inner_text().removesuffix(" (default)")
    name.fill(taken)
    dialog.get_by_role("button", name="Rename").click()
    refusal = dialog.get_by_role("alert")
    refusal.wait_for()
    assert "already exists" in refusal.inner_text()
    name.fill("Day shift")
    dialog.get_by_role("button", name="Rename").click()
    page.locator("#teams tbody th", has_text="Day shift").wait_for()
    assert page.locator("#teams tbody th", has_text="Night shift").count() == 0
    page.get_by_role("button", name="Delete Day shift").click()
    page.get_by_role("dialog").get_by_role("button", name="Delete").click()
    page.locator("#teams tbody th", has_text="Day shift").wait_for(state="detached")
    w.errors = [e for e in w.errors if "409" not in e]  # the refused rename, shown above
    assert not w.errors, w.errors
