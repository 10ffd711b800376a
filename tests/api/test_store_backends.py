"""The same API against both stores: SQLite (the default) and PostgreSQL (DATABASE_URL=postgresql://...).

A representative slice of every area that writes to the database: accounts and sessions, users, API keys,
a tool run and its job record, the file library with versions, saved and executed pipelines, settings and
the audit log. Each test runs once per backend; the PostgreSQL server gets a fresh database of a throwaway
cluster (tests/pg.py). LUTRA_TEST_DATABASE=postgres runs the whole suite on PostgreSQL instead.
"""

from __future__ import annotations

import io
import json
import secrets
import zipfile
from pathlib import Path

import httpx
import pytest
from sqlalchemy import create_engine, text

from actors.store.actor import normalise_url
from tests.api._workspace import image_size, pipeline_field
from tests.helpers import Server, wait_job

BACKENDS = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]


@pytest.fixture(scope="module", params=BACKENDS)
def backend(request, tmp_path_factory) -> tuple[str, Server]:
    env: dict[str, str] = {}
    if request.param == "postgres":
        cluster = request.getfixturevalue("postgres")
        env["DATABASE_URL"] = cluster.create_database()
    else:
        env["DATABASE_URL"] = ""  # the default SQLite file, whatever LUTRA_TEST_DATABASE says
    srv = Server(tmp_path_factory.mktemp(f"store-{request.param}") / "data", env).start()
    yield request.param, srv
    srv.stop()


@pytest.fixture()
def srv(backend) -> Server:
    return backend[1]


@pytest.fixture()
def admin(srv):
    with srv.client() as c:
        yield c


def query(backend: tuple[str, Server], sql: str, **params):
    """Read the server's database directly, to show which store holds the data."""
    kind, server = backend
    url = normalise_url(server.env["DATABASE_URL"]) if kind == "postgres" else \
        f"sqlite:///{server.data_dir / 'lutra.db'}"
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return conn.execute(text(sql), params).all()
    finally:
        engine.dispose()


def new_user(admin, role: str = "user") -> tuple[str, str]:
    name, password = f"u{secrets.token_hex(4)}", "correct-horse-9"
    r = admin.post("/api/auth/register", json={"username": name, "password": password, "role": role})
    assert r.status_code in (200, 201), r.text
    return name, password


def _newest_migration() -> str:
    """The head revision: the newest migration file's number (every start upgrades to it)."""
    versions = Path(__file__).resolve().parents[2] / "actors" / "store" / "migrations" / "versions"
    return max(p.name[:4] for p in versions.glob("[0-9][0-9][0-9][0-9]_*.py"))


def test_data_lives_in_the_configured_store(backend):
    kind, server = backend
    assert (server.data_dir / "lutra.db").exists() is (kind == "sqlite")
    assert query(backend, "SELECT version_num FROM alembic_version") == [(_newest_migration(),)]
    assert [r[0] for r in query(backend, "SELECT username FROM users")] == ["admin"]


def test_login_session_and_logout(srv):
    r = httpx.post(srv.base_url + "/api/auth/login", json={"username": "admin", "password": "admin"})
    assert r.status_code == 200
    token = r.json()["token"]
    with srv.client(token) as c:
        assert c.get("/api/auth/session").json()["user"]["username"] == "admin"
        assert c.post("/api/auth/logout").json() == {"ok": True}
        assert c.get("/api/auth/session").status_code == 401
    wrong = httpx.post(srv.base_url + "/api/auth/login", json={"username": "admin", "password": "nope-nope"})
    assert wrong.status_code == 401


