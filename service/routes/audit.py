"""GET /api/v1/audit-log (audit:read): paginated, filterable by action and date range. Also records
TOOL_EXECUTED for tool and pipeline runs when the `auditToolOperations` setting is on."""

from __future__ import annotations

from quart import Blueprint, current_app, g, request

from actors.store.repos import audit as audit_entries
from protocols.errors import ApiError, ErrorCode
from service import audit
from service.apidoc import INT, STR, doc, obj, q, ref
from service.auth import iso_time, parse_iso_time, require
from service.responses import json_response

bp = Blueprint("audit", __name__)

MAX_LIMIT = 100
DEFAULT_LIMIT = 50
MAX_PAGE = 1 << 31  # (page - 1) * limit must stay a 64-bit SQL integer
_TOOL_PATHS = ("/api/v1/tools/", "/api/v1/pipeline/execute", "/api/v1/pipeline/batch")


def _int_arg(name: str, default: int, low: int, high: int | None = None) -> int:
    raw = request.args.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ApiError(ErrorCode.VALIDATION_ERROR, f"'{name}' must be a whole number.",
                       details=[{"path": name, "message": "not a whole number"}]) from None
    if value < low:
        raise ApiError(ErrorCode.VALIDATION_ERROR, f"'{name}' must be at least {low}.",
                       details=[{"path": name, "message": f"below {low}"}])
    if high is not None and value > high:
        raise ApiError(ErrorCode.VALIDATION_ERROR, f"'{name}' must be at most {high}.",
                       details=[{"path": name, "message": f"above {high}"}])
    return value


def _time_arg(name: str) -> float | None:
    raw = request.args.get(name)
    if not raw:
        return None
    try:
        return parse_iso_time(raw)
    except ValueError:
        raise ApiError(ErrorCode.VALIDATION_ERROR, f"'{name}' must be an ISO 8601 date or date-time.",
                       details=[{"path": name, "message": "not ISO 8601"}]) from None


def entry_json(row) -> dict:
    return {"id": row.id, "action": row.action, "actorId": row.actor_id, "actorName": row.actor_name,
            "target": row.target, "ip": row.ip, "details": row.details, "createdAt": iso_time(row.at)}


@bp.get("/api/v1/audit-log")
@doc(
    "Audit", "The audit log, newest first",
    query=[q("page", {"type": "integer", "minimum": 1, "maximum": 2**31, "default": 1}, "Page number"),
           q("limit", {"type": "integer", "minimum": 1, "maximum": 100, "default": 50}, "Entries per page"),
           q("action", STR, "Filter by action(s), comma-separated (e.g. ROLE_CREATED)"),
           q("from", STR, "Entries at or after this ISO 8601 date"),
           q("to", STR, "Entries at or before this ISO 8601 date")],
    responses={200: obj({"entries": {"type": "array", "items": ref("AuditEntry")}, "total": INT, "page": INT,
                         "limit": INT}, ("entries", "total", "page", "limit"))}, errors=(400,))
@require("audit:read")
async def audit_log():
    page = _int_arg("page", 1, 1, MAX_PAGE)
    limit = min(_int_arg("limit", DEFAULT_LIMIT, 1), MAX_LIMIT)
    since, until = _time_arg("from"), _time_arg("to")
    actions = [a.strip().upper() for a in request.args.get("action", "").split(",") if a.strip()]
    services = current_app.lutra
    await services.store.flush()  # entries are written behind: make this request's view complete

    total, rows = await services.store.call(audit_entries.page, actions, since, until, limit, (page - 1) * limit)
    return json_response({"entries": [entry_json(r) for r in rows], "total": total, "page": page, "limit": limit})


@bp.after_app_request
async def _audit_tool_runs(response):
    if request.method != "POST" or response.status_code not in (200, 202) or not request.path.startswith(_TOOL_PATHS):
        return response
    services = current_app.lutra
    if services is not None and services.settings.get("auditToolOperations"):
        audit.record("TOOL_EXECUTED", target=request.path.removeprefix("/api/v1/"),
                     details={"status": response.status_code, "jobId": response.headers.get("X-Job-Id")},
                     principal=g.get("principal"))
    return response
