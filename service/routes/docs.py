"""The API describes itself (all public): the OpenAPI 3.1 document as YAML and JSON, interactive docs (Swagger
UI served from the `swagger-ui-bundle-v2` package, nothing from a CDN), and llms.txt / llms-full.txt, all
generated from the one document that service/openapi.py builds from the routes and the tool registry."""

from __future__ import annotations

import json
import mimetypes
from functools import cache
from pathlib import Path
from typing import Any

import trio
from quart import Blueprint, Response, current_app

from protocols.errors import ApiError, ErrorCode
from service import openapi
from service.apidoc import ANY_OBJECT, STR, doc

bp = Blueprint("docs", __name__)

_TEXT: dict[tuple[int, str], bytes] = {}
_render_lock = trio.Lock()


async def _rendered(kind: str) -> bytes:
    """The document rendered once per app and format (built off the event loop: it takes a moment)."""
    app = current_app._get_current_object()
    key = (id(app), kind)
    async with _render_lock:
        if key not in _TEXT:
            _TEXT[key] = await trio.to_thread.run_sync(_render, app, kind)
    return _TEXT[key]


def _render(app, kind: str) -> bytes:
    doc = openapi.document(app)
    if kind == "json":
        return json.dumps(doc, ensure_ascii=False, separators=(",", ":")).encode()
    if kind == "yaml":
        import yaml

        return yaml.safe_dump(doc, sort_keys=False, allow_unicode=True, width=120).encode()
    if kind == "llms":
        return llms_txt(doc).encode()
    return llms_full_txt(doc).encode()


def _text(body: bytes, content_type: str) -> Response:
    response = Response(body, content_type=content_type)
    response.headers["Cache-Control"] = "no-cache"
    return response


@bp.get("/api/v1/openapi.yaml")
@doc("Docs", "This OpenAPI 3.1 document (YAML)",
     responses={200: ("OpenAPI document", {"content": {
         "application/yaml": {"schema": ANY_OBJECT}}})})
async def openapi_yaml():
    return _text(await _rendered("yaml"), "application/yaml; charset=utf-8")


@bp.get("/api/v1/openapi.json")
@doc("Docs", "This OpenAPI 3.1 document (JSON)",
     responses={200: ANY_OBJECT})
async def openapi_json():
    return _text(await _rendered("json"), "application/json")


@bp.get("/llms.txt")
@doc("Docs", "A concise description of the API for language models",
     responses={200: ("Plain text", {"content": {"text/plain": {"schema": STR}}})})
async def llms():
    return _text(await _rendered("llms"), "text/plain; charset=utf-8")


@bp.get("/llms-full.txt")
@doc("Docs", "The complete description of the API for language models",
     responses={200: ("Plain text", {"content": {"text/plain": {"schema": STR}}})})
async def llms_full():
    return _text(await _rendered("full"), "text/plain; charset=utf-8")


# ---- interactive docs -----------------------------------------------------------------------------

DOCS_PAGE = """<!DOCTYPE html>
<html lang="en">
<head>
  <meta charset="UTF-8">
  <title>Lutra API</title>
  <link rel="stylesheet" type="text/css" href="/api/docs/swagger-ui.css">
  <link rel="icon" type="image/png" href="/api/docs/favicon-32x32.png" sizes="32x32">
  <style>body { margin: 0; } .swagger-ui .info { margin: 24px 0; }</style>
</head>
<body>
  <div id="swagger-ui"></div>
  <script src="/api/docs/swagger-ui-bundle.js" charset="UTF-8"></script>
  <script src="/api/docs/lutra-docs.js" charset="UTF-8"></script>
</body>
</html>
"""

# Try-it-out works with a session token or an API key (the Authorize button); no validator badge (it would
# call an outside service); the authorization survives a reload.
DOCS_SCRIPT = """window.onload = function () {
  window.ui = SwaggerUIBundle({
    url: "/api/v1/openapi.json",
    dom_id: "#swagger-ui",
    deepLinking: true,
    docExpansion: "none",
    defaultModelsExpandDepth: 0,
    displayRequestDuration: true,
    filter: true,
    persistAuthorization: true,
    tryItOutEnabled: false,
    validatorUrl: null,
    presets: [SwaggerUIBundle.presets.apis],
    layout: "BaseLayout"
  });
};
"""


