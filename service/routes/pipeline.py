"""Pipelines: execute one file through N steps, batch many files through them, and saved pipelines."""

from __future__ import annotations

import time
import uuid
from typing import Any

from pydantic import BaseModel, Field, ValidationError
from quart import Blueprint, current_app

from actors.store.repos import pipelines as saved_pipelines
from protocols.errors import ApiError, ErrorCode
from protocols.jobs import JobState
from service import pipelines
from service.apidoc import BINARY, ID_PARAM, STR, TEXT_HEADER, binary, doc, obj, ref
from service.auth import Principal, current_principal, require
from service.batches import Plan
from service.library import autosave_request, iso
from service.responses import json_body, json_response
from service.routes.tools import accepted_body, batch_response, guard_capacity
from service.toolrun import JobUpload, check_input_kind, receive_upload
from service.uploads import parse_json_field

bp = Blueprint("pipeline", __name__)

# the request and answer shapes the docs name
MULTIPART = obj({
    "file": {**BINARY, "description": "The input file"},
    "pipeline": {**ref("PipelineSpec"), "description": "JSON: {steps:[{toolId, settings}]} or {pipelineId}"},
    "fileId": {"type": "string", "description": "Save the result as a new version of this library file"},
}, ("file", "pipeline"))
BATCH_MULTIPART = obj({
    "files": {"type": "array", "items": BINARY, "minItems": 1},
    "pipeline": ref("PipelineSpec"),
}, ("files", "pipeline"))
ZIP_HEADERS = {"X-Job-Id": {**TEXT_HEADER, "description": "The batch job (ZIP stays at /api/v1/download/...)"},
               "X-File-Results": {**TEXT_HEADER, "description": "URL-encoded JSON: input index -> output name"},
               "X-File-Errors": {**TEXT_HEADER, "description": "URL-encoded JSON list of {filename, error}"}}


def sees_all(principal: Principal) -> bool:
    return principal.is_admin or principal.can("pipelines:all")


async def steps_from(services, principal: Principal, raw: Any) -> list[pipelines.Step]:
    """The `pipeline` value: `{"steps": [...]}`, a bare list, or `{"pipelineId": "<saved id>"}`."""
    if raw is None:
        raise ApiError(ErrorCode.VALIDATION_ERROR,
                       'Send the pipeline as a \'pipeline\' field: {"steps":[{"toolId":..., "settings":{...}}]}.')
    if isinstance(raw, dict) and not raw.get("steps") and (raw.get("pipelineId") or raw.get("id")):
        saved = await visible_pipeline(services, principal, str(raw.get("pipelineId") or raw.get("id")))
        raw = {"steps": saved.steps}
    return pipelines.parse_steps(raw, max_steps=services.config.max_pipeline_steps,
                                 disabled=services.settings.disabled_tools())


async def visible_pipeline(services, principal: Principal, pipeline_id: str):
    row = await services.store.call(saved_pipelines.by_id, pipeline_id)
    if row is None or not (sees_all(principal) or row.owner_id == principal.user_id):
        raise ApiError(ErrorCode.NOT_FOUND, "No such pipeline.")
    return row


def _failure_body(rec) -> dict[str, Any]:
    body: dict[str, Any] = {"error": rec.error or "The pipeline failed.", "code": rec.code or "PROCESSING_FAILED",
                            "jobId": rec.id}
    batch = rec.batch or {}
    for key in ("stepsCompleted", "failedStep", "totalSteps"):
        if key in batch:
            body[key] = batch[key]
    return body


async def _receive(services, principal, received: JobUpload, no_file_message: str):
    """A pipeline request's validated steps and its input files (at least one)."""
    steps = await steps_from(services, principal, parse_json_field(received.upload, "pipeline"))
    return steps, received.files(no_file_message)


