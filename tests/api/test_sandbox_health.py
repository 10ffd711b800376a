"""Admin health says which sandbox is active; SANDBOX=false is reported as a warning, not hidden."""

from __future__ import annotations

from actors import landlock


def test_health_reports_the_active_sandbox(client):
    body = client.get("/api/v1/admin/health").json()
    programs, workers = body["sandbox"]["programs"], body["sandbox"]["workers"]
    assert programs["mechanism"] == "bubblewrap" and programs["enabled"] is True and programs["network"] is False
    if landlock.abi():
        assert workers["mechanism"] == "landlock" and workers["abi"] == landlock.abi()
    else:
        assert workers["mechanism"] == "memory limit only" and "warning" in workers


def test_the_off_switch_is_loud(make_server):
    srv = make_server(sandbox="false")
    with srv.client() as c:
        sandbox = c.get("/api/v1/admin/health").json()["sandbox"]
    assert sandbox["programs"]["mechanism"] == "none" and "unconfined" in sandbox["programs"]["warning"]
    assert sandbox["workers"]["mechanism"] == "none"
    assert "WITHOUT a sandbox" in srv.log_path.read_text()
