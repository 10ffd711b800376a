"""Health and public configuration."""

from __future__ import annotations

from quart import Blueprint, current_app

from service.apidoc import BOOL, STR, doc, json_content, obj
from service.config import VERSION
from service.responses import json_response

bp = Blueprint("system", __name__)


@bp.get("/api/v1/health")
@doc(
    "System", "Basic health check",
    responses={200: obj({"status": {"type": "string", "enum": ["healthy"]}, "version": STR},
                        ("status", "version")),
               503: ("The database is unreachable",
                     {"content": json_content(obj({"status": {"type": "string", "enum": ["unhealthy"]},
                                                   "version": STR}, ("status",)))})})
async def health():
    ok = await current_app.lutra.store.ping()
    return json_response({"status": "healthy" if ok else "unhealthy", "version": VERSION}, 200 if ok else 503)


@bp.get("/api/v1/config/auth")
@doc("System", "Is authentication enabled?",
     responses={200: obj({"authEnabled": BOOL}, ("authEnabled",))})
async def config_auth():
    return json_response({"authEnabled": current_app.lutra.config.auth_enabled})
