"""Accounts, API keys, roles and teams over HTTP against a real server; sessions and keys die when they should."""

from __future__ import annotations

import hashlib
import re
import time
import uuid

import httpx
import pytest


@pytest.fixture(scope="module")
def srv(make_server):
    return make_server()


@pytest.fixture()
def admin(srv):
    with srv.client() as c:
        yield c


def as_(srv, token: str | None) -> httpx.Client:
    return srv.client(token)


def new_user(admin, role="user", password="user-password-1", **extra) -> dict:
    name = f"u{uuid.uuid4().hex[:10]}"
    r = admin.post("/api/auth/register", json={"username": name, "password": password, "role": role, **extra})
    assert r.status_code == 201, r.text
    return {**r.json()["user"], "password": password}


def login(srv, username, password) -> str:
    r = httpx.post(srv.base_url + "/api/auth/login", json={"username": username, "password": password})
    assert r.status_code == 200, r.text
    return r.json()["token"]


def new_key(client, **body) -> dict:
    r = client.post("/api/v1/api-keys", json={"name": "script", **body})
    assert r.status_code == 201, r.text
    return r.json()


def db(srv):
    return srv.db()


def status(srv, token, path="/api/auth/session") -> int:
    with as_(srv, token) as c:
        return c.get(path).status_code


# ---- login -----------------------------------------------------------------------------------

def test_login_shape_and_failures(srv):
    user = new_user(srv.client())
    r = httpx.post(srv.base_url + "/api/auth/login", json={"username": user["username"], "password": user["password"]})
    body = r.json()
    assert r.status_code == 200 and set(body) == {"token", "user", "expiresAt"}
    assert set(body["user"]) == {"id", "username", "role", "mustChangePassword", "permissions", "teamName"}
    assert body["user"]["id"] == user["id"] and body["user"]["teamName"] == "Default"
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", body["expiresAt"])
    wrong = httpx.post(srv.base_url + "/api/auth/login", json={"username": user["username"], "password": "nope-nope"})
    unknown = httpx.post(srv.base_url + "/api/auth/login", json={"username": "ghost-" + user["username"], "password": "x"})
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.json() == unknown.json()  # the same answer: usernames do not leak
    assert httpx.post(srv.base_url + "/api/auth/login", json={"username": ""}).status_code == 400


# ---- users -----------------------------------------------------------------------------------

def test_user_lifecycle(admin, srv):
    user = new_user(admin, role="editor")
    assert user["role"] == "editor" and "files:all" in user["permissions"]
    listing = admin.get("/api/auth/users").text
    assert "$argon2" not in listing and "passwordHash" not in listing and user["password"] not in listing
    listed = {u["id"]: u for u in admin.get("/api/auth/users").json()["users"]}
    assert listed[user["id"]]["username"] == user["username"]
    team = admin.post("/api/v1/teams", json={"name": f"T{uuid.uuid4().hex[:6]}"}).json()
    r = admin.put(f"/api/auth/users/{user['id']}", json={"role": "user", "teamId": team["id"]})
    assert r.status_code == 200 and r.json()["user"]["role"] == "user" and r.json()["user"]["teamName"] == team["name"]
    token = login(srv, user["username"], user["password"])
    assert as_(srv, token).get("/api/auth/session").json()["user"]["teamName"] == team["name"]
    assert admin.delete(f"/api/auth/users/{user['id']}").status_code == 200
    assert admin.delete(f"/api/auth/users/{user['id']}").status_code == 404
    assert status(srv, token) == 401


def test_register_validation(admin):
    taken = new_user(admin)
    cases = [
        ({"username": taken["username"].upper(), "password": "long-enough-1"}, 409),
        ({"username": "ok" + uuid.uuid4().hex[:6], "password": "short"}, 400),
        ({"username": "bad name", "password": "long-enough-1"}, 400),
        ({"username": "ok" + uuid.uuid4().hex[:6], "password": "long-enough-1", "role": "wizard"}, 400),
        ({"username": "ok" + uuid.uuid4().hex[:6], "password": "long-enough-1", "teamId": "nope"}, 400),
        ({"username": "ok" + uuid.uuid4().hex[:6], "password": "long-enough-1", "isAdmin": True}, 400),
    ]
    for body, code in cases:
        r = admin.post("/api/auth/register", json=body)
        assert r.status_code == code, (body, r.text)
        assert set(r.json()) >= {"error", "code"}
    assert admin.put(f"/api/auth/users/{taken['id']}", json={}).status_code == 400
    assert admin.put(f"/api/auth/users/{uuid.uuid4()}", json={"role": "user"}).status_code == 404


