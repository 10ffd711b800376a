"""Settings, audit log, analytics, admin health, rate limiting, login throttling, must-change-password,
AUTH_ENABLED=false, the operator CLI against a live server, and secrets never leaking."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import uuid
from pathlib import Path

import httpx
import pytest
from PIL import Image

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def srv(make_server):
    return make_server()


@pytest.fixture()
def admin(srv):
    with srv.client() as c:
        yield c


def png() -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (64, 48), (200, 30, 30)).save(buf, "PNG")
    return buf.getvalue()


def resize(client, width=32):
    return client.post("/api/v1/tools/image/resize", files={"file": ("a.png", png(), "image/png")},
                       data={"settings": json.dumps({"width": width})})


def new_user(admin, role="user", password="user-password-1") -> dict:
    name = f"u{uuid.uuid4().hex[:10]}"
    r = admin.post("/api/auth/register", json={"username": name, "password": password, "role": role})
    assert r.status_code == 201, r.text
    return {**r.json()["user"], "password": password}


def login(srv, username, password) -> httpx.Response:
    return httpx.post(srv.base_url + "/api/auth/login", json={"username": username, "password": password})


def audit(admin, **params) -> list[dict]:
    r = admin.get("/api/v1/audit-log", params=params)
    assert r.status_code == 200, r.text
    return r.json()["entries"]


# ---- settings --------------------------------------------------------------------------------

def test_settings_get_put_and_validation(admin, srv):
    settings = admin.get("/api/v1/settings").json()["settings"]
    assert {"disabledTools", "enableExperimentalTools", "loginAttemptLimit", "auditToolOperations"} <= set(settings)
    assert admin.get("/api/v1/settings/loginAttemptLimit").json() == {"key": "loginAttemptLimit", "value": settings["loginAttemptLimit"]}
    assert admin.get("/api/v1/settings/nope").status_code == 404
    r = admin.put("/api/v1/settings", json={"enableExperimentalTools": "true"})
    assert r.status_code == 200 and r.json()["settings"]["enableExperimentalTools"] is True
    for body in ({"nope": 1}, {"loginAttemptLimit": "many"}, {"disabledTools": ["not-a-tool"]}, {}):
        r = admin.put("/api/v1/settings", json=body)
        assert r.status_code == 400 and r.json()["code"] == "VALIDATION_ERROR", body
    assert admin.get("/api/v1/settings/enableExperimentalTools").json()["value"] is True
    user = new_user(admin)
    with srv.client(login(srv, user["username"], user["password"]).json()["token"]) as c:
        assert c.get("/api/v1/settings").status_code == 200  # everyone reads
        r = c.put("/api/v1/settings", json={"enableExperimentalTools": False})
        assert r.status_code == 403 and r.json()["code"] == "FORBIDDEN"
    entry = audit(admin, action="SETTINGS_UPDATED")[0]
    assert entry["details"]["changes"]["enableExperimentalTools"]["to"] is True


def test_disabled_tools_are_refused(admin):
    assert resize(admin).status_code == 200
    assert "resize" in admin.get("/api/v1/pipeline/tools").json()["toolIds"]
    assert admin.put("/api/v1/settings", json={"disabledTools": ["resize"]}).status_code == 200
    try:
        r = resize(admin)
        assert r.status_code == 403 and r.json()["code"] == "TOOL_DISABLED"
        assert "resize" not in admin.get("/api/v1/pipeline/tools").json()["toolIds"]  # hidden from pipelines too
    finally:
        admin.put("/api/v1/settings", json={"disabledTools": []})
    assert resize(admin).status_code == 200


def test_tool_runs_are_audited_when_asked(admin):
    admin.put("/api/v1/settings", json={"auditToolOperations": True})
    try:
        job = resize(admin).json()["jobId"]
    finally:
        admin.put("/api/v1/settings", json={"auditToolOperations": False})
    entry = audit(admin, action="TOOL_EXECUTED")[0]
    assert entry["target"] == "tools/image/resize" and entry["actorName"] == "admin" and entry["details"]["status"] == 200
    resize(admin)
    assert audit(admin, action="TOOL_EXECUTED")[0]["id"] == entry["id"]  # off again: nothing new
    assert job


# ---- audit log -------------------------------------------------------------------------------

def test_audit_log_records_and_filters(admin, srv):
    user = new_user(admin)
    login(srv, user["username"], "wrong-password")
    login(srv, user["username"], user["password"])
    team = admin.post("/api/v1/teams", json={"name": "A" + uuid.uuid4().hex[:6]}).json()["team"]
    admin.delete(f"/api/v1/teams/{team['id']}")
    entries = audit(admin, limit=100)
    actions = [e["action"] for e in entries]
    for action in ("USER_CREATED", "LOGIN_FAILED", "LOGIN_SUCCESS", "TEAM_CREATED", "TEAM_DELETED"):
        assert action in actions
    created = next(e for e in entries if e["action"] == "USER_CREATED" and e["target"] == user["username"])
    assert created["actorName"] == "admin" and created["ip"] == "127.0.0.1" and created["details"]["role"] == "user"
    assert {"id", "action", "actorId", "actorName", "target", "ip", "details", "createdAt"} == set(created)
    failed = next(e for e in entries if e["action"] == "LOGIN_FAILED" and e["target"] == user["username"])
    assert "wrong-password" not in json.dumps(failed)
    # filters and paging
    only = audit(admin, action="TEAM_DELETED")
    assert only and {e["action"] for e in only} == {"TEAM_DELETED"}
    page = admin.get("/api/v1/audit-log", params={"limit": 2, "page": 2}).json()
    assert page["limit"] == 2 and page["page"] == 2 and len(page["entries"]) == 2 and page["total"] >= 6
    assert page["entries"][0]["id"] == entries[2]["id"]
    assert admin.get("/api/v1/audit-log", params={"limit": 1000}).json()["limit"] == 100
    assert audit(admin, to="2000-01-01") == []
    assert audit(admin, **{"from": "2000-01-01T00:00:00Z"})
    assert audit(admin, **{"from": "2999-01-01"}) == []
    for params in ({"from": "yesterday"}, {"limit": "x"}, {"page": 0}):
        assert admin.get("/api/v1/audit-log", params=params).status_code == 400


# ---- analytics and admin health --------------------------------------------------------------

def test_analytics(admin, srv, make_server):
    r = httpx.get(srv.base_url + "/api/v1/config/analytics")
    assert r.status_code == 200 and r.json()["enabled"] is False and r.json()["posthogKey"] == ""
    on = make_server(analytics_enabled="true", posthog_key="phc_test", sentry_dsn="https://k@sentry.example/1")
    body = httpx.get(on.base_url + "/api/v1/config/analytics").json()
    assert body["enabled"] is True and body["posthogKey"] == "phc_test" and body["sentryDsn"].startswith("https://")
    user = new_user(admin)
    with srv.client(login(srv, user["username"], user["password"]).json()["token"]) as c:
        assert c.get("/api/v1/user/analytics").json()["analytics"]["enabled"] is None
        assert c.put("/api/v1/user/analytics", json={"remindLater": True}).json()["analytics"]["remindLater"] is True
        r = c.put("/api/v1/user/analytics", json={"enabled": False})
        assert r.status_code == 200 and r.json()["analytics"] == {**r.json()["analytics"], "enabled": False, "remindLater": False}
        assert c.get("/api/v1/user/analytics").json()["analytics"]["enabled"] is False
        for body in ({}, {"enabled": "maybe"}, {"enabled": True, "extra": 1}):
            assert c.put("/api/v1/user/analytics", json=body).status_code == 400
    assert httpx.put(srv.base_url + "/api/v1/user/analytics", json={"enabled": True}).status_code == 401


def test_admin_health(admin, srv):
    r = admin.get("/api/v1/admin/health")
    body = r.json()
    assert r.status_code == 200 and body["status"] == "healthy" and body["uptimeS"] >= 0
    assert body["database"]["status"] == "ok" and body["storage"]["freeBytes"] > 0
    assert "image" in body["queue"]["actors"] and {"queued", "running", "capacity"} <= set(body["queue"]["actors"]["image"])
    assert isinstance(body["gpu"]["available"], bool) and body["gpu"]["provider"] in ("cuda", "cpu")
    assert str(srv.data_dir) not in r.text  # no paths
    user = new_user(admin, role="editor")
    with srv.client(login(srv, user["username"], user["password"]).json()["token"]) as c:
        assert c.get("/api/v1/admin/health").status_code == 403


# ---- throttling and rate limiting ------------------------------------------------------------

def test_brute_force_is_throttled(make_server):
    srv = make_server()
    with srv.client() as admin:
        user = new_user(admin)
    for _ in range(10):
        assert login(srv, user["username"], "bad-guess").status_code == 401
    r = login(srv, user["username"], "bad-guess")
    assert r.status_code == 429 and r.json()["code"] == "LOGIN_THROTTLED" and int(r.headers["retry-after"]) >= 1
    r = login(srv, user["username"], user["password"])  # the right password during the throttle: still refused
    assert r.status_code == 429
    r = login(srv, "someone-else", "guess")  # same IP
    assert r.status_code == 429


def test_login_attempt_limit_setting(make_server):
    srv = make_server()
    with srv.client() as admin:
        user = new_user(admin)
        assert admin.put("/api/v1/settings", json={"loginAttemptLimit": 3}).status_code == 200
    for _ in range(3):
        assert login(srv, user["username"], "bad-guess").status_code == 401
    assert login(srv, user["username"], user["password"]).status_code == 429


def test_request_rate_limit(make_server):
    srv = make_server(rate_limit_per_min=8)
    codes = [httpx.get(srv.base_url + "/api/v1/config/auth").status_code for _ in range(9)]
    # 8 a minute for this IP (the harness's login at start-up may have used one): then 429, and it stays
    first_429 = codes.index(429)
    assert first_429 in (7, 8) and set(codes[:first_429]) == {200} and set(codes[first_429:]) == {429}
    r = httpx.get(srv.base_url + "/api/v1/config/auth")
    assert r.json()["code"] == "RATE_LIMITED" and 1 <= int(r.headers["retry-after"]) <= 60
    assert httpx.get(srv.base_url + "/api/v1/health").status_code == 200  # monitors are never limited
    # per user, not per IP, once authenticated
    with srv.client() as admin:
        assert admin.get("/api/auth/session").status_code == 200


# ---- must change password, auth disabled -----------------------------------------------------

def test_must_change_password_on_first_login(make_server):
    srv = make_server(skip_must_change_password="false")
    with srv.client() as c:
        assert c.get("/api/auth/session").json()["user"]["mustChangePassword"] is True
        r = c.get("/api/auth/users")
        assert r.status_code == 403 and r.json()["code"] == "MUST_CHANGE_PASSWORD"
        assert resize(c).json()["code"] == "MUST_CHANGE_PASSWORD"
        assert c.post("/api/v1/api-keys", json={"name": "x"}).json()["code"] == "MUST_CHANGE_PASSWORD"
        assert httpx.get(srv.base_url + "/api/v1/health").status_code == 200
        r = c.post("/api/auth/change-password", json={"currentPassword": "admin", "newPassword": "a-much-better-one"})
        assert r.status_code == 200, r.text
        assert c.get("/api/auth/users").status_code == 200
        # a reset flags the account again
        user = new_user(c)
        c.post(f"/api/auth/users/{user['id']}/reset-password", json={"password": "temporary-1"})
    with srv.client(login(srv, user["username"], "temporary-1").json()["token"]) as u:
        assert u.get("/api/v1/settings").json()["code"] == "MUST_CHANGE_PASSWORD"
        assert u.post("/api/auth/change-password", json={"currentPassword": "temporary-1",
                                                         "newPassword": "my-own-password"}).status_code == 200
        assert u.get("/api/v1/settings").status_code == 200


def test_auth_disabled_is_an_anonymous_admin(make_server):
    srv = make_server(auth_enabled="false")
    assert httpx.get(srv.base_url + "/api/v1/config/auth").json() == {"authEnabled": False}
    assert httpx.get(srv.base_url + "/api/auth/users").status_code == 200
    assert httpx.get(srv.base_url + "/api/v1/admin/health").status_code == 200
    assert httpx.post(srv.base_url + "/api/v1/api-keys", json={"name": "x"}).status_code == 400


# ---- the operator CLI against a live server ---------------------------------------------------

def test_cli_gets_the_operator_back_in(make_server):
    srv = make_server()
    env = {**os.environ, "DATA_DIR": str(srv.data_dir), "DATABASE_URL": srv.env.get("DATABASE_URL", "")}
    run = subprocess.run([sys.executable, "-m", "service.cli", "admin", "reset-password", "admin", "--password-stdin"],
                         input="recovered-pass-1\n", text=True, capture_output=True, env=env, cwd=ROOT, timeout=60)
    assert run.returncode == 0, run.stderr
    assert login(srv, "admin", "admin").status_code == 401
    r = login(srv, "admin", "recovered-pass-1")
    assert r.status_code == 200 and r.json()["user"]["mustChangePassword"] is True
    run = subprocess.run([sys.executable, "-m", "service.cli", "admin", "create-user", "second", "--password-stdin"],
                         input="second-admin-1\n", text=True, capture_output=True, env=env, cwd=ROOT, timeout=60)
    assert run.returncode == 0, run.stderr
    r = login(srv, "second", "second-admin-1")
    assert r.status_code == 200 and r.json()["user"]["role"] == "admin"
    with srv.client(r.json()["token"]) as c:
        actions = {(e["action"], e["actorName"]) for e in audit(c)}
    assert ("PASSWORD_RESET", "cli") in actions and ("USER_CREATED", "cli") in actions


# ---- secrets never leak ----------------------------------------------------------------------

def test_passwords_and_keys_never_leak(make_server):
    srv = make_server(log_level="debug")
    secrets, bodies = [], []

    def keep(r: httpx.Response) -> httpx.Response:
        bodies.append(r.text)
        return r

    with srv.client() as admin:
        user = new_user(admin, password="first-secret-pw1")
        secrets.append("first-secret-pw1")
        keep(login(srv, user["username"], "wrong-secret-pw2"))
        secrets.append("wrong-secret-pw2")
        token = login(srv, user["username"], "first-secret-pw1").json()["token"]  # the one place a token appears
        with srv.client(token) as c:
            created = c.post("/api/v1/api-keys", json={"name": "leak-check"}).json()  # the one place a key appears
            key = created["key"]
            secrets += [key, key[3:]]
            with srv.client(key) as k:
                keep(k.get("/api/auth/session"))
                keep(k.get("/api/v1/api-keys"))
            keep(c.post("/api/auth/change-password", json={"currentPassword": "first-secret-pw1",
                                                          "newPassword": "second-secret-pw3"}))
            secrets.append("second-secret-pw3")
        keep(admin.post(f"/api/auth/users/{user['id']}/reset-password", json={"password": "third-secret-pw4"}))
        secrets.append("third-secret-pw4")
        keep(admin.post("/api/auth/register", json={"username": "bad name", "password": "fourth-secret-pw5"}))
        secrets.append("fourth-secret-pw5")
        keep(admin.get("/api/auth/users"))
        keep(admin.get("/api/v1/api-keys"))
        keep(admin.get("/api/v1/audit-log", params={"limit": 100}))
        keep(admin.get("/api/v1/audit-log", params={"limit": 100, "page": 2}))
    srv.stop()
    log = srv.log_path.read_text()
    assert '"event":"request"' in log.replace(" ", "")  # request logging was really on
    with srv.db() as conn:
        audit_rows = json.dumps(conn.execute("select * from audit_log").fetchall())
        sessions = json.dumps(conn.execute("select * from sessions").fetchall())
        keys = json.dumps(conn.execute("select * from api_keys").fetchall())
    for secret in [*secrets, token]:
        for where, text in (("log", log), ("audit", audit_rows), ("sessions table", sessions), ("keys table", keys)):
            assert secret not in text, f"a secret leaked into {where}"
    for secret in secrets:
        assert secret not in "\n".join(bodies), "a password or key came back in a response"