@bp.post("/api/v1/pipeline/execute")
@doc(
    "Pipelines", "Run one file through a chain of tools",
    "Each step's output is the next step's input. Every step's settings are validated before anything "
    "runs. 200 adds `stepsCompleted` and `steps`; 202 when a step is long or the run outlasts SYNC_WAIT_MS. "
    "404: an unknown (or another user's) `pipelineId` or `fileId`.",
    body=("multipart", MULTIPART),
    responses={200: ref("ToolResult"), 202: ref("AsyncJob")},
    errors=(400, 404, 409, 413, 415, 422, 501, 503, 504))
@require("tools:use")
async def execute():
    services = current_app.lutra
    guard_capacity(services)
    principal = await current_principal()
    async with receive_upload(services) as received:
        job_id, job_dir = received.job_id, received.job_dir
        steps, files = await _receive(
            services, principal, received, "No file uploaded: send it as a multipart part named 'file'.")
        if len(files) > 1:
            raise ApiError(ErrorCode.VALIDATION_ERROR,
                           "A pipeline takes one file; use /api/v1/pipeline/batch for several.")
        item = files[0]
        check_input_kind(steps[0].spec, item)
        saver = await autosave_request(services, principal, received.upload, {})
        (job_dir / "out").mkdir(parents=True, exist_ok=True)
    parent = services.jobs.create(principal.user_id, "pipeline", steps[0].spec.id, job_id=job_id)
    parent.warnings = pipelines.step_warnings(steps)
    parent.original_size = item.size
    parent.input_names = [item.name]
    parent.batch = pipelines.initial_state(steps)  # before anything runs: a cancel finds the job's children
    if saver is not None:
        saver.rec = parent
    plan = Plan(kind="pipeline", out=job_dir / "out", items=[(0, item.path, item.name)],
                steps=[s.as_json() for s in steps])
    if saver is None:
        await services.jobs.coordinate(parent, plan)
    else:  # a save into the library belongs to this request: such a pipeline is not resumed elsewhere
        services.jobs.spawn(lambda: pipelines.run_single(services.jobs, parent, plan, saver=saver))
    if pipelines.has_long_step(steps) or not await services.jobs.wait(parent, services.config.sync_wait_ms / 1000):
        return json_response(accepted_body(parent), 202)
    if saver is not None:
        await saver.wait()
    if parent.status is JobState.COMPLETED:
        return json_response(parent.result)
    return json_response(_failure_body(parent), parent.http_status or 422)


@bp.post("/api/v1/pipeline/batch")
@doc(
    "Pipelines", "Run several files through a chain of tools (ZIP)",
    "404: an unknown (or another user's) `pipelineId`.",
    body=("multipart", BATCH_MULTIPART),
    responses={200: binary("application/zip", "The results", ZIP_HEADERS)},
    errors=(400, 404, 413, 415, 422, 501, 503))
@require("tools:use")
async def batch():
    services = current_app.lutra
    guard_capacity(services)
    principal = await current_principal()
    async with receive_upload(services) as received:
        job_id, job_dir = received.job_id, received.job_dir
        steps, files = await _receive(
            services, principal, received, "No files uploaded: send them as parts named 'files'.")
        limit = services.config.max_batch_size
        if limit and len(files) > limit:
            raise ApiError(ErrorCode.VALIDATION_ERROR,
                           f"Too many files: this server accepts at most {limit} per batch.")
        (job_dir / "out").mkdir(parents=True, exist_ok=True)
    parent = services.jobs.create(principal.user_id, "pipeline-batch", steps[0].spec.id, job_id=job_id)
    parent.warnings = pipelines.step_warnings(steps)
    parent.original_size = sum(f.size for f in files)
    items, rejected = [], []
    for index, item in enumerate(files):
        try:
            check_input_kind(steps[0].spec, item)
            items.append((index, item.path, item.name))
        except ApiError as err:
            rejected.append({"filename": item.name, "error": err.message})
    zip_path = job_dir / "out" / "pipeline-batch.zip"
    if not items:
        services.jobs.finish(parent, JobState.FAILED, error="Every file in the batch failed.",
                             code=ErrorCode.PROCESSING_FAILED.value, http_status=422)
        return json_response({"error": "Every file in the batch failed.", "code": "PROCESSING_FAILED",
                              "errors": rejected, "jobId": parent.id}, 422)
    await services.jobs.coordinate(parent, Plan(
        kind="pipeline-batch", out=zip_path, items=items, rejected=rejected,
        steps=[s.as_json() for s in steps], concurrency=services.config.workers))
    await parent.done.wait()
    await parent.persisted.wait()  # a 200 survives a crash
    return await batch_response(parent, zip_path, rejected)