def test_last_admin_and_self_delete(admin, srv):
    me = admin.get("/api/auth/session").json()["user"]
    r = admin.delete(f"/api/auth/users/{me['id']}")
    assert r.status_code == 409 and r.json()["code"] == "SELF_DELETE"
    admins = [u for u in admin.get("/api/auth/users").json()["users"] if u["role"] == "admin" and not u["disabled"]]
    if len(admins) == 1:
        r = admin.put(f"/api/auth/users/{me['id']}", json={"role": "user"})
        assert r.status_code == 409 and r.json()["code"] == "LAST_ADMIN"
    # a second admin may be removed while the first remains; the survivor then cannot be demoted by the other
    other = new_user(admin, role="admin")
    other_token = login(srv, other["username"], other["password"])
    with as_(srv, other_token) as c:
        assert c.put(f"/api/auth/users/{me['id']}", json={"role": "editor"}).status_code == 200
        r = c.put(f"/api/auth/users/{other['id']}", json={"role": "user"})
        assert r.status_code == 409 and r.json()["code"] == "LAST_ADMIN"
        r = c.delete(f"/api/auth/users/{other['id']}")
        assert r.status_code == 409 and r.json()["code"] == "SELF_DELETE"
        assert c.put(f"/api/auth/users/{me['id']}", json={"role": "admin"}).status_code == 200
    assert admin.delete(f"/api/auth/users/{other['id']}").status_code == 200


def test_no_escalation_through_users_or_roles(admin, srv):
    role = admin.post("/api/v1/roles", json={"name": f"mgr{uuid.uuid4().hex[:6]}", "permissions": [
        "users:manage", "tools:use", "files:own", "apikeys:own", "pipelines:own", "settings:read"]}).json()
    manager = new_user(admin, role=role["name"])
    victim_admin = new_user(admin, role="admin")
    plain = new_user(admin)
    with as_(srv, login(srv, manager["username"], manager["password"])) as c:
        for body in ({"role": "admin"}, {"role": "editor"}):
            r = c.post("/api/auth/register", json={"username": "x" + uuid.uuid4().hex[:8], "password": "long-enough-1", **body})
            assert r.status_code == 403 and r.json()["code"] == "ESCALATION_DENIED"
        r = c.put(f"/api/auth/users/{plain['id']}", json={"role": "admin"})
        assert r.status_code == 403 and r.json()["code"] == "ESCALATION_DENIED"
        # an account more powerful than the manager is out of reach: no takeover by password reset
        r = c.post(f"/api/auth/users/{victim_admin['id']}/reset-password", json={"password": "taken-over-1"})
        assert r.status_code == 403 and r.json()["code"] == "ESCALATION_DENIED"
        assert c.delete(f"/api/auth/users/{victim_admin['id']}").status_code == 403
        r = c.post("/api/v1/roles", json={"name": "sneaky" + uuid.uuid4().hex[:4], "permissions": ["settings:write"]})
        assert r.status_code == 403 and r.json()["code"] == "ESCALATION_DENIED"
        r = c.post("/api/v1/api-keys", json={"name": "k", "permissions": ["users:manage", "audit:read"]})
        assert r.status_code == 403 and r.json()["code"] == "ESCALATION_DENIED"
        # within its own permissions it works
        assert c.post(f"/api/auth/users/{plain['id']}/reset-password", json={"password": "new-password-1"}).status_code == 200
    login(srv, victim_admin["username"], victim_admin["password"])  # untouched


# ---- sessions and keys die when they should --------------------------------------------------