@cache
def assets_dir() -> Path:
    import swagger_ui_bundle

    return Path(str(swagger_ui_bundle.swagger_ui_path))


@cache
def asset_names() -> frozenset[str]:
    return frozenset(p.name for p in assets_dir().iterdir()
                     if p.is_file() and p.suffix in (".js", ".css", ".png", ".map"))


@bp.get("/api/docs")
@doc("Docs", "Interactive API documentation (Swagger UI)",
     responses={200: ("HTML page", {"content": {"text/html": {"schema": STR}}})})
async def docs_page():
    response = Response(DOCS_PAGE, content_type="text/html; charset=utf-8")
    response.headers["Cache-Control"] = "no-cache"
    return response


@bp.get("/api/docs/<path:asset>")
@doc(
    "Docs", "Static assets of the interactive documentation",
    responses={200: ("The asset", {"content": {"*/*": {"schema": {"type": "string", "format": "binary"}}}})},
    errors=(404,))
async def docs_asset(asset: str):
    if asset == "lutra-docs.js":
        return _text(DOCS_SCRIPT.encode(), "application/javascript; charset=utf-8")
    if asset not in asset_names():  # names are looked up, never joined from the request
        raise ApiError(ErrorCode.NOT_FOUND, "No such asset.")
    path = assets_dir() / asset
    media = mimetypes.guess_type(asset)[0] or "application/octet-stream"
    if asset.endswith(".map"):
        media = "application/json"
    response = Response(path.read_bytes(), content_type=media)
    response.headers["Cache-Control"] = "public, max-age=86400"
    return response


# ---- llms.txt -------------------------------------------------------------------------------------

def _resolve(schema: dict[str, Any], doc: dict[str, Any]) -> dict[str, Any]:
    while isinstance(schema, dict) and "$ref" in schema:
        schema = doc["components"]["schemas"][schema["$ref"].rsplit("/", 1)[-1]]
    return schema


def _type_of(schema: dict[str, Any], doc: dict[str, Any]) -> str:
    schema = _resolve(schema, doc)
    if "enum" in schema:
        return " | ".join(json.dumps(v) for v in schema["enum"])
    if "const" in schema:
        return json.dumps(schema["const"])
    for key in ("anyOf", "oneOf"):
        if key in schema:
            kinds = [_type_of(s, doc) for s in schema[key]]
            return " | ".join(k for k in kinds if k != "null") + (" | null" if "null" in kinds else "")
    kind = schema.get("type", "any")
    if isinstance(kind, list):
        kind = " | ".join(kind)
    if kind == "array":
        return f"array of {_type_of(schema.get('items', {}), doc)}"
    if kind == "string" and schema.get("format") == "binary":
        return "file"
    return kind


def _constraints(schema: dict[str, Any], doc: dict[str, Any]) -> str:
    schema = _resolve(schema, doc)
    parts: list[str] = []
    for sub in [schema, *schema.get("anyOf", [])]:
        sub = _resolve(sub, doc)
        low = sub.get("minimum", sub.get("exclusiveMinimum"))
        high = sub.get("maximum", sub.get("exclusiveMaximum"))
        if low is not None or high is not None:
            parts.append(f"{'' if low is None else low}..{'' if high is None else high}")
        if "maxLength" in sub:
            parts.append(f"max {sub['maxLength']} chars")
        if "pattern" in sub:
            parts.append(f"pattern {sub['pattern']}")
    return ", ".join(parts)


def fields(schema: dict[str, Any], doc: dict[str, Any]) -> list[str]:
    """One line per property: `name` (type, required, default, range): description."""
    schema = _resolve(schema, doc)
    if "allOf" in schema and "properties" not in schema:
        schema = _resolve(schema["allOf"][0], doc)
    required = set(schema.get("required", []))
    lines = []
    for name, prop in schema.get("properties", {}).items():
        bits = [_type_of(prop, doc)]
        if name in required:
            bits.append("required")
        if "default" in prop and prop["default"] is not None:
            bits.append(f"default {json.dumps(prop['default'])}")
        limits = _constraints(prop, doc)
        if limits:
            bits.append(limits)
        description = prop.get("description") or _resolve(prop, doc).get("description", "")
        lines.append(f"- `{name}` ({'; '.join(bits)})" + (f": {description}" if description else ""))
    return lines


