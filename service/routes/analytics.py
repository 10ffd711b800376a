"""Analytics configuration (public) and each user's consent."""

from __future__ import annotations

import time

from pydantic import BaseModel, ConfigDict, Field, model_validator
from quart import Blueprint, current_app

from actors.store.repos import users
from protocols.errors import ApiError, ErrorCode
from service.apidoc import BOOL, NUM, STR, TIME, doc, model_body, nullable, obj
from service.auth import current_principal, iso_time, require
from service.responses import json_body, json_response
from service.routes.auth import parse

bp = Blueprint("analytics", __name__)
CONSENT = obj({"enabled": nullable(BOOL), "remindLater": BOOL, "updatedAt": nullable(TIME)})  # as answered


class ConsentBody(BaseModel):
    model_config = ConfigDict(populate_by_name=True, extra="forbid")
    enabled: bool | None = Field(None, description="Consent to anonymous usage analytics")
    remind_later: bool | None = Field(None, alias="remindLater", description="Defer the decision")

    @model_validator(mode="after")
    def _one(self):
        if self.enabled is None and not self.remind_later:
            raise ValueError("send enabled (true/false) or remindLater: true")
        return self


@bp.get("/api/v1/config/analytics")
@doc(
    "System", "Analytics configuration",
    "Empty values when ANALYTICS_ENABLED=false.",
    responses={200: obj({"enabled": BOOL, "posthogKey": nullable(STR), "posthogHost": nullable(STR),
                         "sentryDsn": nullable(STR), "sampleRate": NUM}, ("enabled",))})
async def analytics_config():
    config = current_app.lutra.config
    if not config.analytics_enabled:
        return json_response({"enabled": False, "posthogKey": "", "posthogHost": "", "sentryDsn": "", "sampleRate": 0})
    return json_response({"enabled": True, "posthogKey": config.posthog_key, "posthogHost": config.posthog_host,
                          "sentryDsn": config.sentry_dsn, "sampleRate": config.analytics_sample_rate})


def _consent_json(value) -> dict:
    value = value or {}
    return {"enabled": value.get("enabled"), "remindLater": bool(value.get("remindLater")),
            "updatedAt": iso_time(value.get("at"))}


@bp.get("/api/v1/user/analytics")
@doc("System", "Your analytics consent",
     responses={200: obj({"analytics": CONSENT}, ("analytics",))})
@require()
async def get_consent():
    principal = await current_principal()
    if principal.user_id is None:
        return json_response({"analytics": _consent_json(None)})
    value = await current_app.lutra.store.call(users.analytics, principal.user_id)
    return json_response({"analytics": _consent_json(value)})


@bp.put("/api/v1/user/analytics")
@doc(
    "System", "Set your analytics consent", "Send `enabled` (true/false) or `remindLater: true`.",
    body=model_body(ConsentBody, minProperties=1),
    responses={200: obj({"ok": BOOL, "analytics": CONSENT}, ("ok", "analytics"))}, errors=(400,))
@require()
async def put_consent():
    principal = await current_principal()
    body = parse(ConsentBody, await json_body())
    if principal.user_id is None:
        raise ApiError(ErrorCode.VALIDATION_ERROR, "Authentication is disabled; there is no account to store consent on.")

    def write(conn):
        value = dict(users.analytics(conn, principal.user_id) or {})
        if body.enabled is not None:
            value.update(enabled=body.enabled, remindLater=False)
        elif body.remind_later:
            value.update(remindLater=True)
        value["at"] = time.time()
        users.change(conn, principal.user_id, analytics=value)
        return value

    value = await current_app.lutra.store.call(write)
    return json_response({"ok": True, "analytics": _consent_json(value)})
