"""The OpenAPI 3.1 document, generated from the code so that it cannot drift from it.

- Every route comes from the app's own url_map; each view declares what it does, takes and answers with
  `@doc` (service/apidoc.py) where it is defined. `build(app, strict=True)` raises for a registered route
  without one (the test suite builds it strictly; the server never fails a request over a missing entry).
- Every tool in the registry is its own operation at /api/v1/tools/<section>/<toolId> (plus /batch where
  batching applies, plus sub-routes such as gif-tools/info). Its settings schema is the tool's pydantic model
  as JSON Schema 2020-12 (enums, ranges, defaults, descriptions, camelCase names).
- The same document feeds the interactive docs (/api/docs), llms.txt / llms-full.txt and `lutra call`.
"""

from __future__ import annotations

import copy
import re
from typing import Any

from protocols.errors import DEFAULT_STATUS, ErrorCode
from protocols.tools import REGISTRY, Mode, Section, ToolSpec
from service.apidoc import (
    BINARY,
    BOOL,
    INT,
    SCHEMA_REF,
    STR,
    TIME,
    Op,
    described,
    json_content,
    nullable,
    obj,
    ref,
)

OPENAPI_VERSION = "3.1.0"

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
    }, ("jobId", "downloadUrl", "originalSize", "processedSize"),
        description="A finished tool run. Tool extras (e.g. `targetMet`, `entries`, `text`, image info) are "
                    "added as further fields."),
    "AsyncJob": obj({
        "jobId": {"type": "string", "format": "uuid"},
        "async": {"type": "boolean", "const": True},
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
    }, ("jobId", "status", "progress"), description="A job's state; also the JSON of each SSE `data:` frame."),
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


def body_json(schema: dict[str, Any], required: bool = True) -> dict[str, Any]:
    return {"required": required, "content": json_content(schema)}


def model_schema(model: type, components: dict[str, Any]) -> dict[str, Any]:
    """A pydantic model as a component schema (camelCase aliases); returns a $ref to it."""
    name = model.__name__
    if name in components and components[name].get("x-python") != f"{model.__module__}.{model.__qualname__}":
        name = model.__module__.rsplit(".", 1)[-1].capitalize() + name
    if name not in components:
        hoist(model.model_json_schema(by_alias=True, ref_template=SCHEMA_REF + name + "_{model}"),
              name, components)
        components[name]["x-python"] = f"{model.__module__}.{model.__qualname__}"
    return ref(name)


def hoist(schema: dict[str, Any], name: str, components: dict[str, Any]) -> None:
    defs = schema.pop("$defs", {})
    components[name] = clean_schema(schema)
    for def_name, sub in defs.items():
        components[f"{name}_{def_name}"] = clean_schema(sub)


def clean_schema(schema: Any) -> Any:
    """Drop pydantic's auto-generated titles (noise in the docs); keep everything that constrains."""
    if isinstance(schema, list):
        return [clean_schema(s) for s in schema]
    if not isinstance(schema, dict):
        return schema
    out: dict[str, Any] = {}
    for key, value in schema.items():
        if key == "title" and isinstance(value, str):
            continue
        if key in ("properties", "$defs", "patternProperties"):
            out[key] = {k: clean_schema(v) for k, v in value.items()}
        elif key in ("items", "additionalProperties", "not", "contains", "propertyNames", "if", "then", "else"):
            out[key] = clean_schema(value)
        elif key in ("anyOf", "oneOf", "allOf", "prefixItems"):
            out[key] = [clean_schema(v) for v in value]
        else:
            out[key] = value
    return out


# ---- non-tool routes ------------------------------------------------------------------------------

# Routes never described: the framework's static route (there is no static folder).
IGNORED_RULES = {"/static/<path:filename>"}
WEB_APP_ENDPOINTS = "web."  # the web app's pages and assets (service/routes/web.py) are HTML, not the API
TOOLS_RULE = "/api/v1/tools/<path:route>"


class UndocumentedRoute(LookupError):
    pass


# ---- building -------------------------------------------------------------------------------------

def app_routes(app) -> list[tuple[str, str, Any]]:
    """(method, rule, view) for every route of the app, HEAD/OPTIONS aside."""
    out = []
    for rule in app.url_map.iter_rules():
        if rule.rule in IGNORED_RULES or rule.endpoint.startswith(WEB_APP_ENDPOINTS):
            continue
        view = app.view_functions.get(rule.endpoint)
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            out.append((method, rule.rule, view))
    return sorted(out, key=lambda r: (r[1], r[0]))


