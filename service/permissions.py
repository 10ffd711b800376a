"""The 17 permissions and the built-in roles."""

from __future__ import annotations

PERMISSIONS: tuple[str, ...] = (
    "tools:use", "files:own", "files:all", "apikeys:own", "apikeys:all", "pipelines:own", "pipelines:all",
    "settings:read", "settings:write", "users:manage", "teams:manage", "features:manage", "system:health",
    "audit:read", "compliance:manage", "webhooks:manage", "security:manage",
)

BUILTIN_ROLES: dict[str, tuple[str, tuple[str, ...]]] = {
    "admin": ("Full access", PERMISSIONS),
    "editor": (
        "Tools, everyone's files and pipelines",
        ("tools:use", "files:own", "files:all", "apikeys:own", "pipelines:own", "pipelines:all", "settings:read"),
    ),
    "user": ("Tools and own files", ("tools:use", "files:own", "apikeys:own", "pipelines:own", "settings:read")),
}

DEFAULT_TEAM = "Default"
