"""User administration: list, register, update role/team, reset password, delete (users:manage)."""

from __future__ import annotations

import time
import uuid

import trio
from pydantic import BaseModel, ConfigDict, Field, model_validator
from quart import Blueprint, current_app

from actors.store.repos import keys, roles, sessions, teams, users
from protocols.errors import ApiError, ErrorCode
from service import audit
from service.apidoc import ID_PARAM, doc, model_body, obj, ref
from service.auth import DEFAULT_TEAM_ID, USERNAME, current_principal, hash_password, require
from service.responses import json_body, json_response
from service.routes._identity import (
    check_can_grant,
    not_found,
    user_json,
    valid_id,
)
from service.routes.auth import MAX_PASSWORD, MIN_PASSWORD, parse

bp = Blueprint("users", __name__)
USER_BODY = obj({"user": ref("User")}, ("user",), allOf=[ref("User")])  # the user, also flattened


class RegisterBody(BaseModel):
    model_config = ConfigDict(populate_by_name=True, extra="forbid")
    username: str = Field(..., min_length=1, max_length=100, description="Login name (letters, digits, . _ @ + -)")
    password: str = Field(..., min_length=MIN_PASSWORD, max_length=MAX_PASSWORD, description="Initial password")
    role: str = Field("user", min_length=1, max_length=50, description="Role name (admin, editor, user or custom)")
    team_id: str | None = Field(None, alias="teamId", max_length=64, description="Team id (default team if absent)")
    team_name: str | None = Field(None, alias="teamName", max_length=100, description="Team name, instead of teamId")
    team: str | None = Field(None, max_length=100, description="Team name (alias of teamName)")
    must_change_password: bool = Field(False, alias="mustChangePassword",
                                       description="Ask for a new password at first login")


class UpdateUserBody(BaseModel):
    model_config = ConfigDict(populate_by_name=True, extra="forbid")
    role: str | None = Field(None, min_length=1, max_length=50, description="New role name")
    team_id: str | None = Field(None, alias="teamId", max_length=64, description="New team id")
    team_name: str | None = Field(None, alias="teamName", max_length=100, description="New team, by name")
    team: str | None = Field(None, max_length=100, description="New team, by name (alias of teamName)")
    disabled: bool | None = Field(None, description="Disable (true) or re-enable (false) the account")

    @model_validator(mode="after")
    def _something(self):
        if all(v is None for v in (self.role, self.team_id, self.team_name, self.team, self.disabled)):
            raise ValueError("nothing to update: send role, teamId/teamName or disabled")
        return self


class ResetPasswordBody(BaseModel):
    model_config = ConfigDict(populate_by_name=True)
    password: str | None = Field(None, min_length=MIN_PASSWORD, max_length=MAX_PASSWORD, description="New password")
    new_password: str | None = Field(None, alias="newPassword", min_length=MIN_PASSWORD, max_length=MAX_PASSWORD,
                                     description="New password (alias of password)")

    @model_validator(mode="after")
    def _one(self):
        if not (self.password or self.new_password):
            raise ValueError("send the new password as 'password' (or 'newPassword')")
        return self

    @property
    def value(self) -> str:
        return self.password or self.new_password or ""


def _resolve_team(conn, team_id, team_name):
    if team_id is None and team_name is None:
        return None
    row = teams.by_id(conn, team_id) if team_id is not None else teams.by_name(conn, team_name)
    if row is None:
        raise ApiError(ErrorCode.VALIDATION_ERROR, "No such team.", details=[{"path": "teamId", "message": "unknown team"}])
    return row


def _load_target(conn, principal, user_id: str):
    """The user to act on, if the caller may act on them: an account whose role holds permissions the
    caller lacks is out of reach (a partial user manager must not take over an admin)."""
    row = users.by_id(conn, user_id)
    if row is None:
        raise not_found("user")
    check_can_grant(principal, roles.permissions_of(conn, row.role) or [], "manage a user with")
    return row


@bp.get("/api/auth/users")
@doc("Users", "List all users",
     responses={200: obj({"users": {"type": "array", "items": ref("User")}},
                         ("users",))})
@require("users:manage")
async def list_users():
    def read(conn):
        names = teams.names(conn)
        perms = roles.permissions_by_name(conn)
        return [user_json(r, names, perms.get(r.role, perms.get("user", []))) for r in users.listing(conn)]

    return json_response({"users": await current_app.lutra.store.call(read)})


@bp.post("/api/auth/register")
@doc(
    "Users", "Create a user", "Nobody can grant permissions they do not hold (ESCALATION_DENIED).",
    body=RegisterBody, responses={201: USER_BODY}, errors=(400, 409))
@require("users:manage")
async def register():
    principal = await current_principal()
    body = parse(RegisterBody, await json_body())
    if not USERNAME.match(body.username):
        raise ApiError(ErrorCode.VALIDATION_ERROR, "Usernames use letters, digits and . _ @ + - only.",
                       details=[{"path": "username", "message": "invalid characters"}])
    password_hash = await trio.to_thread.run_sync(hash_password, body.password)
    now = time.time()

    def write(conn):
        perms = roles.permissions_of(conn, body.role)
        if perms is None:
            raise ApiError(ErrorCode.VALIDATION_ERROR, f"No such role: {body.role}.",
                           details=[{"path": "role", "message": "unknown role"}])
        check_can_grant(principal, perms)
        if users.name_taken(conn, body.username):
            raise ApiError(ErrorCode.CONFLICT, "That username is taken.")
        team = _resolve_team(conn, body.team_id, body.team_name or body.team)
        user_id = str(uuid.uuid4())
        users.create(conn, id=user_id, username=body.username, password_hash=password_hash, role=body.role,
                     team_id=team.id if team else DEFAULT_TEAM_ID, must_change_password=body.must_change_password,
                     disabled=False, created_at=now, updated_at=now)
        return user_json(users.by_id(conn, user_id), teams.names(conn), perms)

    user = await current_app.lutra.store.call(write)
    audit.record("USER_CREATED", target=user["username"],
                 details={"userId": user["id"], "role": user["role"], "teamId": user["teamId"]})
    return json_response({"user": user, **user}, 201)


