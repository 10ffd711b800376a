"""The file library (upload, list, get, download, thumbnail, delete, save-result) and the workspace
helpers (`POST /api/v1/upload`, `POST /api/v1/preview`)."""

from __future__ import annotations

import re

from quart import Blueprint, Response, current_app, request, send_file

from actors.common.camera_raw import is_camera_raw
from protocols.errors import ApiError, ErrorCode
from service import library_renders as renders
from service.apidoc import BINARY, BOOL, ID_PARAM, INT, MULTI_FILES, STR, binary, doc, obj, q, ref
from service.auth import current_principal, require
from service.library import NewFile, file_json, get_library
from service.responses import json_body, json_response
from service.routes.tools import guard_capacity
from service.toolrun import receive_upload

bp = Blueprint("files", __name__)

_JOB_ID = re.compile(r"^[0-9a-f-]{36}$")
MAX_PAGE = 100


def _audit(action: str, target: str, details: dict) -> None:
    try:
        from service import audit
    except ImportError:  # the audit module belongs to the identity area
        return
    audit.record(action, target=target, details=details)


async def on_startup(app, services) -> None:
    lib = get_library(services)
    lib.root.mkdir(parents=True, exist_ok=True)
    await lib.remove_orphans()


def _int_arg(name: str, default: int, low: int, high: int) -> int:
    raw = request.args.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ApiError(ErrorCode.VALIDATION_ERROR, f"'{name}' must be a whole number.") from None
    if not low <= value <= high:
        raise ApiError(ErrorCode.VALIDATION_ERROR, f"'{name}' must be between {low} and {high}.")
    return value


@bp.post("/api/v1/files/upload")
@doc(
    "Files", "Upload files to the library", "All or nothing: a bad file or the quota refuses them all.",
    body=("multipart", MULTI_FILES),
    responses={201: obj({"files": {"type": "array", "items": ref("LibraryFile")}}, ("files",))},
    errors=(400, 413, 507))
@require("files:own")
async def upload_files():
    """Several files into the library, all or nothing (a bad file or the quota refuses them all)."""
    services = current_app.lutra
    guard_capacity(services)
    principal = await current_principal()
    lib = get_library(services)
    async with receive_upload(services, keep=False) as received:
        files = received.files("No files uploaded: send them as parts named 'files'.")
        for item in files:
            if item.size == 0:
                raise ApiError(ErrorCode.VALIDATION_ERROR, f"The file '{item.name}' is empty; nothing was saved.")
        await lib.check_quota(principal.user_id, sum(f.size for f in files))
        rows = await lib.add(principal.user_id, [NewFile(f.path, f.name) for f in files])
    for row in rows:
        _audit("FILE_UPLOADED", row.original_name, {"fileId": row.id, "size": row.size})
    return json_response({"files": [file_json(r) for r in rows]}, 201)


@bp.get("/api/v1/files")
@doc(
    "Files", "List library files (newest version of each)",
    query=[q("limit", {"type": "integer", "minimum": 1, "maximum": 100, "default": 50}, "Page size"),
           q("offset", {"type": "integer", "minimum": 0, "maximum": 2**31, "default": 0}, "Skip this many"),
           q("page", {"type": "integer", "minimum": 1, "maximum": 2**31}, "Page number (instead of offset)"),
           q("search", STR, "Filter by name")],
    responses={200: obj({"files": {"type": "array", "items": ref("LibraryFile")}, "total": INT,
                         "limit": INT, "offset": INT}, ("files", "total", "limit", "offset"))},
    errors=(400,))
@require("files:own")
async def list_files():
    principal = await current_principal()
    limit = _int_arg("limit", 50, 1, MAX_PAGE)
    offset = _int_arg("offset", 0, 0, 1 << 31)
    if "page" in request.args and "offset" not in request.args:
        offset = (_int_arg("page", 1, 1, 1 << 31) - 1) * limit
    search = (request.args.get("search") or request.args.get("q") or "").strip()[:200]
    rows, total = await get_library(current_app.lutra).list(principal, search, limit, offset)
    return json_response({"files": [file_json(r) for r in rows], "total": total, "limit": limit, "offset": offset})


@bp.get("/api/v1/files/<file_id>")
@doc(
    "Files", "A file and its version chain",
    responses={200: obj({"file": ref("LibraryFile"), "versions": {"type": "array", "items": ref("LibraryFile")}},
                        ("file", "versions"))}, errors=(404,), params={"file_id": ID_PARAM})
