"""The audit log: `record(action, target=..., details=...)` from any route.

Entries are written behind (the store's queue), so recording never slows a request; readers call
`services.store.flush()` first. Secrets never enter an entry: detail keys that look like one are dropped."""

from __future__ import annotations

import logging
import time
from typing import Any

from quart import current_app, g, has_request_context, request

from actors.store.repos import audit as audit_entries

log = logging.getLogger("lutra.audit")

ACTIONS = (
    "LOGIN_SUCCESS", "LOGIN_FAILED", "LOGOUT", "PASSWORD_CHANGED", "PASSWORD_RESET", "USER_CREATED",
    "USER_UPDATED", "USER_DELETED", "API_KEY_CREATED", "API_KEY_DELETED", "ROLE_CREATED", "ROLE_UPDATED",
    "ROLE_DELETED", "TEAM_CREATED", "TEAM_UPDATED", "TEAM_DELETED", "SETTINGS_UPDATED", "FILE_UPLOADED",
    "FILE_DELETED", "FEATURE_INSTALLED", "FEATURE_UNINSTALLED", "TOOL_EXECUTED",
)

_SECRET_WORDS = ("password", "passwd", "secret", "token", "hash", "credential")
_SECRET_NAMES = frozenset({"key", "apikey", "api_key", "rawkey", "raw_key", "authorization"})


def _is_secret(name: str) -> bool:
    lowered = name.lower().replace("-", "_")
    return lowered in _SECRET_NAMES or any(word in lowered for word in _SECRET_WORDS)


def scrub(value: Any) -> Any:
    """Drop secret-looking keys, recursively; API-key-looking strings are masked."""
    if isinstance(value, dict):
        return {k: scrub(v) for k, v in value.items() if not _is_secret(str(k))}
    if isinstance(value, (list, tuple)):
        return [scrub(v) for v in value]
    if isinstance(value, str) and value.startswith("si_") and len(value) > 12:
        return "si_***"
    return value


def record(action: str, target: str | None = None, details: dict[str, Any] | None = None, *,
           principal: Any = None, ip: str | None = None, services: Any = None) -> None:
    """Queue one entry. Actor and IP default to the current request's caller."""
    services = services or current_app.lutra
    if principal is None and has_request_context():
        principal = g.get("principal")
    if ip is None and has_request_context():
        ip = request.remote_addr
    values = {
        "at": time.time(),
        "action": action,
        "actor_id": getattr(principal, "user_id", None),
        "actor_name": getattr(principal, "username", None),
        "target": None if target is None else str(target)[:500],
        "ip": (ip or None) and ip[:64],
        "details": scrub(details) if details else None,
    }
    if getattr(principal, "api_key_id", None):
        values["details"] = {**(values["details"] or {}), "apiKeyId": principal.api_key_id}
    try:
        services.store.post(audit_entries.RECORD, values)
    except Exception:  # the audit trail must never break the action it records
        log.exception("audit: could not queue %s", action)