def openapi_path(rule: str) -> str:
    return re.sub(r"<(?:[a-zA-Z_]+(?:\([^)]*\))?:)?([a-zA-Z_][a-zA-Z0-9_]*)>", r"{\1}", rule)


def path_params(rule: str) -> list[str]:
    return re.findall(r"<(?:[a-zA-Z_]+(?:\([^)]*\))?:)?([a-zA-Z_][a-zA-Z0-9_]*)>", rule)


def build(app, *, strict: bool = False, version: str | None = None) -> dict[str, Any]:
    """The whole document. `strict`: raise UndocumentedRoute for a route without `@doc`."""
    from actors import catalog
    from service.config import VERSION

    catalog.load()
    components: dict[str, Any] = copy.deepcopy(COMPONENT_SCHEMAS)
    paths: dict[str, dict[str, Any]] = {}
    undocumented = []
    for method, rule, view in app_routes(app):
        if rule == TOOLS_RULE:
            continue
        op = described(view)
        if op is None:
            undocumented.append(f"{method} {rule}")
            op = Op("Other", f"{method} {rule}", "Not yet described.")
        permissions = getattr(view, "required_permissions", None)
        operation = _route_operation(method, rule, op, permissions, components)
        paths.setdefault(openapi_path(rule), {})[method.lower()] = operation
    if strict and undocumented:
        raise UndocumentedRoute("routes without an OpenAPI description: " + ", ".join(undocumented))
    tools_view = app.view_functions.get("tools.run_tool")
    tool_perms = getattr(tools_view, "required_permissions", ("tools:use",))
    for spec in sorted(REGISTRY.values(), key=lambda s: (s.section.value, s.id)):
        for path, operation in tool_operations(spec, components, tool_perms):
            paths.setdefault(path, {})["post"] = operation
    for value in components.values():
        value.pop("x-python", None)
    add_response_examples(paths)
    # the tools first: they are what most readers come for
    tags = [{"name": name, "description": text} for name, text in SECTION_TAGS.values()]
    tags += [{"name": name, "description": text} for name, text in AREA_TAGS.items()]
    return {
        "openapi": OPENAPI_VERSION,
        "info": {
            "title": "Lutra API",
            "version": version or VERSION,
            "summary": "A self-hosted media toolkit: images, video, audio, PDF/office documents and data files.",
            "description": INFO_DESCRIPTION,
            "license": {"name": "AGPL-3.0-or-later", "identifier": "AGPL-3.0-or-later"},
        },
        "servers": [{"url": "/", "description": "This server"}],
        "security": [{"sessionToken": []}, {"apiKey": []}, {"apiKeyHeader": []}],
        "tags": tags,
        "paths": paths,
        "components": {
            "schemas": dict(sorted(components.items())),
            "securitySchemes": SECURITY_SCHEMES,
            "responses": {f"E{status}": _error_response(status) for status in sorted(ERROR_STATUS_TEXT)},
        },
    }