def test_users_register_update_delete(backend, admin):
    name, password = new_user(admin)
    listed = {u["username"]: u for u in admin.get("/api/auth/users").json()["users"]}
    assert listed[name]["role"] == "user"
    # usernames are unique whatever their case, on both stores
    r = admin.post("/api/auth/register", json={"username": name.upper(), "password": password, "role": "user"})
    assert r.status_code == 409 and r.json()["code"], r.text
    user_id = listed[name]["id"]
    assert admin.put(f"/api/auth/users/{user_id}", json={"role": "editor"}).status_code == 200
    assert query(backend, "SELECT role FROM users WHERE id = :id", id=user_id) == [("editor",)]
    assert admin.delete(f"/api/auth/users/{user_id}").status_code == 200
    assert query(backend, "SELECT count(*) FROM users WHERE id = :id", id=user_id) == [(0,)]
    assert httpx.post(srv_url(admin) + "/api/auth/login", json={"username": name, "password": password}).status_code == 401


def srv_url(client: httpx.Client) -> str:
    return str(client.base_url).rstrip("/")


def test_api_key_create_use_delete(backend, admin, srv):
    created = admin.post("/api/v1/api-keys", json={"name": "ci", "expiresInDays": 1})
    assert created.status_code == 201, created.text
    key = created.json()["key"]
    session = httpx.get(srv.base_url + "/api/auth/session", headers={"X-API-Key": key})
    assert session.status_code == 200 and session.json()["user"]["username"] == "admin"
    listed = admin.get("/api/v1/api-keys").json()["apiKeys"]
    mine = next(k for k in listed if k["name"] == "ci")
    # the use is recorded (a small write, posted: through the store's thread on PostgreSQL)
    with srv.client() as c:
        for _ in range(50):
            if c.get("/api/v1/api-keys").json()["apiKeys"][0]["lastUsedAt"] is not None:
                break
    assert query(backend, "SELECT last_used_at IS NOT NULL FROM api_keys WHERE id = :id", id=mine["id"]) == [(True,)]
    assert admin.delete(f"/api/v1/api-keys/{mine['id']}").status_code == 200
    assert httpx.get(srv.base_url + "/api/auth/session", headers={"X-API-Key": key}).status_code == 401


def test_tool_run_job_record_and_download(backend, admin, samples):
    data = (samples / "photo.jpg").read_bytes()
    r = admin.post("/api/v1/tools/image/resize", files={"file": ("photo.jpg", data)},
                   data={"settings": json.dumps({"width": 120})})
    assert r.status_code == 200, r.text
    body = r.json()
    out = admin.get(body["downloadUrl"])
    assert out.status_code == 200 and image_size(out.content) == (120, 90)
    job = admin.get(f"/api/v1/jobs/{body['jobId']}").json()
    assert job["status"] == "completed"
    rows = query(backend, "SELECT status, kind, tool_id, result FROM jobs WHERE id = :id", id=body["jobId"])
    assert rows[0][:3] == ("completed", "tool", "resize")
    stored = rows[0][3] if isinstance(rows[0][3], dict) else json.loads(rows[0][3])
    assert stored["downloadUrl"] == body["downloadUrl"] and stored["processedSize"] == len(out.content)


def test_batch_job_progress_and_cancel_of_unknown(backend, admin, samples):
    data = (samples / "photo.jpg").read_bytes()
    r = admin.post("/api/v1/tools/image/resize/batch",
                   files=[("files", ("a.jpg", data)), ("files", ("b.jpg", data))],
                   data={"settings": json.dumps({"width": 64})})
    assert r.status_code in (200, 202), r.text
    job_id = r.headers.get("X-Job-Id") or r.json()["jobId"]
    last = wait_job(admin, job_id)  # a finished job's stream replays its terminal frame
    assert last["status"] == "completed" and last["completedFiles"] == 2
    with zipfile.ZipFile(io.BytesIO(admin.get(last["result"]["downloadUrl"]).content)) as archive:
        assert sorted(archive.namelist()) == ["a.jpg", "b.jpg"]
    assert query(backend, "SELECT status, kind FROM jobs WHERE id = :id", id=job_id) == [("completed", "batch")]
    assert admin.post(f"/api/v1/jobs/{secrets.token_hex(8)}/cancel").status_code == 404


