"""Who is calling: bearer session tokens and API keys, passwords hashed with argon2, sessions stored as
sha256 of the token and expiring, API keys (`si_` + 96 hex) stored as scrypt plus a short sha256 prefix
used to find the row. `require` guards a route."""

from __future__ import annotations

import functools
import hashlib
import hmac
import math
import re
import secrets
import time
import uuid
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import trio
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from quart import current_app, g, request

from actors.store.repos import keys, roles, sessions, teams, users
from protocols.errors import ApiError, ErrorCode
from service.permissions import BUILTIN_ROLES, DEFAULT_TEAM, PERMISSIONS

_hasher = PasswordHasher()
# a real hash to verify against when the username is unknown, so both paths take the same time
_DUMMY_HASH = _hasher.hash(secrets.token_hex(16))


@dataclass(frozen=True, slots=True)
class Principal:
    user_id: str | None
    username: str
    role: str
    permissions: frozenset[str]
    team_name: str | None = None
    must_change_password: bool = False
    session_id: str | None = None
    api_key_id: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)
    expires_at: float | None = None  # when the session or key behind it ends (caps the cache entry)

    def can(self, permission: str) -> bool:
        return permission in self.permissions

    @property
    def is_admin(self) -> bool:
        """An admin acting with every permission: a scoped key of an admin is not one."""
        return self.role == "admin" and self.permissions >= _ALL_PERMISSIONS

    def user_json(self) -> dict[str, Any]:
        return {
            "id": self.user_id,
            "username": self.username,
            "role": self.role,
            "mustChangePassword": self.must_change_password,
            "permissions": sorted(self.permissions),
            "teamName": self.team_name,
        }


_ALL_PERMISSIONS = frozenset(PERMISSIONS)

DEFAULT_TEAM_ID = "default"
# what a username may be: the user routes and `lutra user create` check the same rule
USERNAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@+-]{0,99}$")

ANONYMOUS_ADMIN = Principal(None, "anonymous", "admin", frozenset(PERMISSIONS), DEFAULT_TEAM)


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(stored_hash: str | None, password: str) -> bool:
    try:
        return _hasher.verify(stored_hash or _DUMMY_HASH, password) and stored_hash is not None
    except (VerificationError, InvalidHashError):
        return False


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def iso_time(ts: float | None) -> str | None:
    """Epoch seconds -> ISO 8601 UTC ('2025-01-31T12:00:00Z'); None stays None."""
    if ts is None:
        return None
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_iso_time(text: str) -> float:
    """ISO 8601 (a date, or a date-time with or without offset; naive = UTC) -> epoch seconds."""
    value = datetime.fromisoformat(text.strip().replace("Z", "+00:00").replace("z", "+00:00"))
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.timestamp()


# ---- API keys ---------------------------------------------------------------------------------

API_KEY_PREFIX = "si_"
API_KEY_HEX = 96
_SCRYPT_N, _SCRYPT_R, _SCRYPT_P = 2**14, 8, 1


