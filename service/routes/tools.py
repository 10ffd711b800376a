"""POST /api/v1/tools/<section>/<toolId> (and /batch, sub-routes, the section-less alias)."""

from __future__ import annotations

import json
import shutil
from urllib.parse import quote

from quart import Blueprint, current_app, request, send_file

from protocols.errors import ApiError, ErrorCode
from protocols.jobs import JobState
from protocols.tools import ToolCall, ToolSpec
from service.apidoc import doc, obj, ref
from service.auth import require
from service.batches import Plan
from service.jobs import new_job_id
from service.library import autosave_request
from service.responses import error_response, json_body, json_response
from service.toolrun import (
    check_input_kind,
    pick_inputs,
    receive_upload,
    resolve,
    settings_warnings,
    supports_batch,
    validate_settings,
    waits_for_result,
)
from service.uploads import parse_json_field

bp = Blueprint("tools", __name__)


def guard_capacity(services) -> None:
    """Refuse new work before it can fail mid-write: disabled tool, low disk."""
    free_mb = shutil.disk_usage(services.config.data_dir).free / 1048576
    if services.config.min_free_disk_mb and free_mb < services.config.min_free_disk_mb:
        raise ApiError(ErrorCode.BUSY, "The server is low on disk space; try again later.",
                       headers={"Retry-After": "60"})


@bp.post("/api/v1/tools/<path:route>")
@require("tools:use")
async def run_tool(route: str):
    services = current_app.lutra
    spec, is_batch = resolve([p for p in route.split("/") if p])
    root_tool = spec.id.split("/", 1)[0]
    if root_tool in services.settings.disabled_tools():
        raise ApiError(ErrorCode.TOOL_DISABLED, f"The tool {root_tool} is disabled on this server.")
    guard_capacity(services)
    if is_batch:
        return await _run_batch(services, spec)
    return await _run_single(services, spec)


async def _run_single(services, spec: ToolSpec):
    from service.auth import current_principal

    principal = await current_principal()
    saver = None  # library auto-save (`fileId`)
    is_json = request.headers.get("Content-Type", "").lower().startswith("application/json")
    if spec.body == "json" or (spec.body == "either" and is_json):
        raw = await json_body(required=False)
        settings = validate_settings(spec, raw, "body")
        inputs, names, roles, original = [], [], [], 0
        job_id = new_job_id()
        job_dir = services.jobs.job_dir(job_id)
    else:
        async with receive_upload(services, spool=True) as received:
            job_id, job_dir, upload = received.job_id, received.job_dir, received.upload
            raw = parse_json_field(upload, "settings", {})
            settings = validate_settings(spec, raw)
            chosen = pick_inputs(spec, upload.files) if spec.inputs[1] > 0 else []
            inputs = [f.path for f in chosen]
            names = [f.name for f in chosen]
            roles = [f.field for f in chosen]
            original = sum(f.size for f in chosen)
            saver = await autosave_request(services, principal, upload)
    out = job_dir / "out"
    out.mkdir(parents=True, exist_ok=True)
    rec = services.jobs.create(principal.user_id, "tool", spec.id, job_id=job_id)
    rec.warnings = settings_warnings(spec, raw)
    rec.original_size = original
    rec.input_names = names
    call = ToolCall(inputs=inputs, names=names, settings=settings, workdir=out, limits=services.jobs.limits, roles=roles)
    services.jobs.submit_tool(rec, spec, call)
    if saver is not None:
        saver.watch(rec)
    if spec.response == "file":  # previews answer with the image itself, so they wait
        await rec.done.wait()
        return await file_response(services, rec)
    if not waits_for_result(spec) or not await services.jobs.wait(rec, services.config.sync_wait_ms / 1000):
        return json_response(accepted_body(rec), 202)
    if saver is not None:
        await saver.wait()
    return finished_response(rec)


def accepted_body(rec) -> dict:
    """The 202 answer: follow the job; the request's warnings are said now, not only in the result."""
    body = {"jobId": rec.id, "async": True}
    if rec.warnings:
        body["warnings"] = list(rec.warnings)
    return body


async def file_response(services, rec):
    if rec.status is not JobState.COMPLETED:
        return finished_response(rec)
    from urllib.parse import unquote

    name = unquote(rec.result["downloadUrl"].rsplit("/", 1)[-1])
    response = await send_file(services.jobs.out_dir(rec.id) / name, conditional=False)
    response.headers["X-Job-Id"] = rec.id
    for key, value in rec.result.items():
        if key not in ("jobId", "downloadUrl", "downloads") and isinstance(value, (int, float, str, bool)):
            header = "X-" + "-".join(part.capitalize() for part in _split_camel(key))
            response.headers[header] = str(value)
    return response


def _split_camel(name: str) -> list[str]:
    import re

    return re.findall(r"[a-z0-9]+|[A-Z][a-z0-9]*", name) or [name]


def finished_response(rec):
    if rec.status is JobState.COMPLETED:
        return json_response(rec.result)
    err = ApiError(ErrorCode(rec.code or "PROCESSING_FAILED"), rec.error or "The job failed.",
                   status=rec.http_status or 422)
    return error_response(err)


