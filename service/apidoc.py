"""`@doc`: a route's OpenAPI description, declared on the route itself (like `require` for its permissions).

    @bp.get("/api/v1/teams")
    @doc("Teams", "List teams", responses={200: obj({"teams": ...}, ("teams",))})
    @require("teams:manage")
    async def list_teams(): ...

service/openapi.py collects these from the app's view functions; a route without one fails its strict build.
This module also holds the small JSON Schema vocabulary the declarations are written in. It imports nothing
from service/, so every route module can use it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

SCHEMA_REF = "#/components/schemas/"
DOC_ATTRIBUTE = "openapi_doc"


@dataclass
class Op:
    """What one route does. `body`: a pydantic model, a JSON schema, `model_body(...)`, or ("multipart", schema).
    `responses`: status -> a JSON schema of the body, or (description, extra response fields) for other media."""

    tag: str
    summary: str
    description: str = ""
    body: Any = None
    body_required: bool = True
    responses: dict[int, Any] = field(default_factory=dict)
    errors: tuple[int, ...] = ()
    query: list[dict[str, Any]] = field(default_factory=list)
    params: dict[str, dict[str, Any]] = field(default_factory=dict)  # path parameter schemas / descriptions


def doc(tag: str, summary: str, description: str = "", **fields: Any) -> Callable[[Callable], Callable]:
    """Route decorator: attach the route's description. It survives `require` in either order, since
    `functools.wraps` carries the attribute over."""
    op = Op(tag, summary, description, **fields)

    def attach(view: Callable) -> Callable:
        setattr(view, DOC_ATTRIBUTE, op)
        return view

    return attach


def described(view: Callable | None) -> Op | None:
    return getattr(view, DOC_ATTRIBUTE, None)


# ---- the vocabulary -------------------------------------------------------------------------------

def ref(name: str) -> dict[str, str]:
    return {"$ref": SCHEMA_REF + name}


def obj(props: dict[str, Any], required: tuple[str, ...] | list[str] = (), **extra: Any) -> dict[str, Any]:
    schema: dict[str, Any] = {"type": "object", "properties": props}
    if required:
        schema["required"] = list(required)
    schema.update(extra)
    return schema


def nullable(schema: dict[str, Any]) -> dict[str, Any]:
    out = dict(schema)
    kind = out.get("type")
    if isinstance(kind, str):
        out["type"] = [kind, "null"]
        return out
    return {"anyOf": [schema, {"type": "null"}]}


def model_body(model: type, **extra: Any) -> dict[str, Any]:
    """A pydantic model's schema plus constraints the model cannot state (e.g. minProperties)."""
    return {"x-model": model, **extra}


def q(name: str, schema: dict[str, Any], description: str) -> dict[str, Any]:
    """An optional query parameter."""
    return {"name": name, "in": "query", "required": False, "schema": schema, "description": description}


def binary(media: str, description: str, headers: dict[str, Any] | None = None) -> tuple[str, dict[str, Any]]:
    """A response that is a file of the given media type."""
    content = {media: {"schema": {"type": "string", "format": "binary"}}}
    return (description, {"content": content, **({"headers": headers} if headers else {})})


def json_content(schema: dict[str, Any]) -> dict[str, Any]:
    return {"application/json": {"schema": schema}}


STR = {"type": "string"}
INT = {"type": "integer"}
NUM = {"type": "number"}
BOOL = {"type": "boolean"}
TIME = {"type": "string", "format": "date-time"}
BINARY = {"type": "string", "format": "binary", "contentMediaType": "application/octet-stream"}
ANY_OBJECT = {"type": "object"}
UUID_PARAM = {"type": "string", "format": "uuid"}
ID_PARAM = {"type": "string", "minLength": 1, "maxLength": 64}
TEXT_HEADER = {"schema": {"type": "string"}}
MULTI_FILES = obj({
    "files": {"type": "array", "items": BINARY, "minItems": 1, "description": "The files (parts named `files`)"},
}, ("files",))
