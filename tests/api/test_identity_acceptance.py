"""Issue #3 acceptance gaps: every security action lands in the audit log (actor, target, IP, no secrets),
the last admin cannot be deleted or disabled by anyone, SKIP_MUST_CHANGE_PASSWORD lifts the flag, the
`*:all` permissions (not the admin role) open other users' objects, foreign jobs answer 404, an API key
runs tools like a session, and RATE_LIMIT_PER_MIN counts per user once authenticated."""

from __future__ import annotations

import io
import json
import time
import uuid

import httpx
import pytest
from PIL import Image

from service.permissions import PERMISSIONS


def png(width: int = 40, height: int = 30) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (width, height), (20, 120, 220)).save(buf, "PNG")
    return buf.getvalue()


def new_user(admin: httpx.Client, role: str = "user", password: str = "accept-password-1") -> dict:
    name = f"a{uuid.uuid4().hex[:10]}"
    r = admin.post("/api/auth/register", json={"username": name, "password": password, "role": role})
    assert r.status_code == 201, r.text
    return {**r.json()["user"], "password": password}


def login(srv, username: str, password: str) -> httpx.Response:
    return httpx.post(srv.base_url + "/api/auth/login", json={"username": username, "password": password})


def token_of(srv, user: dict) -> str:
    r = login(srv, user["username"], user["password"])
    assert r.status_code == 200, r.text
    return r.json()["token"]


def resize(client: httpx.Client, width: int = 20) -> httpx.Response:
    return client.post("/api/v1/tools/image/resize", files={"file": ("in.png", png(), "image/png")},
                       data={"settings": json.dumps({"width": width})})


@pytest.fixture(scope="module")
def srv(make_server):
    return make_server()


# ---- the audit log ---------------------------------------------------------------------------