@require("files:own")
async def get_file(file_id: str):
    principal = await current_principal()
    lib = get_library(current_app.lutra)
    row = await lib.visible(principal, file_id)
    versions = await lib.versions(row.root_id)
    return json_response({"file": file_json(row), "versions": [file_json(v) for v in versions]})


@bp.get("/api/v1/files/<file_id>/download")
@doc(
    "Files", "Download a library file", responses={200: binary("application/octet-stream", "The file")},
    errors=(404, 410), params={"file_id": ID_PARAM})
@require("files:own")
async def download_file(file_id: str):
    principal = await current_principal()
    lib = get_library(current_app.lutra)
    row = await lib.visible(principal, file_id)
    path = lib.path_of(row)
    if not path.is_file():
        raise ApiError(ErrorCode.INPUT_MISSING, "The stored file is missing.")
    response = await send_file(path, mimetype=row.mime_type, as_attachment=True,
                               attachment_filename=row.original_name, conditional=True)
    response.timeout = None
    return response


@bp.get("/api/v1/files/<file_id>/thumbnail")
@doc(
    "Files", "A 300 px wide JPEG thumbnail", responses={200: binary("image/jpeg", "JPEG thumbnail")},
    errors=(404, 415, 422), params={"file_id": ID_PARAM})
@require("files:own")
async def thumbnail(file_id: str):
    principal = await current_principal()
    lib = get_library(current_app.lutra)
    row = await lib.visible(principal, file_id)
    path = await lib.thumbnail(row)
    response = await send_file(path, mimetype="image/jpeg", conditional=True)
    response.headers["Cache-Control"] = "private, max-age=86400"
    return response


@bp.delete("/api/v1/files")
@doc(
    "Files", "Delete files and their version chains",
    body=obj({"ids": {"type": "array", "items": STR, "minItems": 1, "maxItems": 1000}}, ("ids",)),
    responses={200: obj({"ok": BOOL, "deleted": INT}, ("ok",))}, errors=(400, 404))
@require("files:own")
async def delete_files():
    principal = await current_principal()
    body = await json_body()
    ids = body.get("ids") if isinstance(body, dict) else None
    if not isinstance(ids, list) or not ids or not all(isinstance(i, str) for i in ids):
        raise ApiError(ErrorCode.VALIDATION_ERROR, 'Send {"ids": ["<fileId>", ...]}.')
    if len(ids) > 1000:
        raise ApiError(ErrorCode.VALIDATION_ERROR, "At most 1000 ids per request.")
    deleted = await get_library(current_app.lutra).delete(principal, ids)
    _audit("FILE_DELETED", ",".join(ids)[:500], {"ids": ids[:50], "deleted": deleted})
    return json_response({"ok": True, "deleted": deleted})


@bp.post("/api/v1/files/save-result")
@doc(
    "Files", "Save a tool result to the library",
    "As a new version of `parentId` (or `fileId`), or as a new file. Either JSON naming a finished job "
    "(`jobId`), or multipart carrying the result itself as `file` (with `parentId` and `toolId` fields).",
    body=("either", obj({"jobId": {"type": "string", "format": "uuid"}, "parentId": STR, "fileId": STR,
                         "filename": STR, "toolId": STR}, ("jobId",)),
          obj({"file": {**BINARY, "description": "The result file to save"},
               "parentId": {**STR, "description": "Library file this becomes the next version of"},
               "fileId": {**STR, "description": "Alias of parentId"},
               "toolId": {**STR, "description": "The tool that made it (joins the file's tool chain)"}},
              ("file",))),
    responses={201: obj({"file": ref("LibraryFile")}, ("file",))}, errors=(400, 404, 410, 507))
