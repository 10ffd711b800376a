"""Health and public configuration."""

from __future__ import annotations

from quart import Blueprint, current_app

from service.config import VERSION
from service.responses import json_response

bp = Blueprint("system", __name__)


@bp.get("/api/v1/health")
async def health():
    ok = await current_app.lutra.store.ping()
    return json_response({"status": "healthy" if ok else "unhealthy", "version": VERSION}, 200 if ok else 503)


@bp.get("/api/v1/config/auth")
async def config_auth():
    return json_response({"authEnabled": current_app.lutra.config.auth_enabled})