def test_every_security_action_is_audited_with_actor_target_and_ip(make_server):
    srv = make_server()
    started = time.time() - 1
    secrets = ["first-audit-pw1", "wrong-audit-pw2", "second-audit-pw3", "third-audit-pw4"]
    with srv.client() as admin:
        me = admin.get("/api/auth/session").json()["user"]
        user = new_user(admin, password=secrets[0])  # USER_CREATED
        assert login(srv, user["username"], secrets[1]).status_code == 401  # LOGIN_FAILED
        token = token_of(srv, user)  # LOGIN_SUCCESS
        with srv.client(token) as c:
            key = c.post("/api/v1/api-keys", json={"name": "audited-key"}).json()  # API_KEY_CREATED
            secrets += [key["key"], key["key"][3:]]
            assert c.delete(f"/api/v1/api-keys/{key['id']}").status_code == 200  # API_KEY_DELETED
            r = c.post("/api/auth/change-password", json={"currentPassword": secrets[0], "newPassword": secrets[2]})
            assert r.status_code == 200  # PASSWORD_CHANGED
            assert c.post("/api/auth/logout").status_code == 200  # LOGOUT
        team = admin.post("/api/v1/teams", json={"name": "Aud" + uuid.uuid4().hex[:6]}).json()["team"]
        admin.put(f"/api/v1/teams/{team['id']}", json={"name": team["name"] + "x"})  # TEAM_UPDATED
        admin.delete(f"/api/v1/teams/{team['id']}")  # TEAM_DELETED
        role = admin.post("/api/v1/roles", json={"name": "aud" + uuid.uuid4().hex[:6],
                                                 "permissions": ["tools:use"]}).json()["role"]
        admin.put(f"/api/v1/roles/{role['id']}", json={"permissions": ["tools:use", "files:own"]})  # ROLE_UPDATED
        admin.put(f"/api/auth/users/{user['id']}", json={"role": role["name"]})  # USER_UPDATED
        admin.delete(f"/api/v1/roles/{role['id']}")  # ROLE_DELETED
        r = admin.post(f"/api/auth/users/{user['id']}/reset-password", json={"password": secrets[3]})
        assert r.status_code == 200  # PASSWORD_RESET
        assert admin.put("/api/v1/settings", json={"loginAttemptLimit": 9}).status_code == 200  # SETTINGS_UPDATED
        up = admin.post("/api/v1/files/upload", files=[("files", ("audit.png", png()))])
        assert up.status_code == 201, up.text  # FILE_UPLOADED
        file_id = up.json()["files"][0]["id"]
        assert admin.request("DELETE", "/api/v1/files", json={"ids": [file_id]}).status_code == 200  # FILE_DELETED
        assert admin.delete(f"/api/auth/users/{user['id']}").status_code == 200  # USER_DELETED
        everything = admin.get("/api/v1/audit-log", params={"limit": 100})
        window = admin.get("/api/v1/audit-log", params={"limit": 100, "from": time.strftime(
            "%Y-%m-%dT%H:%M:%SZ", time.gmtime(started)), "to": time.strftime("%Y-%m-%dT%H:%M:%SZ",
                                                                              time.gmtime(time.time() + 2))})
        by_action = admin.get("/api/v1/audit-log", params={"action": "LOGOUT,PASSWORD_CHANGED"}).json()
    entries = everything.json()["entries"]
    in_window = {e["action"] for e in window.json()["entries"]}
    assert {e["action"] for e in by_action["entries"]} == {"LOGOUT", "PASSWORD_CHANGED"}

    def one(action: str) -> dict:
        found = [e for e in entries if e["action"] == action]
        assert found, f"{action} was not recorded"
        return found[0]

    by_user = {"LOGIN_SUCCESS", "API_KEY_CREATED", "API_KEY_DELETED", "PASSWORD_CHANGED", "LOGOUT"}
    by_admin = {"USER_CREATED", "USER_UPDATED", "USER_DELETED", "PASSWORD_RESET", "TEAM_CREATED", "TEAM_UPDATED",
                "TEAM_DELETED", "ROLE_CREATED", "ROLE_UPDATED", "ROLE_DELETED", "SETTINGS_UPDATED",
                "FILE_UPLOADED", "FILE_DELETED"}
    for action in by_user | by_admin | {"LOGIN_FAILED"}:
        assert action in in_window, f"{action} missing from the from/to window"
        entry = one(action)
        assert entry["ip"] == "127.0.0.1", entry
        assert entry["createdAt"], entry
        if action in by_user:
            assert entry["actorId"] == user["id"] and entry["actorName"] == user["username"], entry
        elif action in by_admin:
            assert entry["actorId"] == me["id"] and entry["actorName"] == "admin", entry
    for action in ("USER_CREATED", "USER_DELETED", "PASSWORD_RESET", "PASSWORD_CHANGED", "LOGIN_FAILED"):
        assert one(action)["target"] == user["username"]
    assert one("API_KEY_CREATED")["target"] == "audited-key"
    assert one("API_KEY_DELETED")["details"]["apiKeyId"] == key["id"]
    assert one("USER_UPDATED")["details"]["toRole"] == role["name"]
    assert one("ROLE_DELETED")["details"]["usersMovedToUser"] == 1
    assert one("TEAM_UPDATED")["details"]["fromName"] == team["name"]
    assert one("SETTINGS_UPDATED")["details"]["changes"]["loginAttemptLimit"]["to"] == 9
    assert one("FILE_UPLOADED")["details"]["fileId"] == file_id
    assert one("PASSWORD_CHANGED")["details"]["apiKeysRevoked"] == 0  # the only key was deleted before
    dump = everything.text + window.text
    for secret in secrets + [token]:
        assert secret not in dump, "a secret reached the audit log"


def test_audit_log_page_beyond_the_end_and_limit_floor(srv):
    with srv.client() as admin:
        total = admin.get("/api/v1/audit-log").json()["total"]
        r = admin.get("/api/v1/audit-log", params={"page": total + 5, "limit": 100})
        assert r.status_code == 200 and r.json()["entries"] == [] and r.json()["total"] >= total
        assert admin.get("/api/v1/audit-log", params={"limit": 0}).status_code == 400
        assert admin.get("/api/v1/audit-log", params={"action": "NO_SUCH_ACTION"}).json()["entries"] == []


# ---- last admin, self-disable ----------------------------------------------------------------