# ---- saved pipelines ---------------------------------------------------------------------------------

class SaveBody(BaseModel):
    name: str = Field(..., min_length=1, max_length=100, description="A name for the pipeline")
    description: str = Field("", max_length=500, description="What the pipeline is for")
    steps: list[Any] = Field(..., min_length=1, description="The steps: [{toolId, settings}]")


def pipeline_json(row) -> dict[str, Any]:
    return {"id": row.id, "name": row.name, "description": row.description or "", "steps": row.steps,
            "createdAt": iso(row.created_at), "ownerId": row.owner_id}


@bp.post("/api/v1/pipeline/save")
@doc("Pipelines", "Save a named pipeline", body=SaveBody,
     responses={201: ref("Pipeline")}, errors=(400,))
@require("pipelines:own")
async def save():
    services = current_app.lutra
    principal = await current_principal()
    data = await json_body()
    if not isinstance(data, dict):
        raise ApiError(ErrorCode.VALIDATION_ERROR, "The body must be a JSON object with name, description and steps.")
    try:
        body = SaveBody.model_validate(data)
    except ValidationError as err:
        details = [{"path": ".".join(str(p) for p in e["loc"]), "message": e["msg"]}
                   for e in err.errors(include_url=False, include_input=False, include_context=False)]
        raise ApiError(ErrorCode.VALIDATION_ERROR, f"Invalid body: {details[0]['path']}: {details[0]['message']}",
                       details=details) from None
    name = body.name.strip()
    if not name:
        raise ApiError(ErrorCode.VALIDATION_ERROR, "Invalid body: name: must not be blank")
    steps = pipelines.parse_steps(body.steps, max_steps=services.config.max_pipeline_steps, disabled=frozenset())
    values = {"id": str(uuid.uuid4()), "owner_id": principal.user_id, "name": name,
              "description": body.description, "steps": [s.as_json() for s in steps], "created_at": time.time()}

    row = await services.store.call(saved_pipelines.save, values)
    return json_response(pipeline_json(row), 201)


@bp.get("/api/v1/pipeline/list")
@doc(
    "Pipelines", "Saved pipelines (admins see all)",
    responses={200: obj({"pipelines": {"type": "array", "items": ref("Pipeline")}}, ("pipelines",))})
@require("pipelines:own")
async def list_pipelines():
    services = current_app.lutra
    principal = await current_principal()
    everyone = sees_all(principal)

    rows = await services.store.call(saved_pipelines.listing, principal.user_id, everyone)
    return json_response({"pipelines": [pipeline_json(r) for r in rows]})


@bp.delete("/api/v1/pipeline/<pipeline_id>")
@doc("Pipelines", "Delete a saved pipeline",
     responses={200: ref("Ok")}, errors=(404,),
     params={"pipeline_id": ID_PARAM})
@require("pipelines:own")
async def delete_pipeline(pipeline_id: str):
    services = current_app.lutra
    principal = await current_principal()
    row = await visible_pipeline(services, principal, pipeline_id)
    await services.store.call(saved_pipelines.delete_pipeline, row.id)
    return json_response({"ok": True})


@bp.get("/api/v1/pipeline/tools")
@doc(
    "Pipelines", "Tool ids usable as pipeline steps",
    responses={200: obj({"toolIds": {"type": "array", "items": STR}}, ("toolIds",))})
@require("tools:use")
async def pipeline_tools():
    services = current_app.lutra
    return json_response({"toolIds": pipelines.pipeline_tool_ids(services.settings.disabled_tools())})
