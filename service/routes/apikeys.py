"""API keys: create (shown once), list (never the key), delete. Keys act for their owner, never with more
than the owner holds, optionally scoped to fewer permissions and given an expiry."""

from __future__ import annotations

import time
import uuid

import trio
from pydantic import BaseModel, ConfigDict, Field, field_validator
from quart import Blueprint, current_app, request

from actors.store.repos import keys
from protocols.errors import ApiError, ErrorCode
from service import audit
from service.apidoc import ID_PARAM, doc, obj, q, ref
from service.auth import (
    ApiKeyVerifier,
    current_principal,
    hash_api_key,
    iso_time,
    key_lookup_prefix,
    new_api_key,
    parse_iso_time,
    require,
)
from service.responses import json_body, json_response
from service.routes._identity import check_can_grant, check_permissions_known, not_found, valid_id
from service.routes.auth import parse

bp = Blueprint("apikeys", __name__)

MAX_KEYS_PER_USER = 100
MAX_LIFETIME_DAYS = 3650


async def on_startup(app, services) -> None:
    services.auth.key_verifier = ApiKeyVerifier(services.store)


class CreateKeyBody(BaseModel):
    model_config = ConfigDict(populate_by_name=True, extra="forbid")
    name: str = Field(..., min_length=1, max_length=100, description="A label for the key (e.g. the script using it)")
    permissions: list[str] | None = Field(
        None, max_length=17, description="Limit the key to these permissions (never more than the owner holds); "
                                         "absent = the owner's permissions")
    expires_at: str | None = Field(None, alias="expiresAt", max_length=40,
                                   description="ISO 8601 date-time after which the key stops working")
    expires_in_days: float | None = Field(None, alias="expiresInDays", gt=0, le=MAX_LIFETIME_DAYS,
                                          description="Lifetime in days, instead of expiresAt")

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        value = value.strip()
        if not value or any(ord(c) < 32 for c in value):
            raise ValueError("name must be printable text")
        return value


def key_json(row, owner: str | None = None) -> dict:
    out = {
        "id": row.id,
        "name": row.name,
        "permissions": row.permissions,
        "createdAt": iso_time(row.created_at),
        "expiresAt": iso_time(row.expires_at),
        "lastUsedAt": iso_time(row.last_used_at),
        "expired": row.expires_at is not None and row.expires_at <= time.time(),
        "userId": row.user_id,
    }
    if owner is not None:
        out["username"] = owner
    return out


@bp.post("/api/v1/api-keys")
@doc(
    "API keys", "Create an API key (the key is shown once)",
    "Use it as `Authorization: Bearer si_...` (or `X-API-Key: si_...`). A key never holds more than its "
    "owner; `permissions` narrows it.",
    body=CreateKeyBody, responses={201: ref("ApiKeyCreated")}, errors=(400, 409))
@require("apikeys:own")
async def create_key():
    principal = await current_principal()
    if principal.user_id is None:
        raise ApiError(ErrorCode.VALIDATION_ERROR, "Authentication is disabled; API keys are not needed.")
    body = parse(CreateKeyBody, await json_body())
    now = time.time()
    expires_at = None
    if body.expires_at is not None and body.expires_in_days is not None:
        raise ApiError(ErrorCode.VALIDATION_ERROR, "Send expiresAt or expiresInDays, not both.")
    if body.expires_at is not None:
        try:
            expires_at = parse_iso_time(body.expires_at)
        except ValueError:
            raise ApiError(ErrorCode.VALIDATION_ERROR, "expiresAt must be an ISO 8601 date-time.",
                           details=[{"path": "expiresAt", "message": "not an ISO 8601 date-time"}]) from None
        if expires_at <= now:
            raise ApiError(ErrorCode.VALIDATION_ERROR, "expiresAt must be in the future.",
                           details=[{"path": "expiresAt", "message": "in the past"}])
        if expires_at > now + MAX_LIFETIME_DAYS * 86400:
            raise ApiError(ErrorCode.VALIDATION_ERROR, "expiresAt is too far in the future.")
    elif body.expires_in_days is not None:
        expires_at = now + body.expires_in_days * 86400
    if body.permissions is not None:
        scope = check_permissions_known(body.permissions)
        check_can_grant(principal, scope)
    elif principal.api_key_id is not None:
        # a key made by a scoped key stays within that scope
        scope = check_permissions_known(principal.permissions)
    else:
        scope = None
    key = new_api_key()
    key_hash = await trio.to_thread.run_sync(hash_api_key, key)
    key_id = str(uuid.uuid4())

    def write(conn):
        if keys.count_of(conn, principal.user_id) >= MAX_KEYS_PER_USER:
            raise ApiError(ErrorCode.CONFLICT, f"You already have {MAX_KEYS_PER_USER} API keys; delete some first.")
        keys.create(conn, id=key_id, user_id=principal.user_id, name=body.name, prefix=key_lookup_prefix(key),
                    key_hash=key_hash, permissions=scope, created_at=now, expires_at=expires_at, last_used_at=None)

    await current_app.lutra.store.call(write)
    audit.record("API_KEY_CREATED", target=body.name,
                 details={"apiKeyId": key_id, "permissions": scope, "expiresAt": iso_time(expires_at)})
    response = json_response({"id": key_id, "key": key, "name": body.name, "permissions": scope,
                              "expiresAt": iso_time(expires_at), "createdAt": iso_time(now)}, 201)
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/api/v1/api-keys")
@doc(
    "API keys", "List API keys (never the key itself)",
    "Your keys; everyone's with apikeys:all unless `mine=true`.",
    query=[q("mine", {"type": "string", "enum": ["true", "false", "1", "0"]}, "Only your own keys")],
    responses={200: obj({"apiKeys": {"type": "array", "items": ref("ApiKey")}}, ("apiKeys",))})
@require("apikeys:own")
async def list_keys():
    principal = await current_principal()
    see_all = principal.can("apikeys:all") and request.args.get("mine", "").lower() not in ("1", "true")

    rows = await current_app.lutra.store.call(keys.listing, None if see_all else principal.user_id)
    return json_response({"apiKeys": [key_json(r, r.username) for r in rows]})


@bp.delete("/api/v1/api-keys/<key_id>")
@doc("API keys", "Delete an API key", responses={200: ref("Ok")},
      errors=(404,), params={"key_id": ID_PARAM})
@require("apikeys:own")
async def delete_key(key_id: str):
    principal = await current_principal()
    valid_id(key_id, "API key")
    services = current_app.lutra

    def write(conn):
        row = keys.by_id(conn, key_id)
        if row is None or (row.user_id != principal.user_id and not principal.can("apikeys:all")):
            raise not_found("API key")  # someone else's key: its existence does not leak
        keys.revoke(conn, key_id)
        return row

    row = await services.store.call(write)
    services.auth.forget_key(key_id)
    audit.record("API_KEY_DELETED", target=row.name, details={"apiKeyId": key_id, "ownerId": row.user_id})
    return json_response({"ok": True})
