"""Contract test: schemathesis fuzzes every operation of the served OpenAPI document against live servers.

A bounded, stateless pass (examples + fuzzing, a few examples per operation, fixed seed) that must find no
unexpected 5xx (tests/api/_contract_hooks.py), no undocumented status code and no response that violates its
schema.

Schemathesis reuses ids it has seen in earlier responses, so a fuzzed DELETE /api/v1/api-keys/{id} can delete
the very key the run authenticates with, and reset-password can reset the admin's password: the rest of the
run would then only see 401s. So the main pass runs as an admin API key on its own server with the
operations that can lock the caller out (or disable tools for the rest of the run) left out, and those are
fuzzed in a second pass on a server of their own with AUTH_ENABLED=false, where nothing can lock anyone
out. Installing a feature bundle is never fuzzed (it copies model packages onto the box).

LUTRA_CONTRACT_EXAMPLES (default 3) sets the examples per operation."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from tests.helpers import ROOT

CHECKS = "lutra_no_server_error,response_schema_conformance,status_code_conformance"
NEVER = ["post_api_v1_admin_features_by_bundle_id_install"]
# operations that can take the caller's own access away or disable tools for the rest of a run
SELF_DESTRUCTIVE = [
    "delete_api_v1_api_keys_by_key_id",
    "post_api_auth_users_by_user_id_reset_password",
    "put_api_auth_users_by_user_id",
    "delete_api_auth_users_by_user_id",
    "post_api_auth_change_password",
    "put_api_v1_settings",
]


def schemathesis(base_url: str, report_dir: Path, filters: list[str], headers: dict[str, str] | None = None):
    examples = os.environ.get("LUTRA_CONTRACT_EXAMPLES", "3")
    command = [
        str(Path(sys.executable).with_name("st")), "run", f"{base_url}/api/v1/openapi.json",
        "--phases", "examples,fuzzing",
        "--max-examples", examples,
        "--seed", "20261128",
        "--workers", "2",
        "--checks", CHECKS,
        "--request-timeout", "60",
        "--suppress-health-check", "all",
        "--report", "json", "--report-dir", str(report_dir),
        *filters,
    ]
    for name, value in (headers or {}).items():
        command += ["-H", f"{name}: {value}"]
    env = {**os.environ, "SCHEMATHESIS_HOOKS": "tests.api._contract_hooks",
           "PYTHONPATH": str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""), "NO_COLOR": "1"}
    started = time.monotonic()
    # run in the test's folder: schemathesis' and hypothesis' caches stay out of the work tree
    report_dir.mkdir(parents=True, exist_ok=True)
    proc = subprocess.run(command, cwd=report_dir.parent, env=env, capture_output=True, text=True, timeout=900)
    elapsed = time.monotonic() - started
    reports = sorted(report_dir.glob("*.json"))
    assert reports, proc.stdout[-5000:] + proc.stderr[-3000:]
    report = json.loads(reports[-1].read_text())
    ops = report["operations"]
    summary = (f"schemathesis: {ops['tested']} of {ops['total']} operations tested, "
               f"{report['test_cases']['generated']} test cases, {elapsed:.0f} s")
    print(summary)
    assert proc.returncode == 0 and not report["failures"] and not report["errors"], (
        summary + "\n" + json.dumps(report["failures"], indent=1)[:4000] + "\n" + proc.stdout[-8000:])
    assert ops["tested"] + ops["skipped"] == ops["selected"]
    return report


def _flags(option: str, names: list[str]) -> list[str]:
    return [arg for name in names for arg in (option, name)]


@pytest.fixture(scope="module")
def main_target(make_server):
    srv = make_server(rate_limit_per_min="0", sync_wait_ms="2000")
    with srv.client() as c:
        r = c.post("/api/v1/api-keys", json={"name": "contract-test"})
        assert r.status_code == 201, r.text
    return srv, r.json()["key"]


def test_every_operation_conforms_as_an_api_key(main_target, tmp_path):
    srv, key = main_target
    report = schemathesis(srv.base_url, tmp_path / "report", _flags("--exclude-operation-id", NEVER + SELF_DESTRUCTIVE),
                          {"Authorization": f"Bearer {key}"})
    ops = report["operations"]
    assert ops["selected"] == ops["total"] - len(NEVER + SELF_DESTRUCTIVE)
    assert ops["tested"] >= 300
    # the whole run was authenticated: the key still works
    assert httpx.get(srv.base_url + "/api/auth/session", headers={"Authorization": f"Bearer {key}"}).status_code == 200


def test_operations_that_can_lock_the_caller_out_conform_on_their_own_server(make_server, tmp_path):
    srv = make_server(rate_limit_per_min="0", auth_enabled="false")
    report = schemathesis(srv.base_url, tmp_path / "report", _flags("--include-operation-id", SELF_DESTRUCTIVE))
    assert report["operations"]["tested"] == len(SELF_DESTRUCTIVE)
    assert srv.healthy()


def test_regression_team_names_outside_ascii(client):
    """Found by the contract pass: SQLite's lower() folds ASCII only, so a second team named 'Ùe' slipped past
    the duplicate check and hit the UNIQUE index (500); and a non-ASCII team could not be found by name."""
    first = client.post("/api/v1/teams", json={"name": "Équipe Ù"})
    assert first.status_code == 201, first.text
    again = client.post("/api/v1/teams", json={"name": "Équipe Ù"})
    assert again.status_code == 409 and again.json()["code"] == "CONFLICT"
    other = client.post("/api/v1/teams", json={"name": "Autre"}).json()["team"]
    renamed = client.put(f"/api/v1/teams/{other['id']}", json={"name": "Équipe Ù"})
    assert renamed.status_code == 409 and renamed.json()["code"] == "CONFLICT"
    user = client.post("/api/auth/register", json={"username": "ascii-team-test", "password": "long-enough-1",
                                                   "teamName": "Équipe Ù"})
    assert user.status_code == 201, user.text
    assert user.json()["teamName"] == "Équipe Ù"


def test_regression_audit_log_page_past_64_bit_offsets(client):
    """Found by a deeper contract pass (10 examples per operation): page=8051270168839675904 made the SQL
    OFFSET overflow a 64-bit integer (500). Pages are bounded (documented maximum) and beyond it is a 400."""
    r = client.get("/api/v1/audit-log", params={"page": 8051270168839675904, "limit": 53})
    assert r.status_code == 400 and r.json()["code"] == "VALIDATION_ERROR", r.text
    assert "page" in r.json()["error"]
    assert client.get("/api/v1/audit-log", params={"page": 2**31, "limit": 100}).json()["entries"] == []
    r = client.get("/api/v1/files", params={"offset": 2**31 + 1})
    assert r.status_code == 400
    doc = client.get("/api/v1/openapi.json").json()
    params = {p["name"]: p["schema"] for p in doc["paths"]["/api/v1/audit-log"]["get"]["parameters"]}
    assert params["page"]["maximum"] == 2**31
