"""Small helpers for JSON responses and request bodies."""

from __future__ import annotations

import json
from typing import Any

from quart import Response, request

from protocols.errors import ApiError, ErrorCode

MAX_JSON_BYTES = 1 << 20


def json_response(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(json.dumps(body, separators=(",", ":"), default=str), status=status,
                    headers=headers, content_type="application/json")


def error_response(err: ApiError) -> Response:
    return json_response(err.body(), err.status, err.headers)


async def json_body(required: bool = True) -> Any:
    """The request's JSON body, size-capped; 400 when it is not JSON."""
    length = request.headers.get("Content-Length")
    if length and length.isdigit() and int(length) > MAX_JSON_BYTES:
        raise ApiError(ErrorCode.PAYLOAD_TOO_LARGE, "The JSON body is too large.")
    from service.uploads import body_chunks

    data = bytearray()
    async for chunk in body_chunks():
        data += chunk
        if len(data) > MAX_JSON_BYTES:
            raise ApiError(ErrorCode.PAYLOAD_TOO_LARGE, "The JSON body is too large.")
    if not data.strip():
        if required:
            raise ApiError(ErrorCode.VALIDATION_ERROR, "A JSON body is required.")
        return {}
    try:
        return json.loads(data)
    except ValueError:
        raise ApiError(ErrorCode.VALIDATION_ERROR, "The body is not valid JSON.") from None
