"""The fixed parts of the OpenAPI document: tags, the shared component schemas, the error responses, the
security schemes, the introduction and the response examples. What each route does is declared on the route
(`@doc`, service/apidoc.py); service/openapi.py assembles the document.
"""

from __future__ import annotations

from typing import Any

from protocols.errors import DEFAULT_STATUS, ErrorCode
from protocols.tools import Mode, Section
from service.apidoc import BOOL, INT, STR, TIME, nullable, obj, ref

WARNINGS = {"type": "array", "items": {"type": "string"},
            "description": "Settings that were ignored because the tool does not know them, each with the closest "
                           "valid name when there is one (e.g. \"Unknown setting 'fitt' for resize was ignored; did "
                           "you mean 'fit'?\"). Absent when there is nothing to say."}

SECTION_TAGS = {
    Section.IMAGE: ("Image tools", "Images: essentials, optimisation, adjustments, AI, watermarks, utilities, "
                                   "layout, format conversion."),
    Section.VIDEO: ("Video tools", "Video conversion, editing and subtitles (ffmpeg)."),
    Section.AUDIO: ("Audio tools", "Audio conversion, editing, loudness and transcription."),
    Section.PDF: ("PDF tools", "PDF and office documents, e-books, OCR."),
    Section.FILES: ("File tools", "CSV, Excel, JSON, XML, YAML and ZIP."),
}
AREA_TAGS = {
    "Tools": "The tool catalogue.",
    "Jobs": "Job state, live progress (SSE), cancel, result downloads.",
    "Pipelines": "Chains of tool steps over one file or a batch, and saved pipelines.",
    "Files": "The persistent file library, workspace uploads and previews.",
    "Auth": "Login, logout, session, password change.",
    "Users": "User administration (users:manage).",
    "API keys": "Personal API keys (`si_` + 96 hex), shown once at creation.",
    "Roles": "Built-in and custom roles made of the 17 permissions.",
    "Teams": "Teams (teams:manage).",
    "Settings": "Runtime key-value settings.",
    "Audit": "The audit log.",
    "System": "Health, public configuration, analytics consent, diagnostics.",
    "Features": "AI feature bundles (model packages).",
    "Meme templates": "Templates and fonts for the meme generator.",
    "Docs": "This document, the interactive docs and the LLM-friendly descriptions.",
}


ERROR_CODES = [c.value for c in ErrorCode]