def test_logout_kills_the_session(srv):
    user = new_user(srv.client())
    token = login(srv, user["username"], user["password"])
    other = login(srv, user["username"], user["password"])
    with as_(srv, token) as c:
        assert c.post("/api/auth/logout").json() == {"ok": True}
    assert status(srv, token) == 401 and status(srv, other) == 200


def test_password_change_kills_other_sessions_and_keys(srv):
    user = new_user(srv.client())
    current = login(srv, user["username"], user["password"])
    other = login(srv, user["username"], user["password"])
    with as_(srv, current) as c:
        key = new_key(c)["key"]
        assert status(srv, key) == 200
        r = c.post("/api/auth/change-password", json={"currentPassword": "wrong-one", "newPassword": "brand-new-pass"})
        assert r.status_code == 400 and status(srv, other) == 200
        r = c.post("/api/auth/change-password", json={"currentPassword": user["password"], "newPassword": "brand-new-pass"})
        assert r.status_code == 200, r.text
        assert c.get("/api/v1/api-keys").json()["apiKeys"] == []
    assert status(srv, current) == 200
    assert status(srv, other) == 401 and status(srv, key) == 401
    login(srv, user["username"], "brand-new-pass")


def test_admin_reset_kills_everything_and_forces_a_change(admin, srv):
    user = new_user(admin)
    token = login(srv, user["username"], user["password"])
    with as_(srv, token) as c:
        key = new_key(c)["key"]
    assert status(srv, key) == 200
    assert admin.post(f"/api/auth/users/{user['id']}/reset-password", json={"password": "temporary-1"}).json() == {"ok": True}
    assert status(srv, token) == 401 and status(srv, key) == 401
    r = httpx.post(srv.base_url + "/api/auth/login", json={"username": user["username"], "password": "temporary-1"})
    assert r.json()["user"]["mustChangePassword"] is True
    assert admin.post(f"/api/auth/users/{user['id']}/reset-password", json={}).status_code == 400


def test_role_change_applies_at_once(admin, srv):
    user = new_user(admin, role="admin")
    token = login(srv, user["username"], user["password"])
    with as_(srv, token) as c:
        key = new_key(c)["key"]
        assert c.get("/api/auth/users").status_code == 200
    assert status(srv, key, "/api/auth/users") == 200  # warm in the cache
    admin.put(f"/api/auth/users/{user['id']}", json={"role": "user"})
    assert status(srv, token, "/api/auth/users") == 403
    assert status(srv, key, "/api/auth/users") == 403


def test_disable_and_delete_user(admin, srv):
    user = new_user(admin)
    token = login(srv, user["username"], user["password"])
    with as_(srv, token) as c:
        key = new_key(c)["key"]
    assert admin.put(f"/api/auth/users/{user['id']}", json={"disabled": True}).status_code == 200
    assert status(srv, token) == 401 and status(srv, key) == 401
    r = httpx.post(srv.base_url + "/api/auth/login", json={"username": user["username"], "password": user["password"]})
    assert r.status_code == 403 and r.json()["code"] == "USER_DISABLED"
    admin.put(f"/api/auth/users/{user['id']}", json={"disabled": False})
    token = login(srv, user["username"], user["password"])
    assert status(srv, key) == 200
    admin.delete(f"/api/auth/users/{user['id']}")
    assert status(srv, token) == 401 and status(srv, key) == 401
    with db(srv) as conn:
        assert conn.execute("select count(*) from api_keys where user_id=?", (user["id"],)).fetchone()[0] == 0
        assert conn.execute("select count(*) from sessions where user_id=?", (user["id"],)).fetchone()[0] == 0


def test_expired_session_and_key(admin, srv):
    user = new_user(admin)
    with as_(srv, login(srv, user["username"], user["password"])) as c:
        key, other_key = new_key(c), new_key(c)
    token = login(srv, user["username"], user["password"])
    with db(srv) as conn:  # expire them before they are ever used (nothing cached yet)
        conn.execute("update sessions set expires_at=? where token_hash=?",
                     (time.time() - 1, hashlib.sha256(token.encode()).hexdigest()))
        conn.execute("update api_keys set expires_at=? where id=?", (time.time() - 1, key["id"]))
    assert status(srv, token) == 401 and status(srv, key["key"]) == 401
    assert status(srv, other_key["key"]) == 200
    listed = {k["id"]: k for k in admin.get("/api/v1/api-keys").json()["apiKeys"]}
    assert listed[key["id"]]["expired"] is True


