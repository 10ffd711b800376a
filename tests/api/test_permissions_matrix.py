"""The permission matrix: every route registered in the app x {anonymous, user, editor, admin, scoped API
key, expired key, deleted user's token} -> the expected answer, from one table.

Routes come from the app's own url_map, so a new route cannot be forgotten: an identity-area route
without an entry in ROUTES fails the test; a route of another area is held at least to "requires
authentication" (or to the permissions its `require` decorator declares) unless listed in PUBLIC."""

from __future__ import annotations

import re
import time
import uuid
from dataclasses import dataclass

import httpx
import pytest

from service.app import create_app
from service.config import Config
from service.permissions import BUILTIN_ROLES, PERMISSIONS

PUBLIC = "public"
AUTH = ()  # any authenticated caller

# The identity area's routes: (method, rule) -> PUBLIC or the permissions required.
ROUTES: dict[tuple[str, str], str | tuple[str, ...]] = {
    ("POST", "/api/auth/login"): PUBLIC,
    ("POST", "/api/auth/logout"): AUTH,
    ("GET", "/api/auth/session"): AUTH,
    ("POST", "/api/auth/change-password"): AUTH,
    ("GET", "/api/auth/users"): ("users:manage",),
    ("POST", "/api/auth/register"): ("users:manage",),
    ("PUT", "/api/auth/users/<user_id>"): ("users:manage",),
    ("POST", "/api/auth/users/<user_id>/reset-password"): ("users:manage",),
    ("DELETE", "/api/auth/users/<user_id>"): ("users:manage",),
    ("POST", "/api/v1/api-keys"): ("apikeys:own",),
    ("GET", "/api/v1/api-keys"): ("apikeys:own",),
    ("DELETE", "/api/v1/api-keys/<key_id>"): ("apikeys:own",),
    ("GET", "/api/v1/roles"): ("audit:read",),
    ("POST", "/api/v1/roles"): ("users:manage",),
    ("PUT", "/api/v1/roles/<role_id>"): ("users:manage",),
    ("DELETE", "/api/v1/roles/<role_id>"): ("users:manage",),
    ("GET", "/api/v1/teams"): ("teams:manage",),
    ("POST", "/api/v1/teams"): ("teams:manage",),
    ("PUT", "/api/v1/teams/<team_id>"): ("teams:manage",),
    ("DELETE", "/api/v1/teams/<team_id>"): ("teams:manage",),
    ("GET", "/api/v1/settings"): ("settings:read",),
    ("GET", "/api/v1/settings/<key>"): ("settings:read",),
    ("PUT", "/api/v1/settings"): ("settings:write",),
    ("GET", "/api/v1/audit-log"): ("audit:read",),
    ("GET", "/api/v1/config/analytics"): PUBLIC,
    ("GET", "/api/v1/user/analytics"): AUTH,
    ("PUT", "/api/v1/user/analytics"): AUTH,
    ("GET", "/api/v1/admin/health"): ("system:health",),
}
IDENTITY_BLUEPRINTS = {"auth", "users", "apikeys", "roles", "teams", "settings", "audit", "analytics", "admin"}

# Routes of other areas that the reference makes public (everything else must at least authenticate).
OTHER_PUBLIC = {
    ("GET", "/api/v1/health"), ("GET", "/api/v1/config/auth"),
    ("GET", "/api/v1/download/<job_id>/<path:filename>"),  # a capability URL: the random job id is the secret
    ("GET", "/static/<path:filename>"),  # the framework's static route; there is no static folder
    # the web app's sign-in page and its static files (CSS, scripts, the branding logo) hold no secret
    ("GET", "/login"), ("GET", "/assets/<path:name>"), ("GET", "/assets/brand-logo"),
}
# The web app's other pages read only the session cookie: bearer credentials of any kind are sent to sign in.
SIGN_IN = "sign-in"
OTHER_PUBLIC_PREFIXES = ("/api/docs", "/api/v1/openapi", "/llms.txt", "/llms-full.txt")

# Calls that would end the caller's own session get a fresh one.
FRESH_CREDENTIALS = {("POST", "/api/auth/logout")}

SCOPE = ("tools:use", "settings:read", "apikeys:own", "audit:read")
IDENTITIES = ("anonymous", "user", "editor", "admin", "scoped_key", "expired_key", "deleted_user")
DEAD = {"anonymous", "expired_key", "deleted_user"}
HOLDS = {
    "user": set(BUILTIN_ROLES["user"][1]),
    "editor": set(BUILTIN_ROLES["editor"][1]),
    "admin": set(PERMISSIONS),
    "scoped_key": set(SCOPE),  # a key of an admin, scoped down
}
PLACEHOLDERS = {"route": "image/resize", "filename": "nothing.png", "key": "loginAttemptLimit", "tool_id": "resize",
                "slug": "users", "name": "app.css"}
ZERO_ID = "00000000-0000-4000-8000-000000000000"
DENIED_CODES = {"AUTH_REQUIRED", "FORBIDDEN", "MUST_CHANGE_PASSWORD"}


