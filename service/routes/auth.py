"""Login, logout, session and change-password."""

from __future__ import annotations

import time

import trio
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from quart import Blueprint, current_app, request

from actors.store.repos import keys, sessions, users
from protocols.errors import ApiError, ErrorCode
from service import audit, ratelimit
from service.apidoc import BOOL, STR, TIME, doc, nullable, obj, ref
from service.auth import (
    SESSION_COOKIE,
    bearer_token,
    cookie_token,
    current_principal,
    hash_password,
    is_api_key,
    iso_time,
    require,
    verify_password,
)
from service.responses import json_body, json_response

bp = Blueprint("auth", __name__)
bp.before_app_request(ratelimit.limit_request)

MIN_PASSWORD = 8
MAX_PASSWORD = 1024


class LoginBody(BaseModel):
    username: str = Field(..., min_length=1, max_length=100)
    password: str = Field(..., min_length=1, max_length=MAX_PASSWORD)
    cookie: bool = Field(False, description="Browser sign-in: the session goes into an HttpOnly SameSite=Strict "
                                            "cookie instead of the response body")


class ChangePasswordBody(BaseModel):
    model_config = ConfigDict(populate_by_name=True)
    current_password: str = Field(..., alias="currentPassword", min_length=1, max_length=MAX_PASSWORD)
    new_password: str = Field(..., alias="newPassword", min_length=MIN_PASSWORD, max_length=MAX_PASSWORD)


def parse(model, data):
    """Validate a JSON body with a pydantic model; 400 VALIDATION_ERROR with details. Inputs are never
    echoed back (they may be passwords)."""
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
@doc(
    "Auth", "Log in; returns a session token",
    "Send `Authorization: Bearer <token>` afterwards. Failures are throttled per username and per IP "
    "(`loginAttemptLimit`, 429 LOGIN_THROTTLED with Retry-After).",
    body=LoginBody, responses={200: obj({"token": STR, "user": ref("SessionUser"), "expiresAt": nullable(TIME)},
                                         ("token", "user", "expiresAt"))},
    errors=(400, 401, 403))
async def login():
    body = parse(LoginBody, await json_body())
    services = current_app.lutra
    ip = client_ip()
    throttle = services.auth.login_throttle
    throttle.check(body.username, ip, int(services.settings.get("loginAttemptLimit", 10) or 0))
    try:
        token, expires, principal = await services.auth.login(
            body.username, body.password, ip, request.headers.get("User-Agent"))
    except ApiError as err:
        if err.code is ErrorCode.AUTH_REQUIRED:
            throttle.failed(body.username, ip)
            audit.record("LOGIN_FAILED", target=body.username, ip=ip)
        else:
            audit.record("LOGIN_FAILED", target=body.username, ip=ip, details={"reason": err.code.value})
        raise
    throttle.succeeded(body.username)
    audit.record("LOGIN_SUCCESS", target=principal.username, principal=principal, ip=ip)
    if body.cookie:  # the page's script never sees the token
        response = json_response({"user": principal.user_json(), "expiresAt": iso_time(expires)})
        set_session_cookie(response, token, max(0, int(expires - time.time())))
        return response
    return json_response({"token": token, "user": principal.user_json(), "expiresAt": iso_time(expires)})


def set_session_cookie(response, token: str, max_age: int) -> None:
    response.set_cookie(SESSION_COOKIE, token, max_age=max_age, path="/", httponly=True, samesite="Strict",
                        secure=request.scheme == "https")


@bp.post("/api/auth/logout")
@doc("Auth", "Destroy the current session", responses={200: ref("Ok")})
@require()
async def logout():
    token = bearer_token() or cookie_token()
    if token and not is_api_key(token):
        await current_app.lutra.auth.logout(token)
    audit.record("LOGOUT")
    response = json_response({"ok": True})
    if cookie_token():
        set_session_cookie(response, "", 0)
    return response


@bp.get("/api/auth/session")
@doc(
    "Auth", "Validate the current session",
    responses={200: obj({"user": ref("SessionUser"), "authEnabled": BOOL, "expiresAt": nullable(TIME)},
                        ("user", "authEnabled"))})
@require()
async def session():
    principal = await current_principal()
    return json_response({"user": principal.user_json(), "authEnabled": current_app.lutra.config.auth_enabled,
                          "expiresAt": iso_time(principal.expires_at)})


@bp.post("/api/auth/change-password")
@doc(
    "Auth", "Change your own password",
    "Ends your other sessions and deletes all your API keys.",
    body=ChangePasswordBody, responses={200: ref("Ok")}, errors=(400,))
@require()
async def change_password():
    principal = await current_principal()
    body = parse(ChangePasswordBody, await json_body())
    services = current_app.lutra
    if principal.user_id is None:
        raise ApiError(ErrorCode.VALIDATION_ERROR, "Authentication is disabled; there is no account to change.")
    ip = client_ip()
    throttle = services.auth.login_throttle
    # guessing the current password from a stolen session counts like failed logins
    throttle.check(principal.username, None, int(services.settings.get("loginAttemptLimit", 10) or 0))
    row = await services.store.call(users.by_id, principal.user_id)
    if row is None or not await trio.to_thread.run_sync(verify_password, row.password_hash, body.current_password):
        throttle.failed(principal.username, None)
        raise ApiError(ErrorCode.VALIDATION_ERROR, "The current password is wrong.")
    if body.new_password == body.current_password:
        raise ApiError(ErrorCode.VALIDATION_ERROR, "The new password must differ from the current one.")
    new_hash = await trio.to_thread.run_sync(hash_password, body.new_password)

    def write(conn):
        users.change(conn, principal.user_id, password_hash=new_hash, must_change_password=False,
                     updated_at=time.time())
        # other sessions and every API key die with the old password
        sessions.end_all(conn, principal.user_id, keep=principal.session_id)
        return keys.revoke_all(conn, principal.user_id)

    keys_revoked = await services.store.call(write)
    services.auth.forget_user(principal.user_id)
    audit.record("PASSWORD_CHANGED", target=principal.username, details={"apiKeysRevoked": keys_revoked}, ip=ip)
    return json_response({"ok": True})