async def _run_batch(services, spec: ToolSpec):
    from service.auth import current_principal

    if not supports_batch(spec):
        raise ApiError(ErrorCode.VALIDATION_ERROR, f"{spec.id} does not support batch processing.")
    principal = await current_principal()
    async with receive_upload(services, spool=True) as received:
        job_id, job_dir = received.job_id, received.job_dir
        raw = parse_json_field(received.upload, "settings", {})
        validate_settings(spec, raw)  # a 400 before anything runs (the coordinator reads its plan's copy)
        files = received.files("No files uploaded: send them as parts named 'files'.")
        shared = shared_inputs(spec, received.upload)
        limit = services.config.max_batch_size
        if limit and len(files) > limit:
            raise ApiError(ErrorCode.VALIDATION_ERROR, f"Too many files: this server accepts at most {limit} per batch.")
        (job_dir / "out").mkdir(parents=True, exist_ok=True)
    parent = services.jobs.create(principal.user_id, "batch", spec.id, job_id=job_id)
    parent.warnings = settings_warnings(spec, raw)
    parent.original_size = sum(f.size for f in files)
    items, rejected = [], []
    for index, item in enumerate(files):
        try:
            check_input_kind(spec, item)
            items.append((index, item.path, item.name))
        except ApiError as err:
            rejected.append({"filename": item.name, "error": err.message})
    zip_path = job_dir / "out" / f"{spec.id}-batch.zip"
    if not items:
        services.jobs.finish(parent, JobState.FAILED, error="Every file in the batch failed.",
                             code=ErrorCode.PROCESSING_FAILED.value, http_status=422)
        return json_response({"error": "Every file in the batch failed.", "code": "PROCESSING_FAILED",
                              "errors": rejected, **warnings_of(parent)}, 422)

    await services.jobs.coordinate(parent, Plan(
        kind="batch", out=zip_path, items=items, rejected=rejected, tool_id=spec.id,
        settings=raw or {}, shared=shared))
    if prefers_async():  # the job's frames (GET /jobs/<id>/progress) then say each file's state as it runs
        return json_response({"jobId": parent.id, "async": True, **warnings_of(parent)}, 202,
                             {"Preference-Applied": "respond-async"})
    await parent.done.wait()
    await parent.persisted.wait()
    return await batch_response(parent, zip_path, rejected)


def prefers_async() -> bool:
    """RFC 7240 `Prefer: respond-async`: answer 202 with the job's id at once instead of waiting for the ZIP
    (a client that follows the batch live, like the web app, needs the id while the files run)."""
    prefer = ",".join(request.headers.getlist("Prefer")).lower()
    return any(p.split(";")[0].strip() == "respond-async" for p in prefer.split(","))


def shared_inputs(spec: ToolSpec, upload) -> list[tuple]:
    """A batch's named second input (e.g. `watermark`), sent once and given to every file's job:
    (path, name, role) in the tool's role order. A tool that needs it gets a 400 when it is missing."""
    shared = []
    for role in spec.roles:
        parts = upload.files_named(role)
        if len(parts) > 1:
            raise ApiError(ErrorCode.VALIDATION_ERROR, f"Send the '{role}' part once; it applies to every file.")
        for item in parts:
            check_input_kind(spec, item)
            shared.append((item.path, item.name, role))
    if 1 + len(shared) < spec.inputs[0]:
        names = ", ".join(f"'{r}'" for r in spec.roles)
        raise ApiError(ErrorCode.VALIDATION_ERROR, f"{spec.id} needs its second input as a part named {names}, "
                                                   "sent once for every file of the batch.")
    return shared


def warnings_of(rec) -> dict:
    return {"warnings": list(rec.warnings)} if rec.warnings else {}


async def batch_response(parent, zip_path, rejected: list[dict[str, str]]):
    """A finished batch-like job as the reference's response: the ZIP itself, or 422 with the errors."""
    if parent.status is not JobState.COMPLETED:
        errors = (parent.batch or {}).get("errors", []) if parent.batch else rejected
        return json_response({"error": parent.error or "The batch failed.", "code": parent.code or "PROCESSING_FAILED",
                              "errors": errors, "jobId": parent.id, **warnings_of(parent)},
                             parent.http_status or 422)
    response = await send_file(zip_path, mimetype="application/zip", as_attachment=True,
                               attachment_filename=zip_path.name)
    response.headers["X-Job-Id"] = parent.id
    response.headers["X-File-Results"] = quote(json.dumps(parent.result.get("fileResults", {})))
    if parent.batch and parent.batch["errors"]:
        response.headers["X-File-Errors"] = quote(json.dumps(parent.batch["errors"]))
    if parent.warnings:  # the body is the ZIP: the warnings travel like the per-file results
        response.headers["X-Warnings"] = quote(json.dumps(parent.warnings))
    response.timeout = None
    return response


@bp.get("/api/v1/tools")
@doc(
    "Tools", "The tool catalogue",
    responses={200: obj({"tools": {"type": "array", "items": ref("ToolInfo")}}, ("tools",))})
@require("tools:use")
async def list_tools():
    from protocols.tools import REGISTRY

    disabled = current_app.lutra.settings.disabled_tools()
    tools = [
        {"id": s.id, "section": s.section.value, "mode": s.mode.value, "summary": s.summary,
         "inputs": {"min": s.inputs[0], "max": s.inputs[1]}, "body": s.body, "disabled": s.id in disabled}
        for s in sorted(REGISTRY.values(), key=lambda s: (s.section.value, s.id)) if not s.is_subroute
    ]
    return json_response({"tools": tools})


__all__ = ["bp", "request"]