def test_last_admin_cannot_be_deleted_or_disabled_even_by_a_full_custom_role(make_server):
    srv = make_server()
    with srv.client() as admin:
        me = admin.get("/api/auth/session").json()["user"]
        r = admin.put(f"/api/auth/users/{me['id']}", json={"disabled": True})
        assert r.status_code == 409 and r.json()["code"] == "SELF_DELETE"
        everything = admin.post("/api/v1/roles", json={"name": "root" + uuid.uuid4().hex[:6],
                                                       "permissions": list(PERMISSIONS)}).json()["role"]
        operator = new_user(admin, role=everything["name"])
    with srv.client(token_of(srv, operator)) as op:
        # holds every permission, so the admin is within reach, but it is the last one
        r = op.delete(f"/api/auth/users/{me['id']}")
        assert r.status_code == 409 and r.json()["code"] == "LAST_ADMIN"
        r = op.put(f"/api/auth/users/{me['id']}", json={"disabled": True})
        assert r.status_code == 409 and r.json()["code"] == "LAST_ADMIN"
        r = op.put(f"/api/auth/users/{me['id']}", json={"role": everything["name"]})
        assert r.status_code == 409 and r.json()["code"] == "LAST_ADMIN"
        # with a second admin the first may go
        second = new_user(op, role="admin")
        assert op.delete(f"/api/auth/users/{me['id']}").status_code == 200
        r = op.delete(f"/api/auth/users/{second['id']}")
        assert r.status_code == 409 and r.json()["code"] == "LAST_ADMIN"
    assert login(srv, second["username"], second["password"]).status_code == 200


# ---- must-change-password lifted ----------------------------------------------------------------

def test_skip_must_change_password_lifts_the_flag(make_server):
    srv = make_server(skip_must_change_password="true")
    with srv.client() as admin:  # admin/admin, still flagged
        assert admin.get("/api/auth/session").json()["user"]["mustChangePassword"] is True
        assert admin.get("/api/auth/users").status_code == 200
        assert admin.get("/api/v1/settings").status_code == 200
        assert resize(admin).status_code == 200


# ---- ownership by permission ------------------------------------------------------------------

def test_all_permissions_not_the_admin_role_open_other_users_objects(srv):
    with srv.client() as admin:
        owner, editor, stranger = new_user(admin), new_user(admin, role="editor"), new_user(admin)
        keyring = admin.post("/api/v1/roles", json={"name": "keys" + uuid.uuid4().hex[:6],
                                                    "permissions": ["apikeys:own", "apikeys:all"]}).json()["role"]
        key_admin = new_user(admin, role=keyring["name"])
    o, e, s, k = (srv.client(token_of(srv, u)) for u in (owner, editor, stranger, key_admin))
    try:
        up = o.post("/api/v1/files/upload", files=[("files", ("mine.png", png()))])
        assert up.status_code == 201, up.text
        file_id = up.json()["files"][0]["id"]
        pipe = o.post("/api/v1/pipeline/save", json={"name": "mine", "steps": [
            {"toolId": "resize", "settings": {"width": 10}}]})
        assert pipe.status_code == 201, pipe.text
        pipe_id = pipe.json()["id"]
        key = o.post("/api/v1/api-keys", json={"name": "owner-key"}).json()

        # editor: files:all and pipelines:all, but not apikeys:all
        assert e.get(f"/api/v1/files/{file_id}").status_code == 200
        assert file_id in {f["id"] for f in e.get("/api/v1/files", params={"limit": 100}).json()["files"]}
        assert pipe_id in {p["id"] for p in e.get("/api/v1/pipeline/list").json()["pipelines"]}
        assert key["id"] not in e.get("/api/v1/api-keys").text
        r = e.delete(f"/api/v1/api-keys/{key['id']}")
        assert r.status_code == 404 and r.json()["code"] == "NOT_FOUND"
        # a plain user: nothing of the owner's, and 404 rather than 403
        assert s.get(f"/api/v1/files/{file_id}").status_code == 404
        assert pipe_id not in {p["id"] for p in s.get("/api/v1/pipeline/list").json()["pipelines"]}
        assert s.delete(f"/api/v1/pipeline/{pipe_id}").status_code == 404
        assert s.delete(f"/api/v1/api-keys/{key['id']}").status_code == 404
        # a custom role with apikeys:all (and no admin role) sees and removes everyone's keys
        assert key["id"] in {x["id"] for x in k.get("/api/v1/api-keys").json()["apiKeys"]}
        assert k.get(f"/api/v1/files/{file_id}").status_code == 403  # no files:own, no files:all
        assert k.delete(f"/api/v1/api-keys/{key['id']}").status_code == 200
        with srv.client(key["key"]) as dead:
            assert dead.get("/api/auth/session").status_code == 401
        # the editor's files:all also lets it delete the owner's pipeline
        assert e.delete(f"/api/v1/pipeline/{pipe_id}").status_code == 200
    finally:
        for c in (o, e, s, k):
            c.close()