@bp.put("/api/auth/users/<user_id>")
@doc(
    "Users", "Change a user's role, team or disabled flag",
    "The last admin cannot be demoted or disabled (LAST_ADMIN).",
    body=model_body(UpdateUserBody, minProperties=1),
    responses={200: USER_BODY}, errors=(400, 404, 409), params={"user_id": ID_PARAM})
@require("users:manage")
async def update_user(user_id: str):
    principal = await current_principal()
    valid_id(user_id, "user")
    body = parse(UpdateUserBody, await json_body())
    services = current_app.lutra

    def write(conn):
        row = _load_target(conn, principal, user_id)
        changes: dict = {}
        if body.role is not None and body.role != row.role:
            perms = roles.permissions_of(conn, body.role)
            if perms is None:
                raise ApiError(ErrorCode.VALIDATION_ERROR, f"No such role: {body.role}.",
                               details=[{"path": "role", "message": "unknown role"}])
            check_can_grant(principal, perms)
            changes["role"] = body.role
        team = _resolve_team(conn, body.team_id, body.team_name or body.team)
        if team is not None and team.id != row.team_id:
            changes["team_id"] = team.id
        if body.disabled is not None and body.disabled != bool(row.disabled):
            if body.disabled and row.id == principal.user_id:
                raise ApiError(ErrorCode.SELF_DELETE, "You cannot disable your own account.")
            changes["disabled"] = body.disabled
        losing_admin = row.role == "admin" and not row.disabled and (
            changes.get("role", "admin") != "admin" or changes.get("disabled", False))
        if losing_admin and users.active_admin_count(conn) <= 1:
            raise ApiError(ErrorCode.LAST_ADMIN, "This is the last admin: promote someone else first.")
        if changes:
            users.change(conn, user_id, **changes, updated_at=time.time())
            if changes.get("disabled"):
                sessions.end_all(conn, user_id)
        new = users.by_id(conn, user_id)
        return user_json(new, teams.names(conn), roles.permissions_of(conn, new.role)), changes, row

    user, changes, before = await services.store.call(write)
    services.auth.forget_user(user_id)
    if changes:
        details = {"userId": user_id}
        if "role" in changes:
            details.update(fromRole=before.role, toRole=changes["role"])
        if "team_id" in changes:
            details.update(fromTeamId=before.team_id, toTeamId=changes["team_id"])
        if "disabled" in changes:
            details["disabled"] = changes["disabled"]
        audit.record("USER_UPDATED", target=user["username"], details=details)
    return json_response({"user": user, **user})


@bp.post("/api/auth/users/<user_id>/reset-password")
@doc(
    "Users", "Reset a user's password",
    "Ends all their sessions, deletes their API keys and sets must-change-password.",
    body=ResetPasswordBody, responses={200: ref("Ok")}, errors=(400, 404),
    params={"user_id": ID_PARAM})
@require("users:manage")
async def reset_password(user_id: str):
    principal = await current_principal()
    valid_id(user_id, "user")
    body = parse(ResetPasswordBody, await json_body())
    services = current_app.lutra
    password_hash = await trio.to_thread.run_sync(hash_password, body.value)

    def write(conn):
        row = _load_target(conn, principal, user_id)
        users.change(conn, user_id, password_hash=password_hash, must_change_password=True, updated_at=time.time())
        sessions.end_all(conn, user_id)
        return row, keys.revoke_all(conn, user_id)

    row, revoked = await services.store.call(write)
    services.auth.forget_user(user_id)
    audit.record("PASSWORD_RESET", target=row.username, details={"userId": user_id, "apiKeysRevoked": revoked})
    return json_response({"ok": True})


@bp.delete("/api/auth/users/<user_id>")
@doc(
    "Users", "Delete a user", "Nobody deletes themselves (SELF_DELETE); the last admin stays (LAST_ADMIN).",
    responses={200: ref("Ok")}, errors=(404, 409), params={"user_id": ID_PARAM})
@require("users:manage")
async def delete_user(user_id: str):
    principal = await current_principal()
    valid_id(user_id, "user")
    services = current_app.lutra
    if user_id == principal.user_id:
        raise ApiError(ErrorCode.SELF_DELETE, "You cannot delete your own account.")

    def write(conn):
        row = _load_target(conn, principal, user_id)
        if row.role == "admin" and not row.disabled and users.active_admin_count(conn) <= 1:
            raise ApiError(ErrorCode.LAST_ADMIN, "This is the last admin and cannot be deleted.")
        users.delete_with_credentials(conn, user_id)
        return row

    row = await services.store.call(write)
    services.auth.forget_user(user_id)
    audit.record("USER_DELETED", target=row.username, details={"userId": user_id, "role": row.role})
    return json_response({"ok": True})