def new_api_key() -> str:
    return API_KEY_PREFIX + secrets.token_hex(API_KEY_HEX // 2)


def is_api_key(token: str) -> bool:
    return token.startswith(API_KEY_PREFIX)


def key_lookup_prefix(key: str) -> str:
    """The first 16 hex of sha256(key): finds the row without revealing anything usable."""
    return hashlib.sha256(key.encode()).hexdigest()[:16]


def hash_api_key(key: str) -> str:
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(key.encode(), salt=salt, n=_SCRYPT_N, r=_SCRYPT_R, p=_SCRYPT_P, dklen=32)
    return f"scrypt${_SCRYPT_N}${_SCRYPT_R}${_SCRYPT_P}${salt.hex()}${digest.hex()}"


def verify_api_key_hash(stored: str, key: str) -> bool:
    try:
        scheme, n, r, p, salt, digest = stored.split("$")
        if scheme != "scrypt":
            return False
        computed = hashlib.scrypt(key.encode(), salt=bytes.fromhex(salt), n=int(n), r=int(r), p=int(p),
                                  dklen=len(digest) // 2)
    except (ValueError, MemoryError):
        return False
    return hmac.compare_digest(computed.hex(), digest)


def _load_key_principal(conn, key_id: str, user_id: str, scope, expires_at) -> Principal | None:
    user = users.by_id(conn, user_id)
    if user is None or user.disabled:
        return None
    owner = users.identity(conn, user)
    permissions = owner.permissions if scope is None else owner.permissions & frozenset(scope)
    return Principal(owner.user_id, owner.username, owner.role, permissions, owner.team_name,
                     owner.must_change_password, api_key_id=key_id, expires_at=expires_at)


class ApiKeyVerifier:
    """One indexed row and one scrypt per cache miss; the Authenticator caches the result briefly."""

    def __init__(self, store, clock: Callable[[], float] = time.time) -> None:
        self.store = store
        self.clock = clock

    async def __call__(self, key: str) -> Principal | None:
        if len(key) != len(API_KEY_PREFIX) + API_KEY_HEX:
            return None
        rows = await self.store.call(keys.candidates, key_lookup_prefix(key))
        now = self.clock()
        for row in rows:
            if not await trio.to_thread.run_sync(verify_api_key_hash, row.key_hash, key):
                continue
            if row.expires_at is not None and row.expires_at <= now:
                return None
            principal = await self.store.call(_load_key_principal, row.id, row.user_id, row.permissions,
                                              row.expires_at)
            if principal is not None:
                self.store.post(keys.TOUCH, {"b_id": row.id, "b_now": now})
            return principal
        return None


class Authenticator:
    """Resolves bearer credentials to a Principal. Verified sessions are cached for a few seconds and
    dropped at once on logout or any change to the user (`forget_user`)."""

    CACHE_TTL_S = 10.0
    CACHE_MAX = 10000

    def __init__(self, store, config, clock: Callable[[], float] = time.time) -> None:
        self.store = store
        self.config = config
        self.clock = clock
        self._cache: OrderedDict[str, tuple[float, Principal]] = OrderedDict()
        # bumped by every forget_*: a lookup that began before an invalidation is used once, never cached
        self._generation = 0
        # API keys plug in here (the identity module sets it): token -> Principal | None
        self.key_verifier: Callable[[str], Awaitable[Principal | None]] | None = None
        from service.ratelimit import LoginThrottle

        self.login_throttle = LoginThrottle(clock=clock)

    def forget_user(self, user_id: str | None = None) -> None:
        """Drop cached principals of one user (None: of everyone), after any change to them."""
        self._generation += 1
        if user_id is None:
            self._cache.clear()
            return
        for key in [k for k, (_, p) in self._cache.items() if p.user_id == user_id]:
            self._cache.pop(key, None)

    def forget_key(self, key_id: str) -> None:
        self._generation += 1
        for key in [k for k, (_, p) in self._cache.items() if p.api_key_id == key_id]:
            self._cache.pop(key, None)

    def forget_token(self, token: str) -> None:
        self._generation += 1
        self._cache.pop(token_hash(token), None)

    async def resolve(self, token: str) -> Principal | None:
        digest = token_hash(token)
        hit = self._cache.get(digest)
        now = self.clock()
        if hit is not None:
            if hit[0] > now:
                return hit[1]
            self._cache.pop(digest, None)
        generation = self._generation
        if is_api_key(token):
            if self.key_verifier is None:
                return None
            principal = await self.key_verifier(token)
        else:
            principal = await self.store.call(_load_session_principal, digest, now)
        if principal is not None and generation == self._generation:
            until = min(now + self.CACHE_TTL_S, principal.expires_at or math.inf)
            self._cache[digest] = (until, principal)
            if len(self._cache) > self.CACHE_MAX:
                self._cache.popitem(last=False)
        return principal

    async def login(self, username: str, password: str, ip: str | None, user_agent: str | None) -> tuple[str, float, Principal]:
        """Check the password (the same cost for unknown users) and open a session. Raises AUTH_REQUIRED on
        bad credentials (the caller counts failures for the throttle), USER_DISABLED for a disabled account."""
        row = await self.store.call(users.by_name, username)
        # verify off the event loop: argon2 takes tens of ms; same cost for unknown users
        ok = await trio.to_thread.run_sync(verify_password, row.password_hash if row else None, password)
        if not ok or row is None:
            raise ApiError(ErrorCode.AUTH_REQUIRED, "Invalid username or password.")
        if row.disabled:
            raise ApiError(ErrorCode.USER_DISABLED, "This account is disabled.")
        token = secrets.token_urlsafe(32)
        expires = self.clock() + self.config.session_duration_hours * 3600
        await self.store.call(sessions.open_session, str(uuid.uuid4()), token_hash(token), row.id, time.time(), expires,
                              ip, user_agent)
        # not put in the cache: the first request with the token reads the row, like every later miss
        principal = await self.store.call(_load_session_principal, token_hash(token), self.clock())
        assert principal is not None
        return token, expires, principal

    async def logout(self, token: str) -> None:
        # the row first, then the cache: a lookup in between must not find the row and cache it again
        await self.store.call(sessions.close, token_hash(token))
        self.forget_token(token)

    async def seed(self) -> None:
        """First start: built-in roles, the default team and the default admin."""
        await self.store.call(_seed, self.config.default_username, hash_password(self.config.default_password))


def _load_session_principal(conn, digest: str, now: float) -> Principal | None:
    row = sessions.with_user(conn, digest, now)
    if row is None or row.disabled:
        return None
    who = users.identity(conn, row)
    return Principal(who.user_id, who.username, who.role, who.permissions, who.team_name, who.must_change_password,
                     session_id=row.session_id, expires_at=row.session_expires_at)


def seed_roles_and_team(conn) -> str:
    """The built-in roles and the default team (idempotent); returns the default team's id."""
    now = time.time()
    roles.ensure_builtin(conn, BUILTIN_ROLES, now)
    return teams.ensure_default(conn, DEFAULT_TEAM_ID, DEFAULT_TEAM, now)


def _seed(conn, username: str, password_hash: str) -> None:
    team_id = seed_roles_and_team(conn)
    if not users.exists(conn):
        now = time.time()
        users.create(conn, id=str(uuid.uuid4()), username=username, password_hash=password_hash, role="admin",
                     team_id=team_id, must_change_password=True, disabled=False, created_at=now, updated_at=now)


# ---- request-side helpers --------------------------------------------------------------------

def bearer_token() -> str | None:
    header = request.headers.get("Authorization", "")
    if header[:7].lower() == "bearer ":
        return header[7:].strip() or None
    return request.headers.get("X-API-Key") or None


# ---- browser sessions -------------------------------------------------------------------------
# The web app holds the same session token as a bearer client, in an HttpOnly SameSite=Strict cookie that
# page scripts cannot read. A request authenticated by that cookie and changing state must also carry the
# CSRF token (a header no other site can set) that the pages put in a <meta> tag. Requests that send a bearer
# token or an API key are not cookie-authenticated: the cookie is ignored and no CSRF token is needed.

SESSION_COOKIE = "lutra_session"
CSRF_HEADER = "X-CSRF-Token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def csrf_token(session_token: str) -> str:
    """Derived from the session token (one-way), so it needs no storage and dies with the session."""
    return hashlib.sha256(b"lutra-csrf\0" + session_token.encode()).hexdigest()


def cookie_token() -> str | None:
    """The browser session's token, when the request has no bearer credentials."""
    if bearer_token():
        return None
    return request.cookies.get(SESSION_COOKIE) or None


def request_token() -> str | None:
    """Bearer token or API key, else the session cookie (after its CSRF check on state-changing requests)."""
    token = bearer_token()
    if token:
        return token
    token = cookie_token()
    if token and request.method not in SAFE_METHODS:
        sent = request.headers.get(CSRF_HEADER, "")
        if not hmac.compare_digest(sent.encode(), csrf_token(token).encode()):
            raise ApiError(ErrorCode.FORBIDDEN, "Missing or wrong CSRF token: send the X-CSRF-Token header.")
    return token


# routes a must-change-password user may still call
MUST_CHANGE_ALLOWED = {"/api/auth/change-password", "/api/auth/session", "/api/auth/logout"}


async def current_principal() -> Principal:
    """The caller, or 401. Cached on `g` for the request."""
    cached = g.get("principal")
    if cached is not None:
        return cached
    services = current_app.lutra
    if not services.config.auth_enabled:
        g.principal = ANONYMOUS_ADMIN
        return ANONYMOUS_ADMIN
    token = request_token()
    if not token:
        raise ApiError(ErrorCode.AUTH_REQUIRED, "Authentication required: send 'Authorization: Bearer <token>'.")
    principal = await services.auth.resolve(token)
    if principal is None:
        raise ApiError(ErrorCode.AUTH_REQUIRED, "The session or API key is invalid or has expired.")
    if (
        principal.must_change_password
        and not services.config.skip_must_change_password
        and request.path not in MUST_CHANGE_ALLOWED
    ):
        raise ApiError(ErrorCode.MUST_CHANGE_PASSWORD, "You must change your password before continuing.")
    g.principal = principal
    return principal


def require(*permissions: str) -> Callable:
    """Route decorator: authenticate, then check every named permission (403 FORBIDDEN)."""

    def wrap(view: Callable) -> Callable:
        @functools.wraps(view)
        async def guarded(*args: Any, **kwargs: Any):
            principal = await current_principal()
            missing = [p for p in permissions if not principal.can(p)]
            if missing:
                raise ApiError(ErrorCode.FORBIDDEN, f"Missing permission: {', '.join(missing)}.")
            return await view(*args, **kwargs)

        guarded.required_permissions = permissions  # type: ignore[attr-defined]
        return guarded

    return wrap
