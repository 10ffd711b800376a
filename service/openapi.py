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

from protocols.tools import REGISTRY, Section
from service.apidoc import SCHEMA_REF, Op, described, json_content, ref
from service.openapi_content import (
    AREA_TAGS,
    COMPONENT_SCHEMAS,
    ERROR_EXAMPLES,
    ERROR_STATUS_TEXT,
    EXAMPLE_INPUT,
    INFO_DESCRIPTION,
    PATH_EXAMPLES,
    RESPONSE_EXAMPLES,
    SECTION_TAGS,
    SECURITY_SCHEMES,
    tool_result_example,
)
from service.openapi_tools import hoist, tool_operations

OPENAPI_VERSION = "3.1.0"


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


def _error_response(status: int) -> dict[str, Any]:
    message, code = ERROR_EXAMPLES[status]
    content = {"application/json": {"schema": ref("Error"), "example": {"error": message, "code": code}}}
    response: dict[str, Any] = {"description": ERROR_STATUS_TEXT[status], "content": content}
    if status in (429, 503):
        response["headers"] = {"Retry-After": {"schema": {"type": "string"}, "description": "Seconds to wait"}}
    if status == 405:
        response["headers"] = {"Allow": {"schema": {"type": "string"}, "description": "The methods this URL takes"}}
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
    if isinstance(body, tuple) and body[0] == "either":  # ("either", JSON schema, multipart schema)
        as_json = _request_body(body[1], required, components)
        as_multipart = _request_body(("multipart", body[2]), required, components)
        return {"required": True, "content": {**as_json["content"], **as_multipart["content"]}}
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


# ---- response examples (what the interactive docs show as "Example Value") ---------------------------------


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
                    example = tool_result_example(EXAMPLE_INPUT.get(section, "output.bin"))
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