# Shapes of bodies shared by several routes (spec/COMPATIBILITY.md).
COMPONENT_SCHEMAS: dict[str, dict[str, Any]] = {
    "Error": obj({
        "error": {"type": "string", "description": "A message a person can act on"},
        "code": {"type": "string", "enum": ERROR_CODES, "description": "Machine-readable code"},
        "details": {"type": "array", "items": ref("ValidationDetail"),
                    "description": "Validation problems, one per field"},
    }, ("error", "code"), description="Every error: `{error, code}` (+ `details` for validation errors)."),
    "ValidationDetail": obj({"path": STR, "message": STR}, ("path", "message")),
    "BatchError": obj({
        "error": STR, "code": {"type": "string", "enum": ERROR_CODES}, "jobId": STR,
        "errors": {"type": "array", "items": ref("FileError")},
    }, ("error", "code"), description="A batch in which no file succeeded."),
    "FileError": obj({"filename": STR, "error": STR}, ("filename", "error")),
    "Ok": obj({"ok": {"type": "boolean", "const": True}}, ("ok",)),
    "Download": obj({"filename": STR, "downloadUrl": STR, "size": INT}, ("filename", "downloadUrl")),
    "ToolResult": obj({
        "jobId": {"type": "string", "format": "uuid"},
        "downloadUrl": {"type": "string", "description": "GET it to fetch the (first) result; a ZIP when a "
                                                         "tool makes several files"},
        "originalSize": {"type": "integer", "description": "Bytes uploaded"},
        "processedSize": {"type": "integer", "description": "Bytes of the result at downloadUrl"},
        "downloads": {"type": "array", "items": ref("Download"), "description": "When there are several outputs"},
        "savedFileId": {"type": "string", "description": "The library file created when `fileId` was sent"},
        "warnings": WARNINGS,
    }, ("jobId", "downloadUrl", "originalSize", "processedSize"),
        description="A finished tool run. Tool extras (e.g. `targetMet`, `entries`, `text`, image info) are "
                    "added as further fields."),
    "AsyncJob": obj({
        "jobId": {"type": "string", "format": "uuid"},
        "async": {"type": "boolean", "const": True},
        "warnings": WARNINGS,
    }, ("jobId", "async"), description="Accepted; follow GET /api/v1/jobs/{jobId}/progress (SSE) to the end."),
    "JobFrame": obj({
        "jobId": STR,
        "status": {"type": "string", "enum": ["queued", "processing", "completed", "failed", "canceled"]},
        "progress": {"type": "number", "minimum": 0, "maximum": 100},
        "message": STR,
        "result": {"type": "object", "description": "On completion: exactly the body a 200 would have had"},
        "error": STR, "code": STR,
        "totalFiles": INT, "completedFiles": INT, "failedFiles": INT,
        "errors": {"type": "array", "items": ref("FileError")},
        "files": {"type": "array", "items": ref("BatchFile"), "description": "A tool batch: each file's state"},
    }, ("jobId", "status", "progress"), description="A job's state; also the JSON of each SSE `data:` frame."),
    "BatchFile": obj({
        "index": INT, "filename": STR,
        "status": {"type": "string", "enum": ["queued", "processing", "completed", "failed", "canceled"]},
        "progress": {"type": "number", "minimum": 0, "maximum": 100},
        "message": STR, "error": STR,
        "output": {"type": "string", "description": "Its name in the ZIP, once packed"},
        "downloadUrl": {"type": "string", "description": "This file's result on its own, once packed"},
    }, ("index", "filename", "status", "progress")),
    "User": obj({
        "id": STR, "username": STR, "role": STR, "teamId": nullable(STR), "teamName": nullable(STR),
        "mustChangePassword": BOOL, "disabled": BOOL, "createdAt": nullable(TIME), "updatedAt": nullable(TIME),
        "permissions": {"type": "array", "items": STR},
    }, ("id", "username", "role")),
    "SessionUser": obj({
        "id": nullable(STR), "username": STR, "role": STR, "mustChangePassword": BOOL,
        "permissions": {"type": "array", "items": STR}, "teamName": nullable(STR),
    }, ("id", "username", "role", "mustChangePassword", "permissions")),
    "ApiKey": obj({
        "id": STR, "name": STR, "permissions": nullable({"type": "array", "items": STR}),
        "createdAt": nullable(TIME), "expiresAt": nullable(TIME), "lastUsedAt": nullable(TIME),
        "expired": BOOL, "userId": STR, "username": STR,
    }, ("id", "name")),
    "ApiKeyCreated": obj({
        "id": STR, "key": {"type": "string", "pattern": "^si_[0-9a-f]{96}$", "description": "Shown only once"},
        "name": STR, "permissions": nullable({"type": "array", "items": STR}),
        "expiresAt": nullable(TIME), "createdAt": TIME,
    }, ("id", "key", "name", "permissions", "expiresAt", "createdAt")),
    "Role": obj({
        "id": STR, "name": STR, "description": STR, "permissions": {"type": "array", "items": STR},
        "builtin": BOOL, "isBuiltin": BOOL, "userCount": INT, "createdAt": nullable(TIME),
        "updatedAt": nullable(TIME),
    }, ("id", "name", "permissions")),
    "Team": obj({"id": STR, "name": STR, "memberCount": INT, "isDefault": BOOL, "createdAt": nullable(TIME)},
                ("id", "name")),
    "PipelineStep": obj({
        "toolId": {"type": "string", "description": "A tool id from GET /api/v1/pipeline/tools"},
        "settings": {"type": "object", "description": "That tool's settings"},
    }, ("toolId",)),
    "PipelineSpec": obj({
        "steps": {"type": "array", "items": ref("PipelineStep"), "minItems": 1},
        "pipelineId": {"type": "string", "description": "Run a saved pipeline instead of `steps`"},
    }, description="`{steps:[{toolId, settings}]}` or `{pipelineId}`."),
    "Pipeline": obj({
        "id": STR, "name": STR, "description": STR, "steps": {"type": "array", "items": ref("PipelineStep")},
        "createdAt": nullable(TIME), "ownerId": nullable(STR),
    }, ("id", "name", "steps")),
    "LibraryFile": obj({
        "id": STR, "originalName": STR, "mimeType": nullable(STR), "size": INT, "width": nullable(INT),
        "height": nullable(INT), "version": INT, "parentId": nullable(STR),
        "toolChain": {"type": "array", "items": STR}, "createdAt": nullable(TIME),
    }, ("id", "originalName", "size", "version")),
    "AuditEntry": obj({
        "id": {"type": ["string", "integer"]}, "action": STR, "actorId": nullable(STR), "actorName": nullable(STR),
        "target": nullable(STR), "ip": nullable(STR), "details": {}, "createdAt": nullable(TIME),
    }, ("id", "action")),
    "FeatureBundle": obj({
        "id": STR, "name": STR, "description": STR,
        "status": {"type": "string", "enum": ["installed", "not_installed", "installing"]},
        "installed": BOOL, "size": nullable(INT), "sizeHuman": STR, "enabledTools": {"type": "array", "items": STR},
        "licence": nullable(STR), "offlineSource": {}, "sources": {"type": "array", "items": STR},
        "installedAt": {},
    }, ("id", "name", "status", "installed")),
    "ToolInfo": obj({
        "id": STR, "section": {"type": "string", "enum": [s.value for s in Section]},
        "mode": {"type": "string", "enum": [m.value for m in Mode]}, "summary": STR,
        "inputs": obj({"min": INT, "max": INT}), "body": STR, "disabled": BOOL,
    }, ("id", "section", "mode")),
}