# ---- API keys --------------------------------------------------------------------------------

def test_key_create_list_delete(admin, srv):
    user = new_user(admin)
    with as_(srv, login(srv, user["username"], user["password"])) as c:
        created = c.post("/api/v1/api-keys", json={"name": "ci", "expiresInDays": 1})
        assert created.status_code == 201 and created.headers["cache-control"] == "no-store"
        body = created.json()
        assert set(body) == {"id", "key", "name", "permissions", "expiresAt", "createdAt"}
        assert re.fullmatch(r"si_[0-9a-f]{96}", body["key"]) and body["expiresAt"]
        listed = c.get("/api/v1/api-keys").json()["apiKeys"]
        assert [k["id"] for k in listed] == [body["id"]]
        assert {"id", "name", "lastUsedAt", "expiresAt"} <= set(listed[0]) and "key" not in listed[0]
        assert body["key"] not in c.get("/api/v1/api-keys").text and body["key"][3:19] not in c.get("/api/v1/api-keys").text
        with as_(srv, body["key"]) as k:  # a key works where a session does, also as X-API-Key
            assert k.get("/api/auth/session").json()["user"]["username"] == user["username"]
        assert httpx.get(srv.base_url + "/api/auth/session", headers={"X-API-Key": body["key"]}).status_code == 200
        assert c.get("/api/v1/api-keys").json()["apiKeys"][0]["lastUsedAt"] is not None
        assert c.delete(f"/api/v1/api-keys/{body['id']}").json() == {"ok": True}
        assert c.get("/api/v1/api-keys").json()["apiKeys"] == []
    assert status(srv, body["key"]) == 401


def test_key_validation(admin):
    future = "2999-01-01T00:00:00Z"
    for body in ({}, {"name": ""}, {"name": "x", "expiresAt": "2001-01-01T00:00:00Z"}, {"name": "x", "expiresAt": "soon"},
                 {"name": "x", "permissions": ["root"]}, {"name": "x", "expiresAt": future},
                 {"name": "x", "expiresInDays": 0}, {"name": "x", "expiresAt": "2030-01-01", "expiresInDays": 1}):
        r = admin.post("/api/v1/api-keys", json=body)
        assert r.status_code == 400, (body, r.text)


def test_scoped_key_and_keys_made_by_keys(admin, srv):
    key = new_key(admin, permissions=["settings:read", "apikeys:own"])
    with as_(srv, key["key"]) as k:
        assert k.get("/api/v1/settings").status_code == 200
        assert k.get("/api/auth/users").status_code == 403
        assert k.get("/api/v1/audit-log").status_code == 403
        child = k.post("/api/v1/api-keys", json={"name": "child"})
        assert child.status_code == 201 and set(child.json()["permissions"]) == {"settings:read", "apikeys:own"}
        r = k.post("/api/v1/api-keys", json={"name": "wider", "permissions": ["users:manage"]})
        assert r.status_code == 403 and r.json()["code"] == "ESCALATION_DENIED"


def test_foreign_keys_answer_404(admin, srv):
    alice, bob = new_user(admin), new_user(admin)
    a = as_(srv, login(srv, alice["username"], alice["password"]))
    b = as_(srv, login(srv, bob["username"], bob["password"]))
    key = new_key(a)
    assert key["id"] not in b.get("/api/v1/api-keys").text
    r = b.delete(f"/api/v1/api-keys/{key['id']}")
    assert r.status_code == 404 and r.json()["code"] == "NOT_FOUND"
    assert b.delete(f"/api/v1/api-keys/{uuid.uuid4()}").json() == r.json()  # same as a key that never existed
    assert status(srv, key["key"]) == 200
    # apikeys:all sees and removes everyone's
    assert key["id"] in {k["id"] for k in admin.get("/api/v1/api-keys").json()["apiKeys"]}
    assert admin.delete(f"/api/v1/api-keys/{key['id']}").status_code == 200
    assert status(srv, key["key"]) == 401


