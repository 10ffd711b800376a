"""Jobs: state, live progress (SSE), cancel; and the capability download URL of every result."""

from __future__ import annotations

import json
import re

from quart import Blueprint, Response, current_app, send_file

from protocols.errors import ApiError, ErrorCode
from service.auth import Principal, current_principal, require
from service.responses import json_response

bp = Blueprint("jobs", __name__)

_JOB_ID = re.compile(r"^[0-9a-f-]{36}$")


def can_see(principal: Principal, owner_id: str | None) -> bool:
    return principal.is_admin or owner_id == principal.user_id


async def visible_job(job_id: str):
    principal = await current_principal()
    rec = await current_app.lutra.jobs.get(job_id) if _JOB_ID.match(job_id) else None
    if rec is None or not can_see(principal, rec.owner_id):
        raise ApiError(ErrorCode.NOT_FOUND, "No such job.")
    return rec


@bp.get("/api/v1/jobs/<job_id>")
@require()
async def get_job(job_id: str):
    rec = await visible_job(job_id)
    return json_response(rec.frame())


@bp.post("/api/v1/jobs/<job_id>/cancel")
@require()
async def cancel_job(job_id: str):
    rec = await visible_job(job_id)
    return json_response({"canceled": current_app.lutra.jobs.cancel(rec)})


@bp.get("/api/v1/jobs/<job_id>/progress")
@require()
async def job_progress(job_id: str):
    rec = await visible_job(job_id)

    async def stream():
        async for frame in rec.frames():
            if frame is None:
                yield b": ping\n\n"
            else:
                yield b"data: " + json.dumps(frame, separators=(",", ":")).encode() + b"\n\n"

    response = Response(stream(), content_type="text/event-stream")
    response.headers["Cache-Control"] = "no-cache"
    response.headers["X-Accel-Buffering"] = "no"
    response.timeout = None
    return response


_SAFE_FILENAME = re.compile(r"^[^/\\\x00]+$")


@bp.get("/api/v1/download/<job_id>/<path:filename>")
async def download(job_id: str, filename: str):
    """A capability URL: the random job id is the secret, so no auth. Range requests are served."""
    if (not _JOB_ID.match(job_id) or not _SAFE_FILENAME.match(filename) or filename in (".", "..")
            or filename.startswith(".") or ".." in filename.split("/")):
        raise ApiError(ErrorCode.VALIDATION_ERROR, "Invalid download path.")
    out_dir = current_app.lutra.jobs.out_dir(job_id)
    path = out_dir / filename
    try:
        resolved = path.resolve(strict=True)
    except (FileNotFoundError, OSError):
        rec = await current_app.lutra.jobs.get(job_id)
        if rec is not None and rec.status.terminal:
            raise ApiError(ErrorCode.INPUT_MISSING, "This result has expired and was removed.") from None
        raise ApiError(ErrorCode.NOT_FOUND, "No such file.") from None
    if not resolved.is_relative_to(out_dir.resolve()) or not resolved.is_file():
        raise ApiError(ErrorCode.VALIDATION_ERROR, "Invalid download path.")
    response = await send_file(resolved, as_attachment=True, attachment_filename=filename, conditional=True)
    response.timeout = None
    return response