INFO_DESCRIPTION = """\
Every tool is `POST /api/v1/tools/<section>/<toolId>` with a `multipart/form-data` body: the input as a
`file` part (several as repeated `files` parts; a named second input such as `watermark` where a tool takes
one) and a `settings` part holding the tool's settings as JSON (camelCase names). A few tools take a JSON
body instead. The section-less form `/api/v1/tools/<toolId>` is accepted as an alias.

Fast tools and AI image tools answer 200 `{jobId, downloadUrl, originalSize, processedSize}` when they finish
within SYNC_WAIT_MS; long tools (and the others when they outlast SYNC_WAIT_MS) answer 202 `{jobId, async: true}`:
follow `GET /api/v1/jobs/{jobId}/progress` (SSE) to the terminal frame, whose `result` is the 200 body. Fetch
results from `downloadUrl`. A setting the tool does not know is ignored and named in a `warnings` list of the
answer, with the closest valid name.
`POST .../<toolId>/batch` with several `files` parts answers a ZIP; a named second input (e.g. `watermark`)
sent once applies to every file. A wrong method on an API URL answers 405 `METHOD_NOT_ALLOWED` with an
`Allow` header.

Authentication: `Authorization: Bearer <session token>` from `POST /api/auth/login`, or an API key
(`si_` + 96 hex) as `Authorization: Bearer si_...` or `X-API-Key: si_...`. Errors are
`{"error": "...", "code": "MACHINE_CODE"}`.

Also: [llms.txt](/llms.txt), [llms-full.txt](/llms-full.txt), [openapi.yaml](/api/v1/openapi.yaml)."""

SECURITY_SCHEMES = {
    "sessionToken": {"type": "http", "scheme": "bearer", "bearerFormat": "session token",
                     "description": "The `token` from POST /api/auth/login."},
    "apiKey": {"type": "http", "scheme": "bearer", "bearerFormat": "si_ API key",
               "description": "An API key (`si_` + 96 lowercase hex) from POST /api/v1/api-keys, as a bearer token."},
    "apiKeyHeader": {"type": "apiKey", "in": "header", "name": "X-API-Key",
                     "description": "The same API key in the X-API-Key header."},
}

ERROR_STATUS_TEXT = {
    400: "Invalid request (VALIDATION_ERROR)",
    401: "Not authenticated (AUTH_REQUIRED)",
    403: "Not allowed (FORBIDDEN, MUST_CHANGE_PASSWORD, USER_DISABLED, ESCALATION_DENIED, TOOL_DISABLED)",
    404: "Not found (NOT_FOUND)",
    405: "Wrong method for this URL (METHOD_NOT_ALLOWED); the Allow header names the right one",
    409: "Conflict (CONFLICT, LAST_ADMIN, SELF_DELETE, CANCELED)",
    410: "The input or result has expired (INPUT_MISSING)",
    413: "Too large (PAYLOAD_TOO_LARGE, see MAX_UPLOAD_SIZE_MB)",
    415: "Unsupported or undecodable input (UNSUPPORTED_MEDIA_TYPE)",
    416: "Range not satisfiable",
    422: "Processing failed (PROCESSING_FAILED)",
    429: "Too many requests (RATE_LIMITED, LOGIN_THROTTLED); see Retry-After",
    501: "The AI model this tool needs is not installed (FEATURE_NOT_INSTALLED)",
    503: "Busy or low on disk (BUSY); see Retry-After",
    504: "The job ran past its deadline (TIMEOUT)",
    507: "Storage quota exceeded (INSUFFICIENT_STORAGE)",
}
assert all(DEFAULT_STATUS[c] in ERROR_STATUS_TEXT or DEFAULT_STATUS[c] == 500 for c in ErrorCode)