@require("files:own")
async def save_result():
    """A finished job's result as a new version of `parentId` (or `fileId`), or as a new file.
    JSON `{jobId, parentId?, filename?, toolId?}`, or multipart with the result itself as `file` plus
    `parentId`/`toolId` fields (the peer's clients send the bytes they already downloaded)."""
    services = current_app.lutra
    guard_capacity(services)
    principal = await current_principal()
    if request.headers.get("Content-Type", "").lower().startswith("multipart/"):
        return await _save_uploaded_result(services, principal)
    body = await json_body()
    if not isinstance(body, dict):
        raise ApiError(ErrorCode.VALIDATION_ERROR, "The body must be a JSON object with jobId.")
    job_id = body.get("jobId")
    if not isinstance(job_id, str) or not _JOB_ID.match(job_id):
        raise ApiError(ErrorCode.VALIDATION_ERROR, "jobId is required.")
    for key in ("filename", "toolId"):
        if body.get(key) is not None and not isinstance(body.get(key), str):
            raise ApiError(ErrorCode.VALIDATION_ERROR, f"{key} must be a string.")
    lib = get_library(services)
    parent_id = body.get("parentId") or body.get("fileId")
    parent = await lib.visible(principal, parent_id) if parent_id else None
    rec = await services.jobs.get(job_id)
    if rec is None or not (principal.is_admin or rec.owner_id == principal.user_id):
        raise ApiError(ErrorCode.NOT_FOUND, "No such job.")
    tool_id = (body.get("toolId") or "").strip()[:100] or None
    row = await lib.save_job_result(principal, rec, parent, filename=body.get("filename"), tool_id=tool_id)
    return json_response({"file": file_json(row)}, 201)


async def _save_uploaded_result(services, principal):
    lib = get_library(services)
    async with receive_upload(services, keep=False) as received:
        files = received.upload.files_named("file")
        if len(files) != 1:
            raise ApiError(ErrorCode.VALIDATION_ERROR, "Send the result as one multipart part named 'file'.")
        if files[0].size == 0:
            raise ApiError(ErrorCode.VALIDATION_ERROR, f"The file '{files[0].name}' is empty; nothing was saved.")
        values = received.upload.values
        parent_id = (values.get("parentId") or values.get("fileId") or "").strip()
        parent = await lib.visible(principal, parent_id) if parent_id else None
        tool_id = (values.get("toolId") or "").strip()[:100] or None
        row = await lib.save_result_file(principal, files[0].path, parent, [tool_id] if tool_id else [],
                                         name=files[0].name)
    _audit("FILE_UPLOADED", row.original_name, {"fileId": row.id, "size": row.size, "parentId": row.parent_id})
    return json_response({"file": file_json(row)}, 201)


# ---- workspace -----------------------------------------------------------------------------------------

@bp.post("/api/v1/upload")
@doc(
    "Files", "Upload files to a temporary workspace",
    body=("multipart", MULTI_FILES),
    responses={200: obj({"jobId": STR, "files": {"type": "array", "items": obj(
        {"name": STR, "size": INT, "format": STR}, ("name", "size", "format"))}}, ("jobId", "files"))},
    errors=(400, 413))
@require("tools:use")
async def workspace_upload():
    """Files into a fresh workspace folder (temporary: swept after FILE_MAX_AGE_HOURS)."""
    services = current_app.lutra
    guard_capacity(services)
    async with receive_upload(services) as received:
        job_id = received.job_id
        files = received.files("No files uploaded: send them as parts named 'files'.")
    return json_response({"jobId": job_id, "files": [
        {"name": f.name, "size": f.size, "format": f.format or f.name.rpartition(".")[2].lower() or "unknown"}
        for f in files]})


@bp.post("/api/v1/preview")
@doc(
    "Files", "A browser-friendly WebP preview (inside 1200x1200)",
    "For HEIC/HEIF, TIFF, RAW and other formats browsers cannot show.",
    body=("multipart", obj({"file": BINARY}, ("file",))),
    responses={200: binary("image/webp", "WebP preview")}, errors=(400, 413, 415))
@require("tools:use")
async def preview():
    """A browser-friendly WebP inside 1200x1200 of an image any decoder here can read (HEIC, TIFF, RAW...)."""
    services = current_app.lutra
    guard_capacity(services)
    async with receive_upload(services, keep=False) as received:
        item = received.files("No file uploaded: send it as a multipart part named 'file'.")[0]
        if item.size == 0:
            raise ApiError(ErrorCode.VALIDATION_ERROR, "The file is empty.")
        if item.kind not in ("image", "svg", "unknown") and not is_camera_raw(str(item.path)):
            raise ApiError(ErrorCode.UNSUPPORTED_MEDIA_TYPE, "A preview can only be made from an image.")
        data = await renders.preview(get_library(services).internal, item.path, item.name)
    return Response(data, content_type="image/webp", headers={"Cache-Control": "no-store"})
