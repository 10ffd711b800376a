"""Jobs: state, live progress (SSE), cancel; and the capability download URL of every result."""

from __future__ import annotations

import json
import re

from quart import Blueprint, Response, current_app, send_file

from protocols.errors import ApiError, ErrorCode
from service.apidoc import BOOL, UUID_PARAM, binary, doc, obj, ref
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
@doc("Jobs", "A job's latest state", responses={200: ref("JobFrame")},
     errors=(404,), params={"job_id": UUID_PARAM})
@require()
async def get_job(job_id: str):
    rec = await visible_job(job_id)
    return json_response(rec.frame())


@bp.post("/api/v1/jobs/<job_id>/cancel")
@doc(
    "Jobs", "Cancel a job (owner or admin)", "Its processes are stopped.",
    responses={200: obj({"canceled": BOOL}, ("canceled",))}, errors=(404,), params={"job_id": UUID_PARAM})
@require()
async def cancel_job(job_id: str):
    rec = await visible_job(job_id)
    return json_response({"canceled": current_app.lutra.jobs.cancel(rec)})


@bp.get("/api/v1/jobs/<job_id>/progress")
@doc(
    "Jobs", "Live progress (Server-Sent Events)",
    "`text/event-stream`; each frame is `data: <JobFrame JSON>`; `: ping` every 15 s. A late subscriber "
    "first gets the latest frame; the stream ends after the terminal frame, whose `result` is the 200 body.",
    responses={200: ("SSE stream of JobFrame objects",
                     {"content": {"text/event-stream": {"schema": {"type": "string"}}}})},
    errors=(404,), params={"job_id": UUID_PARAM})
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


# a result's name, or `files/<name>`: one file of a batch on its own (batches.Collector._publish)
_SAFE_FILENAME = re.compile(r"^(?:files/)?[^/\\\x00]+$")


@bp.get("/api/v1/download/<job_id>/<path:filename>")
@doc(
    "Jobs", "Download a result",
    "A capability URL (no authentication: the random job id is the secret). Supports Range.",
    responses={200: binary("application/octet-stream", "The file"),
               206: binary("application/octet-stream", "Part of the file (Range)")},
    errors=(400, 404, 410, 416),
    params={"job_id": UUID_PARAM, "filename": {"type": "string", "minLength": 1}})
async def download(job_id: str, filename: str):
    """A capability URL: the random job id is the secret, so no auth. Range requests are served."""
    if (not _JOB_ID.match(job_id) or not _SAFE_FILENAME.match(filename) or filename in (".", "..")
            or any(part.startswith(".") for part in filename.split("/"))):
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