def _operations(doc: dict[str, Any]):
    for path, item in doc["paths"].items():
        for method, op in item.items():
            yield method.upper(), path, op


def llms_txt(doc: dict[str, Any]) -> str:
    info = doc["info"]
    out = [f"# {info['title']}", "", f"> {info['summary']}", "", info["description"], "",
           "## Documents", "",
           "- [OpenAPI 3.1 (YAML)](/api/v1/openapi.yaml): the complete, machine-readable contract",
           "- [OpenAPI 3.1 (JSON)](/api/v1/openapi.json)",
           "- [llms-full.txt](/llms-full.txt): every route and every tool's settings in plain text",
           "- [Interactive docs](/api/docs)", ""]
    tools: dict[str, list[str]] = {}
    other: dict[str, list[str]] = {}
    for method, path, op in _operations(doc):
        if "x-tool-id" in op:
            if not op.get("x-batch"):
                mode = " (long, 202)" if op.get("x-mode") == "long" else ""
                tools.setdefault(op["tags"][0], []).append(f"- `{op['x-tool-id']}`{mode}: {op['summary']} "
                                                           f"-- POST {path}")
        else:
            access = " (public)" if op.get("security") == [] else ""
            other.setdefault(op["tags"][0], []).append(f"- {method} {path}: {op['summary']}{access}")
    out += ["## Tools", ""]
    for tag, lines in tools.items():
        out += [f"### {tag}", "", *lines, ""]
    out += ["## Other routes", ""]
    for tag, lines in other.items():
        out += [f"### {tag}", "", *lines, ""]
    return "\n".join(out)


def _response_line(code: str, response: dict[str, Any], doc: dict[str, Any]) -> str:
    if "$ref" in response:
        response = doc["components"]["responses"][response["$ref"].rsplit("/", 1)[-1]]
    line = f"- {code}: {response.get('description', '')}"
    content = response.get("content", {})
    if "application/json" in content and code.startswith("2"):
        schema = _resolve(content["application/json"]["schema"], doc)
        names = list(schema.get("properties", {}))
        if names:
            required = set(schema.get("required", []))
            line += " -> {" + ", ".join(n if n in required else n + "?" for n in names) + "}"
    elif content:
        line += f" ({', '.join(content)})"  # a file, a stream, a page
    return line


def llms_full_txt(doc: dict[str, Any]) -> str:
    info = doc["info"]
    out = [f"# {info['title']} {info['version']} -- complete reference", "", f"> {info['summary']}", "",
           info["description"], "", "## Errors", "",
           'Every error is JSON `{"error": "<message>", "code": "<CODE>"}` (+ `details: [{path, message}]` for '
           "validation). Statuses:", ""]
    for status, response in doc["components"]["responses"].items():
        out.append(f"- {status[1:]}: {response['description']}")
    out += ["", "## Authentication", ""]
    for name, scheme in doc["components"]["securitySchemes"].items():
        out.append(f"- {name}: {scheme['description']}")
    out.append("")
    sections: dict[str, list[str]] = {}
    for method, path, op in _operations(doc):
        lines = [f"### {method} {path}", "", op["summary"] + ".", ""]
        if op.get("description"):
            lines += [op["description"], ""]
        for param in op.get("parameters", []):
            lines.append(f"- {param['in']} parameter `{param['name']}` ({_type_of(param['schema'], doc)})"
                         + (f": {param['description']}" if param.get("description") else ""))
        body = op.get("requestBody", {}).get("content", {})
        for media, content in body.items():
            schema = _resolve(content["schema"], doc)
            lines += [f"Body ({media}):", *fields(schema, doc)]
            settings = schema.get("properties", {}).get("settings")
            if settings is not None and media.startswith("multipart"):
                lines += ["", "Settings (JSON in the `settings` part):", *fields(settings, doc)]
            lines.append("")
        ok = [_response_line(code, resp, doc) for code, resp in op["responses"].items() if code < "400"]
        errors = [code for code in op["responses"] if code >= "400"]
        lines += ["Responses:", *ok] + ([f"- errors (JSON, see Errors): {', '.join(errors)}"] if errors else []) + [""]
        sections.setdefault(op["tags"][0], []).extend(lines)
    for tag, lines in sections.items():
        out += [f"## {tag}", "", *lines]
    return "\n".join(out)
