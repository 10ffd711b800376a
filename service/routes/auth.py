"""Login, logout, session and change-password."""

from __future__ import annotations

import time

from pydantic import BaseModel, Field, ValidationError
from quart import Blueprint, current_app, request
from sqlalchemy import delete, select, update

from actors.store import schema
from protocols.errors import ApiError, ErrorCode
from service.auth import bearer_token, current_principal, hash_password, require, verify_password
from service.responses import json_body, json_response

bp = Blueprint("auth", __name__)


class LoginBody(BaseModel):
    username: str = Field(..., min_length=1, max_length=100)
    password: str = Field(..., min_length=1, max_length=1024)


class ChangePasswordBody(BaseModel):
    current_password: str = Field(..., alias="currentPassword", min_length=1, max_length=1024)
    new_password: str = Field(..., alias="newPassword", min_length=8, max_length=1024)


def parse(model, data):
    try:
        return model.model_validate(data)
    except ValidationError as err:
        details = [{"path": ".".join(str(p) for p in e["loc"]), "message": e["msg"]}
                   for e in err.errors(include_url=False, include_input=False, include_context=False)]
        raise ApiError(ErrorCode.VALIDATION_ERROR, f"Invalid body: {details[0]['path']}: {details[0]['message']}",
                       details=details) from None


def client_ip() -> str:
    return request.remote_addr or "unknown"


@bp.post("/api/auth/login")
async def login():
    body = parse(LoginBody, await json_body())
    services = current_app.lutra
    token, expires, principal = await services.auth.login(
        body.username, body.password, client_ip(), request.headers.get("User-Agent"))
    return json_response({"token": token, "user": principal.user_json(),
                          "expiresAt": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(expires))})


@bp.post("/api/auth/logout")
@require()
async def logout():
    token = bearer_token()
    if token and not token.startswith("si_"):
        await current_app.lutra.auth.logout(token)
    return json_response({"ok": True})


@bp.get("/api/auth/session")
@require()
async def session():
    principal = await current_principal()
    return json_response({"user": principal.user_json(), "authEnabled": current_app.lutra.config.auth_enabled})


@bp.post("/api/auth/change-password")
@require()
async def change_password():
    principal = await current_principal()
    body = parse(ChangePasswordBody, await json_body())
    services = current_app.lutra
    if principal.user_id is None:
        raise ApiError(ErrorCode.VALIDATION_ERROR, "Authentication is disabled; there is no account to change.")
    row = await services.store.call(
        lambda conn: conn.execute(select(schema.users.c.password_hash).where(schema.users.c.id == principal.user_id)).first())
    import trio

    if row is None or not await trio.to_thread.run_sync(verify_password, row.password_hash, body.current_password):
        raise ApiError(ErrorCode.AUTH_REQUIRED, "The current password is wrong.")
    if body.new_password == body.current_password:
        raise ApiError(ErrorCode.VALIDATION_ERROR, "The new password must differ from the current one.")
    new_hash = await trio.to_thread.run_sync(hash_password, body.new_password)

    def write(conn):
        conn.execute(update(schema.users).where(schema.users.c.id == principal.user_id).values(
            password_hash=new_hash, must_change_password=False, updated_at=time.time()))
        # other sessions and every API key die with the old password
        conn.execute(delete(schema.sessions).where(
            schema.sessions.c.user_id == principal.user_id, schema.sessions.c.id != principal.session_id))
        conn.execute(delete(schema.api_keys).where(schema.api_keys.c.user_id == principal.user_id))

    await services.store.call(write)
    services.auth.forget_user(principal.user_id)
    return json_response({"ok": True})