def test_foreign_jobs_are_404_and_a_key_runs_tools_like_a_session(srv):
    with srv.client() as admin:
        owner, stranger, editor = new_user(admin), new_user(admin), new_user(admin, role="editor")
        with srv.client(token_of(srv, owner)) as o:
            key = o.post("/api/v1/api-keys", json={"name": "runner"}).json()["key"]
            with srv.client(key) as by_key:
                r = resize(by_key, width=16)
                assert r.status_code == 200, r.text
                job_id = r.json()["jobId"]
                out = Image.open(io.BytesIO(by_key.get(r.json()["downloadUrl"]).content))
                assert out.size == (16, 12)
            assert o.get(f"/api/v1/jobs/{job_id}").status_code == 200  # the key's job is its owner's
        for intruder in (stranger, editor):
            with srv.client(token_of(srv, intruder)) as c:
                for method, path in (("GET", f"/api/v1/jobs/{job_id}"), ("POST", f"/api/v1/jobs/{job_id}/cancel"),
                                     ("GET", f"/api/v1/jobs/{job_id}/progress")):
                    r = c.request(method, path)
                    assert r.status_code == 404 and r.json()["code"] == "NOT_FOUND", (intruder["role"], path)
                r = c.post("/api/v1/files/save-result", json={"jobId": job_id})
                assert r.status_code == 404
        assert admin.get(f"/api/v1/jobs/{job_id}").status_code == 200


# ---- rate limit per user ------------------------------------------------------------------------

def test_rate_limit_counts_per_user_not_per_ip(make_server):
    srv = make_server(rate_limit_per_min=6)
    with srv.client() as admin:
        alice, bob = new_user(admin), new_user(admin)  # 2 of the admin's 6
    # 1 (the harness's start-up login) + 2 logins of this IP, anonymous
    with srv.client(token_of(srv, alice)) as a, srv.client(token_of(srv, bob)) as b:
        codes = [a.get("/api/auth/session").status_code for _ in range(7)]
        assert codes[:6] == [200] * 6 and codes[6] == 429
        r = a.get("/api/auth/session")
        assert r.json()["code"] == "RATE_LIMITED" and 1 <= int(r.headers["retry-after"]) <= 60
        assert b.get("/api/auth/session").status_code == 200  # bob has his own budget
    # and the IP's anonymous budget was not spent by alice
    assert httpx.get(srv.base_url + "/api/v1/config/auth").status_code == 200


def test_feature_uninstall_is_audited(make_server):
    srv = make_server()
    folder = srv.data_dir / "models" / "upscale-enhance"  # an installed bundle, as far as uninstall is concerned
    folder.mkdir(parents=True)
    (folder / "bundle.json").write_text("{}")
    with srv.client() as admin:
        r = admin.post("/api/v1/admin/features/upscale-enhance/uninstall")
        assert r.status_code == 200 and r.json()["removed"] is True
        assert admin.post("/api/v1/admin/features/upscale-enhance/uninstall").json()["removed"] is False
        entries = admin.get("/api/v1/audit-log", params={"action": "FEATURE_UNINSTALLED"}).json()["entries"]
    assert not folder.exists()
    assert len(entries) == 1  # the no-op second call records nothing
    assert entries[0]["target"] == "upscale-enhance" and entries[0]["actorName"] == "admin"
    assert entries[0]["ip"] == "127.0.0.1"