@dataclass(frozen=True)
class Route:
    method: str
    rule: str
    endpoint: str
    declared: tuple[str, ...] | None  # what the view's `require` decorator says, if it has one

    @property
    def mine(self) -> bool:
        return self.endpoint.split(".", 1)[0] in IDENTITY_BLUEPRINTS

    @property
    def expected(self) -> str | tuple[str, ...]:
        key = (self.method, self.rule)
        if key in ROUTES:
            return ROUTES[key]
        if key in OTHER_PUBLIC or self.rule.startswith(OTHER_PUBLIC_PREFIXES):
            return PUBLIC
        if self.endpoint.startswith("web."):
            return SIGN_IN
        return self.declared if self.declared is not None else AUTH

    def url(self) -> str:
        def fill(match: re.Match) -> str:
            name = match.group(1).split(":")[-1]
            return PLACEHOLDERS.get(name, ZERO_ID)

        return re.sub(r"<([^>]+)>", fill, self.rule)

    def __str__(self) -> str:
        return f"{self.method} {self.rule}"


def app_routes() -> list[Route]:
    app = create_app(Config())
    routes = []
    for rule in app.url_map.iter_rules():
        view = app.view_functions[rule.endpoint]
        declared = getattr(view, "required_permissions", None)
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            routes.append(Route(method, rule.rule, rule.endpoint, None if declared is None else tuple(declared)))
    return routes


ALL_ROUTES = app_routes()


def test_every_identity_route_has_an_entry():
    missing = [str(r) for r in ALL_ROUTES if r.mine and (r.method, r.rule) not in ROUTES]
    assert not missing, f"add these routes to ROUTES: {missing}"
    registered = {(r.method, r.rule) for r in ALL_ROUTES}
    stale = [k for k in ROUTES if k not in registered]
    assert not stale, f"ROUTES lists routes the app does not have: {stale}"


def test_declared_permissions_match_the_table():
    for route in ALL_ROUTES:
        if not route.mine:
            continue
        expected = ROUTES[(route.method, route.rule)]
        if expected == PUBLIC:
            assert route.declared is None, f"{route} is public but guarded"
        else:
            assert route.declared is not None, f"{route} has no require() guard"
            assert set(route.declared) == set(expected), f"{route}: declared {route.declared}, table {expected}"


@pytest.fixture(scope="module")
def matrix(make_server):
    srv = make_server()
    admin = srv.client()

    def make_user(role: str) -> tuple[str, str, str]:
        name, password = f"{role}{uuid.uuid4().hex[:8]}", "matrix-password-1"
        r = admin.post("/api/auth/register", json={"username": name, "password": password, "role": role})
        assert r.status_code == 201, r.text
        return r.json()["user"]["id"], name, password

    def login(name: str, password: str) -> str:
        r = httpx.post(srv.base_url + "/api/auth/login", json={"username": name, "password": password})
        assert r.status_code == 200, r.text
        return r.json()["token"]

    accounts = {role: make_user(role) for role in ("user", "editor", "admin")}
    scoped = admin.post("/api/v1/api-keys", json={"name": "matrix", "permissions": list(SCOPE)})
    assert scoped.status_code == 201, scoped.text
    with srv.client(login(*accounts["user"][1:])) as c:
        expired = c.post("/api/v1/api-keys", json={"name": "to-expire"}).json()
    with srv.db() as conn:
        conn.execute("update api_keys set expires_at=? where id=?", (time.time() - 60, expired["id"]))
    doomed_id, doomed_name, doomed_password = make_user("user")
    doomed = login(doomed_name, doomed_password)
    assert admin.delete(f"/api/auth/users/{doomed_id}").status_code == 200

    fresh = {role: (lambda acc=acc: login(acc[1], acc[2])) for role, acc in accounts.items()}
    tokens = {
        "anonymous": None,
        **{role: fresh[role]() for role in accounts},
        "scoped_key": scoped.json()["key"],
        "expired_key": expired["key"],
        "deleted_user": doomed,
    }
    yield srv, tokens, fresh
    admin.close()


def call(srv, token: str | None, route: Route) -> httpx.Response:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return httpx.request(route.method, srv.base_url + route.url(), headers=headers, timeout=30)


def code_of(response: httpx.Response) -> str | None:
    try:
        body = response.json()
    except ValueError:
        return None
    return body.get("code") if isinstance(body, dict) else None


@pytest.mark.parametrize("route", ALL_ROUTES, ids=str)
def test_matrix(matrix, route: Route):
    srv, tokens, fresh = matrix
    expected = route.expected
    problems = []
    for identity in IDENTITIES:
        token = tokens[identity]
        if (route.method, route.rule) in FRESH_CREDENTIALS and identity in fresh:
            token = fresh[identity]()
        response = call(srv, token, route)
        status, code = response.status_code, code_of(response)
        if expected == PUBLIC:
            ok = status not in (401, 403) and status < 500
            want = "public (not 401/403/5xx)"
        elif expected == SIGN_IN:
            ok = status == 302 and response.headers.get("location", "").startswith("/login")
            want = "302 to /login"
        elif identity in DEAD:
            ok, want = status == 401 and code == "AUTH_REQUIRED", "401 AUTH_REQUIRED"
        elif set(expected) <= HOLDS[identity]:
            ok = status not in (401, 403) and code not in DENIED_CODES and status < 500
            want = "allowed (not 401/403/5xx)"
        else:
            ok, want = status == 403 and code == "FORBIDDEN", "403 FORBIDDEN"
        if not ok:
            problems.append(f"{identity}: got {status} {code}, want {want}")
    assert not problems, f"{route} (needs {expected}): " + "; ".join(problems)