# ---- roles -----------------------------------------------------------------------------------

def test_roles(admin, srv):
    roles = admin.get("/api/v1/roles").json()["roles"]
    builtin = {r["name"]: r for r in roles if r["builtin"]}
    assert set(builtin) == {"admin", "editor", "user"} and len(builtin["admin"]["permissions"]) == 17
    assert set(builtin["editor"]["permissions"]) == {"tools:use", "files:own", "files:all", "apikeys:own",
                                                     "pipelines:own", "pipelines:all", "settings:read"}
    for rid in ("admin", "editor", "user"):
        assert admin.put(f"/api/v1/roles/{rid}", json={"permissions": ["tools:use"]}).status_code == 403
        assert admin.delete(f"/api/v1/roles/{rid}").status_code == 403
    name = f"auditor{uuid.uuid4().hex[:6]}"
    r = admin.post("/api/v1/roles", json={"name": name, "description": "reads logs", "permissions": ["audit:read"]})
    assert r.status_code == 201 and r.json()["role"]["builtin"] is False
    role = r.json()["role"]
    assert admin.post("/api/v1/roles", json={"name": name, "permissions": []}).status_code == 409
    assert admin.post("/api/v1/roles", json={"name": "x" + name, "permissions": ["audit:reed"]}).status_code == 400
    assert admin.post("/api/v1/roles", json={"name": "Bad Name", "permissions": []}).status_code == 400
    member = new_user(admin, role=name)
    token = login(srv, member["username"], member["password"])
    assert status(srv, token, "/api/v1/audit-log") == 200 and status(srv, token, "/api/v1/settings") == 403
    counts = {r["name"]: r["userCount"] for r in admin.get("/api/v1/roles").json()["roles"]}
    assert counts[name] == 1
    r = admin.put(f"/api/v1/roles/{role['id']}", json={"permissions": ["audit:read", "settings:read"]})
    assert r.status_code == 200 and r.json()["role"]["permissions"] == ["settings:read", "audit:read"]
    assert status(srv, token, "/api/v1/settings") == 200  # applied at once
    renamed = name + "x"
    assert admin.put(f"/api/v1/roles/{role['id']}", json={"name": renamed}).json()["role"]["userCount"] == 1
    r = admin.delete(f"/api/v1/roles/{role['id']}")
    assert r.status_code == 200 and r.json()["usersMoved"] == 1
    users = {u["id"]: u for u in admin.get("/api/auth/users").json()["users"]}
    assert users[member["id"]]["role"] == "user"
    assert status(srv, token, "/api/v1/audit-log") == 403
    assert admin.delete(f"/api/v1/roles/{role['id']}").status_code == 404


# ---- teams -----------------------------------------------------------------------------------

def test_teams(admin):
    teams = admin.get("/api/v1/teams").json()["teams"]
    default = next(t for t in teams if t["isDefault"])
    r = admin.delete(f"/api/v1/teams/{default['id']}")
    assert r.status_code == 409 and r.json()["code"] == "CONFLICT"
    name = f"Team {uuid.uuid4().hex[:6]}"
    team = admin.post("/api/v1/teams", json={"name": name})
    assert team.status_code == 201
    team = team.json()["team"]
    assert admin.post("/api/v1/teams", json={"name": name.upper()}).status_code == 409
    assert admin.post("/api/v1/teams", json={"name": " "}).status_code == 400
    r = admin.put(f"/api/v1/teams/{team['id']}", json={"name": name + " renamed"})
    assert r.status_code == 200 and r.json()["team"]["name"] == name + " renamed"
    member = new_user(admin, teamId=team["id"])
    r = admin.delete(f"/api/v1/teams/{team['id']}")
    assert r.status_code == 409
    admin.put(f"/api/auth/users/{member['id']}", json={"teamName": default["name"]})
    assert admin.delete(f"/api/v1/teams/{team['id']}").json() == {"ok": True}
    assert admin.put(f"/api/v1/teams/{team['id']}", json={"name": "x"}).status_code == 404
