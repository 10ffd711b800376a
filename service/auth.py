"""Who is calling: bearer session tokens (and, through `KeyVerifier`, API keys), passwords hashed with
argon2, sessions stored as sha256 of the token and expiring. `require` guards a route."""

from __future__ import annotations

import functools
import hashlib
import secrets
import time
import uuid
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import trio
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from quart import current_app, g, request
from sqlalchemy import delete, insert, select

from actors.store import schema
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

    def can(self, permission: str) -> bool:
        return permission in self.permissions

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"

    def user_json(self) -> dict[str, Any]:
        return {
            "id": self.user_id,
            "username": self.username,
            "role": self.role,
            "mustChangePassword": self.must_change_password,
            "permissions": sorted(self.permissions),
            "teamName": self.team_name,
        }


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


class Authenticator:
    """Resolves bearer credentials to a Principal. Verified sessions are cached for a few seconds and
    dropped at once on logout or any change to the user (`forget_user`)."""

    CACHE_TTL_S = 10.0

    def __init__(self, store, config) -> None:
        self.store = store
        self.config = config
        self._cache: OrderedDict[str, tuple[float, Principal]] = OrderedDict()
        # API keys plug in here (the identity module sets it): token -> Principal | None
        self.key_verifier: Callable[[str], Awaitable[Principal | None]] | None = None

    def forget_user(self, user_id: str | None = None) -> None:
        if user_id is None:
            self._cache.clear()
            return
        for key in [k for k, (_, p) in self._cache.items() if p.user_id == user_id]:
            self._cache.pop(key, None)

    def forget_token(self, token: str) -> None:
        self._cache.pop(token_hash(token), None)

    async def resolve(self, token: str) -> Principal | None:
        digest = token_hash(token)
        hit = self._cache.get(digest)
        now = time.time()
        if hit is not None and hit[0] > now:
            return hit[1]
        if token.startswith("si_"):
            if self.key_verifier is None:
                return None
            principal = await self.key_verifier(token)
        else:
            principal = await self.store.call(_load_session_principal, digest, now)
        if principal is not None:
            self._cache[digest] = (now + self.CACHE_TTL_S, principal)
            if len(self._cache) > 10000:
                self._cache.popitem(last=False)
        return principal

    async def login(self, username: str, password: str, ip: str | None, user_agent: str | None) -> tuple[str, float, Principal]:
        row = await self.store.call(_load_user_by_name, username)
        # verify off the event loop: argon2 takes tens of ms; same cost for unknown users
        ok = await trio.to_thread.run_sync(verify_password, row.password_hash if row else None, password)
        if not ok or row is None:
            raise ApiError(ErrorCode.AUTH_REQUIRED, "Invalid username or password.")
        if row.disabled:
            raise ApiError(ErrorCode.USER_DISABLED, "This account is disabled.")
        token = secrets.token_urlsafe(32)
        expires = time.time() + self.config.session_duration_hours * 3600
        await self.store.call(_insert_session, str(uuid.uuid4()), token_hash(token), row.id, expires, ip, user_agent)
        principal = await self.resolve(token)
        assert principal is not None
        return token, expires, principal

    async def logout(self, token: str) -> None:
        self.forget_token(token)
        await self.store.call(lambda conn: conn.execute(delete(schema.sessions).where(
            schema.sessions.c.token_hash == token_hash(token))))

    async def seed(self) -> None:
        """First start: built-in roles, the default team and the default admin."""
        await self.store.call(_seed, self.config.default_username, hash_password(self.config.default_password))


def _role_permissions(conn, role_name: str) -> frozenset[str]:
    row = conn.execute(select(schema.roles.c.permissions).where(schema.roles.c.name == role_name)).first()
    if row is None:
        row = conn.execute(select(schema.roles.c.permissions).where(schema.roles.c.name == "user")).first()
    return frozenset(row.permissions if row else ())


def principal_for_user(conn, user, **kwargs: Any) -> Principal:
    team = None
    if user.team_id:
        team = conn.execute(select(schema.teams.c.name).where(schema.teams.c.id == user.team_id)).scalar()
    return Principal(
        user.id, user.username, user.role, _role_permissions(conn, user.role), team,
        bool(user.must_change_password), **kwargs,
    )


def _load_session_principal(conn, digest: str, now: float) -> Principal | None:
    row = conn.execute(
        select(schema.sessions.c.id, schema.sessions.c.expires_at, schema.users)
        .join(schema.users, schema.users.c.id == schema.sessions.c.user_id)
        .where(schema.sessions.c.token_hash == digest)
    ).first()
    if row is None:
        return None
    if row.expires_at <= now:
        conn.execute(delete(schema.sessions).where(schema.sessions.c.token_hash == digest))
        return None
    if row.disabled:
        return None
    return principal_for_user(conn, row, session_id=row[0])


def _load_user_by_name(conn, username: str):
    return conn.execute(select(schema.users).where(schema.users.c.username == username)).first()


def _insert_session(conn, session_id, digest, user_id, expires, ip, user_agent) -> None:
    conn.execute(insert(schema.sessions).values(
        id=session_id, token_hash=digest, user_id=user_id, created_at=time.time(), expires_at=expires, ip=ip,
        user_agent=(user_agent or "")[:500],
    ))


def _seed(conn, username: str, password_hash: str) -> None:
    now = time.time()
    existing = {r.name for r in conn.execute(select(schema.roles.c.name))}
    for name, (description, perms) in BUILTIN_ROLES.items():
        if name not in existing:
            conn.execute(insert(schema.roles).values(
                id=name, name=name, description=description, permissions=list(perms), builtin=True,
                created_at=now, updated_at=now,
            ))
    team_id = conn.execute(select(schema.teams.c.id).where(schema.teams.c.name == DEFAULT_TEAM)).scalar()
    if team_id is None:
        team_id = "default"
        conn.execute(insert(schema.teams).values(id=team_id, name=DEFAULT_TEAM, created_at=now))
    if conn.execute(select(schema.users.c.id).limit(1)).first() is None:
        conn.execute(insert(schema.users).values(
            id=str(uuid.uuid4()), username=username, password_hash=password_hash, role="admin", team_id=team_id,
            must_change_password=True, disabled=False, created_at=now, updated_at=now,
        ))


# ---- request-side helpers --------------------------------------------------------------------

def bearer_token() -> str | None:
    header = request.headers.get("Authorization", "")
    if header[:7].lower() == "bearer ":
        return header[7:].strip() or None
    return request.headers.get("X-API-Key") or None


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
    token = bearer_token()
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
