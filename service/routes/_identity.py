"""Helpers shared by the identity routes (users, keys, roles, teams)."""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from protocols.errors import ApiError, ErrorCode
from service.auth import Principal, iso_time
from service.permissions import PERMISSIONS

ROLE_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,49}$")
ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


def not_found(what: str) -> ApiError:
    return ApiError(ErrorCode.NOT_FOUND, f"No such {what}.")


def valid_id(value: str, what: str) -> str:
    if not ID.match(value):
        raise not_found(what)
    return value


def check_permissions_known(permissions: Iterable[str]) -> list[str]:
    perms = list(dict.fromkeys(permissions))
    unknown = [p for p in perms if p not in PERMISSIONS]
    if unknown:
        raise ApiError(ErrorCode.VALIDATION_ERROR, f"Unknown permission: {', '.join(unknown)}.",
                       details=[{"path": "permissions", "message": f"unknown: {', '.join(unknown)}"}])
    return sorted(perms, key=PERMISSIONS.index)


def check_can_grant(principal: Principal, permissions: Iterable[str], what: str = "grant") -> None:
    """Nobody hands out (or takes away from others) a permission they do not hold."""
    missing = sorted(set(permissions) - set(principal.permissions))
    if missing:
        raise ApiError(ErrorCode.ESCALATION_DENIED,
                       f"You cannot {what} permissions you do not hold: {', '.join(missing)}.")


def user_json(row, teams: dict[str, str], permissions: list[str] | None = None) -> dict[str, Any]:
    out = {
        "id": row.id,
        "username": row.username,
        "role": row.role,
        "teamId": row.team_id,
        "teamName": teams.get(row.team_id) if row.team_id else None,
        "mustChangePassword": bool(row.must_change_password),
        "disabled": bool(row.disabled),
        "createdAt": iso_time(row.created_at),
        "updatedAt": iso_time(row.updated_at),
    }
    if permissions is not None:
        out["permissions"] = permissions
    return out