def test_library_versions_search_and_delete(backend, admin, samples):
    tag = secrets.token_hex(3)
    data = (samples / "photo.jpg").read_bytes()
    up = admin.post("/api/v1/files/upload", files=[("files", (f"Lib-{tag}.jpg", data))])
    assert up.status_code == 201, up.text
    original = up.json()["files"][0]
    r = admin.post("/api/v1/tools/image/resize", files={"file": (f"Lib-{tag}.jpg", data)},
                   data={"settings": json.dumps({"width": 100}), "fileId": original["id"]})
    assert r.status_code == 200, r.text
    got = admin.get(f"/api/v1/files/{original['id']}").json()
    assert [v["version"] for v in got["versions"]] == [1, 2]
    assert r.json()["savedFileId"] == got["versions"][1]["id"]  # the auto-save ran before the job ended
    # search is case-insensitive and literal on both stores (ILIKE on PostgreSQL, LIKE on SQLite)
    found = admin.get("/api/v1/files", params={"search": f"lib-{tag}"}).json()
    assert found["total"] == 1 and found["files"][0]["version"] == 2
    assert admin.get("/api/v1/files", params={"search": f"lib_{tag}"}).json()["total"] == 0
    newest = found["files"][0]
    down = admin.get(f"/api/v1/files/{newest['id']}/download")
    assert down.status_code == 200 and image_size(down.content) == (100, 75)
    assert admin.request("DELETE", "/api/v1/files", json={"ids": [original["id"]]}).status_code == 200
    assert query(backend, "SELECT count(*) FROM files WHERE root_id = :id", id=original["id"]) == [(0,)]


def test_pipelines_save_list_execute(admin, samples):
    steps = [{"toolId": "resize", "settings": {"width": 80}}, {"toolId": "convert", "settings": {"format": "png"}}]
    saved = admin.post("/api/v1/pipeline/save", json={"name": f"p-{secrets.token_hex(3)}", "steps": steps})
    assert saved.status_code == 201, saved.text
    listed = admin.get("/api/v1/pipeline/list").json()["pipelines"]
    assert saved.json()["id"] in {p["id"] for p in listed}
    r = admin.post("/api/v1/pipeline/execute", files={"file": ("photo.jpg", (samples / "photo.jpg").read_bytes())},
                   data=pipeline_field(("resize", {"width": 80}), ("convert", {"format": "png"})))
    assert r.status_code == 200, r.text
    assert r.json()["stepsCompleted"] == 2
    assert image_size(admin.get(r.json()["downloadUrl"]).content) == (80, 60)
    assert admin.delete(f"/api/v1/pipeline/{saved.json()['id']}").status_code == 200


def test_settings_upsert_persist_and_apply(backend, admin, samples):
    r = admin.put("/api/v1/settings", json={"disabledTools": ["rotate"], "loginAttemptLimit": 7})
    assert r.status_code == 200, r.text
    r = admin.put("/api/v1/settings", json={"loginAttemptLimit": 8})  # the second write updates the row
    assert r.json()["settings"]["loginAttemptLimit"] == 8
    rows = dict(query(backend, "SELECT key, value FROM settings"))
    values = {k: v if not isinstance(v, str) else json.loads(v) for k, v in rows.items()}
    assert values == {"disabledTools": ["rotate"], "loginAttemptLimit": 8}
    refused = admin.post("/api/v1/tools/image/rotate", files={"file": ("p.jpg", (samples / "photo.jpg").read_bytes())},
                         data={"settings": json.dumps({"angle": 90})})
    assert refused.status_code == 403, refused.text
    admin.put("/api/v1/settings", json={"disabledTools": []})
    audit = admin.get("/api/v1/audit-log", params={"action": "SETTINGS_UPDATED"}).json()
    assert audit["total"] >= 3