ERROR_EXAMPLES = {
    400: ("Invalid settings for resize: width: Input should be greater than or equal to 1", "VALIDATION_ERROR"),
    401: ("Authentication required: send 'Authorization: Bearer <token>'.", "AUTH_REQUIRED"),
    403: ("Missing permission: users:manage.", "FORBIDDEN"),
    404: ("Not found.", "NOT_FOUND"),
    405: ("GET is not allowed here; use POST.", "METHOD_NOT_ALLOWED"),
    409: ("A team named 'design' already exists.", "CONFLICT"),
    410: ("This result has expired and was removed.", "INPUT_MISSING"),
    413: ("The upload is larger than this server's limit of 100 MB.", "PAYLOAD_TOO_LARGE"),
    415: ("resize expects an image; 'notes.txt' looks like a text file.", "UNSUPPORTED_MEDIA_TYPE"),
    416: ("Range not satisfiable.", "VALIDATION_ERROR"),
    422: ("The file could not be processed.", "PROCESSING_FAILED"),
    429: ("Too many requests; try again later.", "RATE_LIMITED"),
    501: ("This tool needs an AI model bundle that is not installed.", "FEATURE_NOT_INSTALLED"),
    503: ("The server is low on disk space; try again later.", "BUSY"),
    504: ("The job ran past its deadline.", "TIMEOUT"),
    507: ("Your storage quota is full.", "INSUFFICIENT_STORAGE"),
}


EXAMPLE_JOB_ID = "5f0c6e2a-8d1b-4c3e-9a77-2b6f1d4e8c90"
EXAMPLE_INPUT = {Section.IMAGE: "photo.jpg", Section.VIDEO: "clip.mp4", Section.AUDIO: "track.mp3",
                  Section.PDF: "document.pdf", Section.FILES: "data.csv"}


def tool_result_example(name: str = "photo.jpg", **extra: Any) -> dict[str, Any]:
    return {"jobId": EXAMPLE_JOB_ID, "downloadUrl": f"/api/v1/download/{EXAMPLE_JOB_ID}/{name}",
            "originalSize": 245760, "processedSize": 81920, **extra}


RESPONSE_EXAMPLES: dict[str, Any] = {
    "ToolResult": tool_result_example(),
    "AsyncJob": {"jobId": EXAMPLE_JOB_ID, "async": True},
    "JobFrame": {"jobId": EXAMPLE_JOB_ID, "status": "completed", "progress": 100, "message": "Done",
                 "result": tool_result_example()},
    "Pipeline": {"id": "0b7e4d8c-31f2-4a5b-8c6d-9e0f1a2b3c4d", "name": "Web thumbnails",
                 "description": "200 px wide WebP", "createdAt": "2026-01-15T09:30:00Z",
                 "ownerId": "6a1d2c3b-4e5f-4a6b-8c7d-8e9f0a1b2c3d",
                 "steps": [{"toolId": "resize", "settings": {"width": 200}},
                           {"toolId": "convert", "settings": {"format": "webp"}}]},
    "ApiKeyCreated": {"id": "3c2b1a09-8f7e-4d6c-9b5a-4f3e2d1c0b9a", "key": "si_" + "0123456789abcdef" * 6,
                      "name": "build server", "permissions": ["tools:use"], "expiresAt": None,
                      "createdAt": "2026-01-15T09:30:00Z"},
}
PATH_EXAMPLES: dict[tuple[str, str, str], Any] = {
    ("/api/v1/pipeline/execute", "post", "200"): tool_result_example(
        "photo.webp", stepsCompleted=2, steps=[
            {"step": 1, "toolId": "resize", "status": "completed", "files": 1, "processedSize": 40960},
            {"step": 2, "toolId": "convert", "status": "completed", "files": 1, "processedSize": 20480}]),
}