INFO_DESCRIPTION = """\
Every tool is `POST /api/v1/tools/<section>/<toolId>` with a `multipart/form-data` body: the input as a
`file` part (several as repeated `files` parts; a named second input such as `watermark` where a tool takes
one) and a `settings` part holding the tool's settings as JSON (camelCase names). A few tools take a JSON
body instead. The section-less form `/api/v1/tools/<toolId>` is accepted as an alias.

Fast tools answer 200 `{jobId, downloadUrl, originalSize, processedSize}`; long tools (and fast ones that
outlast SYNC_WAIT_MS) answer 202 `{jobId, async: true}`: follow `GET /api/v1/jobs/{jobId}/progress` (SSE) to
the terminal frame, whose `result` is the 200 body. Fetch results from `downloadUrl`.
`POST .../<toolId>/batch` with several `files` parts answers a ZIP.

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


def _error_response(status: int) -> dict[str, Any]:
    message, code = ERROR_EXAMPLES[status]
    content = {"application/json": {"schema": ref("Error"), "example": {"error": message, "code": code}}}
    response: dict[str, Any] = {"description": ERROR_STATUS_TEXT[status], "content": content}
    if status in (429, 503):
        response["headers"] = {"Retry-After": {"schema": {"type": "string"}, "description": "Seconds to wait"}}
    return response


def _responses(op_responses: dict[int, Any], errors: tuple[int, ...], guarded: bool) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for status, value in sorted(op_responses.items()):
        if isinstance(value, tuple):
            description, extra = value
            out[str(status)] = {"description": description, **extra}
        else:
            out[str(status)] = {"description": _STATUS_WORDS.get(status, "OK"), "content": json_content(value)}
    statuses = set(errors) | {429}
    if guarded:
        statuses |= {401, 403}
    for status in sorted(statuses):
        out.setdefault(str(status), {"$ref": f"#/components/responses/E{status}"})
    return out


_STATUS_WORDS = {200: "OK", 201: "Created", 202: "Accepted: runs in the background", 206: "Partial content"}


def _route_operation(method: str, rule: str, op: Op, permissions, components) -> dict[str, Any]:
    guarded = permissions is not None
    access = ("Public." if not guarded else
              f"Requires: {', '.join(permissions)}." if permissions else "Requires authentication.")
    operation: dict[str, Any] = {
        "tags": [op.tag],
        "summary": op.summary,
        "description": (op.description + "\n\n" if op.description else "") + access,
        "operationId": _operation_id(method, rule),
        "responses": _responses(op.responses, op.errors, guarded),
    }
    if guarded:
        operation["x-required-permissions"] = list(permissions)
    else:
        operation["security"] = []
    params = [{"name": name, "in": "path", "required": True,
               "schema": op.params.get(name, {"type": "string", "minLength": 1})}
              for name in path_params(rule)]
    operation["parameters"] = params + op.query
    if not operation["parameters"]:
        del operation["parameters"]
    if op.body is not None:
        operation["requestBody"] = _request_body(op.body, op.body_required, components)
        if "400" not in operation["responses"]:
            operation["responses"]["400"] = {"$ref": "#/components/responses/E400"}
            operation["responses"] = dict(sorted(operation["responses"].items()))
    return operation


def _request_body(body: Any, required: bool, components) -> dict[str, Any]:
    if isinstance(body, tuple) and body[0] == "multipart":
        schema = body[1]
        encoding = {name: {"contentType": "application/json"}
                    for name, prop in schema.get("properties", {}).items() if "$ref" in prop}
        content: dict[str, Any] = {"schema": schema}
        if encoding:
            content["encoding"] = encoding
        return {"required": True, "content": {"multipart/form-data": content}}
    if isinstance(body, dict) and "x-model" in body:
        extra = {k: v for k, v in body.items() if k != "x-model"}
        target = model_schema(body["x-model"], components)
        schema = {**target} if not extra else {"allOf": [target], **extra}
        return body_json(schema, required)
    if isinstance(body, type):
        return body_json(model_schema(body, components), required)
    return body_json(body, required)


def _operation_id(method: str, rule: str) -> str:
    words = re.sub(r"<(?:[a-zA-Z_]+:)?([a-zA-Z_]+)>", r"by_\1", rule)
    words = re.sub(r"[^A-Za-z0-9]+", "_", words).strip("_")
    return f"{method.lower()}_{words}"


# ---- tools ----------------------------------------------------------------------------------------

def settings_component(spec: ToolSpec) -> str:
    return "".join(part.capitalize() for part in re.split(r"[-/_]", spec.id)) + "Settings"


def tool_path(spec: ToolSpec, batch: bool = False) -> str:
    return f"/api/v1/tools/{spec.section.value}/{spec.id}" + ("/batch" if batch else "")


def supports_batch(spec: ToolSpec) -> bool:
    """What service/routes/tools.py accepts on /batch: one-input multipart tools that are not sub-routes."""
    return spec.body == "multipart" and not spec.multi_input and not spec.is_subroute and spec.inputs[1] >= 1


def setting_aliases(model: type) -> dict[str, str]:
    """{alias: documented name} for every setting that also accepts another name (pydantic AliasChoices:
    the documented name first, then the peer's)."""
    from pydantic import AliasChoices

    out: dict[str, str] = {}
    for field_name, info in model.model_fields.items():
        choices = info.validation_alias
        if not isinstance(choices, AliasChoices):
            continue
        names = [c for c in choices.choices if isinstance(c, str)]
        primary = names[0] if names else field_name
        for alias in names[1:]:
            if alias not in (field_name, primary):
                out[alias] = primary
    return out


def document_aliases(model: type, schema: dict[str, Any]) -> None:
    """Each alias as a property of its own, marked deprecated, pointing at the documented setting."""
    props = schema.get("properties", {})
    for alias, primary in setting_aliases(model).items():
        if primary not in props or alias in props:
            continue
        props[alias] = {**copy.deepcopy(props[primary]), "deprecated": True, "x-alias-of": primary,
                        "description": f"Alias of `{primary}` (the name the peer's current API uses); "
                                       f"`{primary}` wins when both are sent."}
        props[alias].pop("default", None)


def settings_schema(spec: ToolSpec, components: dict[str, Any]) -> dict[str, Any]:
    name = settings_component(spec)
    if name not in components:
        raw = spec.settings.model_json_schema(by_alias=True, ref_template=SCHEMA_REF + name + "_{model}")
        hoist(raw, name, components)
        document_aliases(spec.settings, components[name])
        components[name].setdefault("description", f"Settings of {spec.id} (camelCase names; all optional "
                                                    "unless marked required).")
    return ref(name)


ROLE_TEXT = {
    "watermark": "the watermark image", "overlay": "the image layered on top", "mask": "the mask (white = erase)",
    "subtitle": "the subtitle file (SRT/VTT/ASS)", "audio": "the new audio track", "logo": "a logo for the centre",
    "background": "a background image",
}


def tool_multipart_schema(spec: ToolSpec, settings_ref: dict[str, Any]) -> dict[str, Any]:
    low, high = spec.inputs
    props: dict[str, Any] = {}
    required: list[str] = []
    role_count = len(spec.roles)
    primary_max = high - role_count if spec.roles else high
    if primary_max >= 1:
        if primary_max > 1 or (not spec.roles and high > 1):
            props["files"] = {"type": "array", "items": BINARY, "minItems": max(1, low - role_count),
                              "maxItems": primary_max,
                              "description": "The input files, as repeated `files` parts (or `file` parts)"}
            if low:
                required.append("files")
        else:
            props["file"] = {**BINARY, "description": "The input file"}
            if low:
                required.append("file")
    for role in spec.roles:
        props[role] = {**BINARY, "description": f"Second input: {ROLE_TEXT.get(role, role)} (or a second `file` part)"}
        if low >= 2:
            required.append(role)
    props["settings"] = {**settings_ref, "description": "The settings, as a JSON string"}
    return obj(props, required)


def tool_operations(spec: ToolSpec, components: dict[str, Any], permissions) -> list[tuple[str, dict[str, Any]]]:
    settings_ref = settings_schema(spec, components)
    section_tag = SECTION_TAGS[spec.section][0]
    summary = spec.summary or spec.id
    facts = [f"Tool id `{spec.id}` ({'long: answers 202 at once' if spec.mode is Mode.LONG else 'fast'})."]
    low, high = spec.inputs
    if high == 0:
        facts.append("Takes no input file.")
    elif high > 1:
        facts.append(f"Takes {low} files." if low == high else f"Takes {low} to {high} files.")
    if spec.roles:
        facts.append("Named second input: " + ", ".join(f"`{r}`" for r in spec.roles) + ".")
    if spec.accepts:
        facts.append("Accepts: " + ", ".join(sorted(spec.accepts)) + ".")
    if spec.body == "json":
        facts.append("JSON body: the settings object itself.")
    elif spec.body == "either":
        facts.append("Either a JSON body (settings only) or multipart (with the optional file).")
    if spec.response == "file":
        facts.append("Answers with the output file itself; extras travel as X-* headers.")
    if spec.pipeline_step:
        facts.append("Usable as a pipeline step.")
    if spec.body != "json" and spec.inputs[1] >= 1:
        facts.append("An optional `fileId` part (a library file id) saves the result as that file's new version "
                     "(`savedFileId` in the answer).")
    facts.append(f"Requires: {', '.join(permissions)}.")
    content: dict[str, Any] = {}
    if spec.body in ("multipart", "either"):
        content["multipart/form-data"] = {"schema": tool_multipart_schema(spec, settings_ref),
                                          "encoding": {"settings": {"contentType": "application/json"}}}
    if spec.body in ("json", "either"):
        content["application/json"] = {"schema": settings_ref}
    responses: dict[str, Any] = {}
    if spec.response == "file":
        responses["200"] = {"description": "The output file",
                            "headers": {"X-Job-Id": {"schema": {"type": "string"}}},
                            "content": {"image/*": {"schema": {"type": "string", "format": "binary"}}}}
    elif spec.mode is Mode.FAST:
        responses["200"] = {"description": "Done", "content": json_content(ref("ToolResult"))}
    responses["202"] = {"description": "Accepted: follow /api/v1/jobs/{jobId}/progress",
                        "content": json_content(ref("AsyncJob"))}
    errors = [400, 401, 403, 404, 409, 413, 415, 422, 429, 503, 504, 507]
    if spec.family.value in ("vision", "speech"):
        errors.append(501)
    for status in sorted(errors):
        responses[str(status)] = {"$ref": f"#/components/responses/E{status}"}
    op_id = "tool_" + re.sub(r"[^A-Za-z0-9]+", "_", f"{spec.section.value}_{spec.id}")
    operation = {
        "tags": [section_tag],
        "summary": summary,
        "description": " ".join(facts),
        "operationId": op_id,
        "x-tool-id": spec.id,
        "x-mode": spec.mode.value,
        "x-required-permissions": list(permissions),
        "requestBody": {"required": spec.body != "either", "content": content},
        "responses": dict(sorted(responses.items())),
    }
    out = [(tool_path(spec), operation)]
    if supports_batch(spec):
        batch_schema = obj({
            "files": {"type": "array", "items": BINARY, "minItems": 1, "description": "One job per file"},
            "settings": {**settings_ref, "description": "The settings for every file, as a JSON string"},
        }, ("files",))
        batch = {
            "tags": [section_tag],
            "summary": f"{summary} (batch: several files, one ZIP)",
            "description": (f"Runs `{spec.id}` on every `files` part. One bad file is reported, the rest still "
                            "run; all failed -> 422 with `errors`. The ZIP stays downloadable at "
                            "/api/v1/download/{X-Job-Id}/<name>. Requires: " + ", ".join(permissions) + "."),
            "operationId": op_id + "_batch",
            "x-tool-id": spec.id,
            "x-batch": True,
            "x-required-permissions": list(permissions),
            "requestBody": {"required": True, "content": {"multipart/form-data": {
                "schema": batch_schema, "encoding": {"settings": {"contentType": "application/json"}}}}},
            "responses": {
                "200": {"description": "The results as a ZIP",
                        "headers": {"X-Job-Id": {"schema": {"type": "string"}},
                                    "X-File-Results": {"schema": {"type": "string"},
                                                       "description": "URL-encoded JSON: input index -> output name"}},
                        "content": {"application/zip": {"schema": {"type": "string", "format": "binary"}}}},
                **{str(s): {"$ref": f"#/components/responses/E{s}"} for s in (400, 401, 403, 413, 415, 429, 503)},
                "422": {"description": "Every file failed", "content": json_content(ref("BatchError"))},
            },
        }
        batch["responses"] = dict(sorted(batch["responses"].items()))
        out.append((tool_path(spec, batch=True), batch))
    return out


# ---- response examples (what the interactive docs show as "Example Value") ---------------------------------

EXAMPLE_JOB_ID = "5f0c6e2a-8d1b-4c3e-9a77-2b6f1d4e8c90"
_EXAMPLE_INPUT = {Section.IMAGE: "photo.jpg", Section.VIDEO: "clip.mp4", Section.AUDIO: "track.mp3",
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


def add_response_examples(paths: dict[str, dict[str, Any]]) -> None:
    """A concrete example on each JSON success answer whose shape is a shared component (tool results, jobs,
    saved pipelines, new API keys). Response examples only: they never change what a client may send."""
    for path, item in paths.items():
        for method, operation in item.items():
            for status, response in operation.get("responses", {}).items():
                media = response.get("content", {}).get("application/json") if status.startswith("2") else None
                if not media or "example" in media:
                    continue
                example = PATH_EXAMPLES.get((path, method, status))
                name = media.get("schema", {}).get("$ref", "").removeprefix(SCHEMA_REF)
                if example is None and name == "ToolResult" and "x-tool-id" in operation:
                    section = Section(path.split("/")[4])
                    example = tool_result_example(_EXAMPLE_INPUT.get(section, "output.bin"))
                if example is None:
                    example = RESPONSE_EXAMPLES.get(name)
                if example is not None:
                    media["example"] = copy.deepcopy(example)


# ---- cached access for the routes -----------------------------------------------------------------

_CACHE: dict[int, dict[str, Any]] = {}


def document(app) -> dict[str, Any]:
    """The app's document, built once (routes and tools do not change while the server runs)."""
    key = id(app)
    if key not in _CACHE:
        _CACHE[key] = build(app)
    return _CACHE[key]


def tool_operation_count(doc: dict[str, Any]) -> int:
    return sum(1 for item in doc["paths"].values() for op in item.values() if "x-tool-id" in op)
