"""Roles: the built-in admin, editor and user (unchangeable) and custom roles made of the 17 permissions."""

from __future__ import annotations

import time
import uuid

from pydantic import BaseModel, ConfigDict, Field, model_validator
from quart import Blueprint, current_app

from actors.store.repos import roles
from protocols.errors import ApiError, ErrorCode
from service import audit
from service.apidoc import BOOL, ID_PARAM, INT, STR, doc, model_body, obj, ref
from service.auth import current_principal, iso_time, require
from service.permissions import PERMISSIONS
from service.responses import json_body, json_response
from service.routes._identity import ROLE_NAME, check_can_grant, check_permissions_known, not_found, valid_id
from service.routes.auth import parse

bp = Blueprint("roles", __name__)
ROLE_BODY = obj({"role": ref("Role")}, ("role",), allOf=[ref("Role")])  # the role, also flattened


class RoleBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(..., min_length=1, max_length=50, description="Role name: lower-case letters, digits, _ and -")
    description: str = Field("", max_length=500, description="What the role is for")
    permissions: list[str] = Field(..., max_length=len(PERMISSIONS), description="Permissions the role grants")


class RoleUpdateBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str | None = Field(None, min_length=1, max_length=50, description="New name")
    description: str | None = Field(None, max_length=500, description="New description")
    permissions: list[str] | None = Field(None, max_length=len(PERMISSIONS), description="New permission list")

    @model_validator(mode="after")
    def _something(self):
        if self.name is None and self.description is None and self.permissions is None:
            raise ValueError("nothing to update: send name, description or permissions")
        return self


def _check_name(name: str) -> str:
    if not ROLE_NAME.match(name):
        raise ApiError(ErrorCode.VALIDATION_ERROR, "Role names use lower-case letters, digits, _ and - only.",
                       details=[{"path": "name", "message": "invalid characters"}])
    return name


def role_json(row, user_count: int) -> dict:
    return {
        "id": row.id, "name": row.name, "description": row.description or "",
        "permissions": list(row.permissions), "builtin": bool(row.builtin), "isBuiltin": bool(row.builtin),
        "userCount": user_count, "createdAt": iso_time(row.created_at), "updatedAt": iso_time(row.updated_at),
    }


def _load_custom(conn, principal, role_id: str):
    row = roles.by_id(conn, role_id)
    if row is None:
        raise not_found("role")
    if row.builtin:
        raise ApiError(ErrorCode.FORBIDDEN, f"The built-in role '{row.name}' cannot be changed or deleted.")
    check_can_grant(principal, row.permissions, "change a role with")
    return row


@bp.get("/api/v1/roles")
@doc(
    "Roles", "List roles with their user counts",
    responses={200: obj({"roles": {"type": "array", "items": ref("Role")},
                         "permissions": {"type": "array", "items": STR}}, ("roles",))})
@require("audit:read")
async def list_roles():
    def read(conn):
        counts = roles.user_counts(conn)
        return [role_json(r, counts.get(r.name, 0)) for r in roles.listing(conn)]

    return json_response({"roles": await current_app.lutra.store.call(read), "permissions": list(PERMISSIONS)})


@bp.post("/api/v1/roles")
@doc("Roles", "Create a custom role", f"Permissions: {', '.join(PERMISSIONS)}.",
     body=RoleBody, responses={201: ROLE_BODY}, errors=(400, 409))
@require("users:manage")
async def create_role():
    principal = await current_principal()
    body = parse(RoleBody, await json_body())
    name = _check_name(body.name)
    perms = check_permissions_known(body.permissions)
    check_can_grant(principal, perms)
    now = time.time()

    def write(conn):
        if roles.name_taken(conn, name):
            raise ApiError(ErrorCode.CONFLICT, f"A role named '{name}' already exists.")
        role_id = str(uuid.uuid4())
        roles.create(conn, id=role_id, name=name, description=body.description, permissions=perms, builtin=False,
                     created_at=now, updated_at=now)
        return role_json(roles.by_id(conn, role_id), 0)

    role = await current_app.lutra.store.call(write)
    audit.record("ROLE_CREATED", target=name, details={"roleId": role["id"], "permissions": perms})
    return json_response({"role": role, **role}, 201)


@bp.put("/api/v1/roles/<role_id>")
@doc(
    "Roles", "Update a custom role", "Built-in roles cannot be changed.",
    body=model_body(RoleUpdateBody, minProperties=1), responses={200: ROLE_BODY},
    errors=(400, 404, 409), params={"role_id": ID_PARAM})
@require("users:manage")
async def update_role(role_id: str):
    principal = await current_principal()
    valid_id(role_id, "role")
    body = parse(RoleUpdateBody, await json_body())
    name = _check_name(body.name) if body.name is not None else None
    perms = check_permissions_known(body.permissions) if body.permissions is not None else None
    if perms is not None:
        check_can_grant(principal, perms)
    services = current_app.lutra

    def write(conn):
        row = _load_custom(conn, principal, role_id)
        changes: dict = {}
        if name is not None and name != row.name:
            if roles.name_taken(conn, name, except_id=role_id):
                raise ApiError(ErrorCode.CONFLICT, f"A role named '{name}' already exists.")
            roles.rename(conn, row.name, name)
        if body.description is not None:
            changes["description"] = body.description
        if perms is not None:
            changes["permissions"] = perms
        roles.change(conn, role_id, **changes, updated_at=time.time())
        new = roles.by_id(conn, role_id)
        return role_json(new, roles.user_counts(conn).get(new.name, 0)), row

    role, before = await services.store.call(write)
    services.auth.forget_user()  # every member's cached permissions are stale
    details = {"roleId": role_id}
    if role["name"] != before.name:
        details.update(fromName=before.name)
    if list(before.permissions) != role["permissions"]:
        details.update(fromPermissions=list(before.permissions), toPermissions=role["permissions"])
    audit.record("ROLE_UPDATED", target=role["name"], details=details)
    return json_response({"role": role, **role})


@bp.delete("/api/v1/roles/<role_id>")
@doc(
    "Roles", "Delete a custom role", "Its users move to the `user` role.",
    responses={200: obj({"ok": BOOL, "usersMoved": INT}, ("ok",))}, errors=(404,),
    params={"role_id": ID_PARAM})
@require("users:manage")
async def delete_role(role_id: str):
    principal = await current_principal()
    valid_id(role_id, "role")
    services = current_app.lutra

    def write(conn):
        row = _load_custom(conn, principal, role_id)
        return row, roles.delete_moving_users(conn, role_id, row.name, "user", time.time())

    row, moved = await services.store.call(write)
    services.auth.forget_user()
    audit.record("ROLE_DELETED", target=row.name, details={"roleId": role_id, "usersMovedToUser": moved})
    return json_response({"ok": True, "usersMoved": moved})
