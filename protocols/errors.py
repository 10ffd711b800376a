"""Errors that cross the HTTP boundary: a status, a machine code and a human message."""

from __future__ import annotations

from enum import StrEnum
from typing import Any


class ErrorCode(StrEnum):
    VALIDATION_ERROR = "VALIDATION_ERROR"
    AUTH_REQUIRED = "AUTH_REQUIRED"
    FORBIDDEN = "FORBIDDEN"
    NOT_FOUND = "NOT_FOUND"
    METHOD_NOT_ALLOWED = "METHOD_NOT_ALLOWED"
    CONFLICT = "CONFLICT"
    PAYLOAD_TOO_LARGE = "PAYLOAD_TOO_LARGE"
    UNSUPPORTED_MEDIA_TYPE = "UNSUPPORTED_MEDIA_TYPE"
    RATE_LIMITED = "RATE_LIMITED"
    LOGIN_THROTTLED = "LOGIN_THROTTLED"
    MUST_CHANGE_PASSWORD = "MUST_CHANGE_PASSWORD"
    USER_DISABLED = "USER_DISABLED"
    ESCALATION_DENIED = "ESCALATION_DENIED"
    LAST_ADMIN = "LAST_ADMIN"
    SELF_DELETE = "SELF_DELETE"
    FEATURE_NOT_INSTALLED = "FEATURE_NOT_INSTALLED"
    TOOL_DISABLED = "TOOL_DISABLED"
    PROCESSING_FAILED = "PROCESSING_FAILED"
    TIMEOUT = "TIMEOUT"
    CANCELED = "CANCELED"
    INPUT_MISSING = "INPUT_MISSING"
    BUSY = "BUSY"
    INSUFFICIENT_STORAGE = "INSUFFICIENT_STORAGE"
    INTERNAL_ERROR = "INTERNAL_ERROR"


# The HTTP status each code answers with unless an error says otherwise.
DEFAULT_STATUS: dict[ErrorCode, int] = {
    ErrorCode.VALIDATION_ERROR: 400,
    ErrorCode.AUTH_REQUIRED: 401,
    ErrorCode.FORBIDDEN: 403,
    ErrorCode.NOT_FOUND: 404,
    ErrorCode.METHOD_NOT_ALLOWED: 405,
    ErrorCode.CONFLICT: 409,
    ErrorCode.PAYLOAD_TOO_LARGE: 413,
    ErrorCode.UNSUPPORTED_MEDIA_TYPE: 415,
    ErrorCode.RATE_LIMITED: 429,
    ErrorCode.LOGIN_THROTTLED: 429,
    ErrorCode.MUST_CHANGE_PASSWORD: 403,
    ErrorCode.USER_DISABLED: 403,
    ErrorCode.ESCALATION_DENIED: 403,
    ErrorCode.LAST_ADMIN: 409,
    ErrorCode.SELF_DELETE: 409,
    ErrorCode.FEATURE_NOT_INSTALLED: 501,
    ErrorCode.TOOL_DISABLED: 403,
    ErrorCode.PROCESSING_FAILED: 422,
    ErrorCode.TIMEOUT: 504,
    ErrorCode.CANCELED: 409,
    ErrorCode.INPUT_MISSING: 410,
    ErrorCode.BUSY: 503,
    ErrorCode.INSUFFICIENT_STORAGE: 507,
    ErrorCode.INTERNAL_ERROR: 500,
}


class ApiError(Exception):
    """An error meant for the client. `message` must be safe to show: no paths, no internals."""

    def __init__(
        self,
        code: ErrorCode,
        message: str,
        *,
        status: int | None = None,
        details: list[dict[str, Any]] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.code = ErrorCode(code)
        self.message = message
        self.status = status or DEFAULT_STATUS[self.code]
        self.details = details
        self.headers = headers or {}

    def body(self) -> dict[str, Any]:
        out: dict[str, Any] = {"error": self.message, "code": self.code.value}
        if self.details:
            out["details"] = self.details
        return out


class ToolError(ApiError):
    """Raised by a tool when its input cannot be processed (corrupt, unsupported, too large...).

    Tools run in worker processes, so this must pickle: keep the constructor positional-friendly.
    """

    def __init__(self, message: str, code: ErrorCode = ErrorCode.PROCESSING_FAILED, status: int | None = None):
        super().__init__(code, message, status=status)

    def __reduce__(self):  # pickles across trio-parallel workers
        return (ToolError, (self.message, self.code, self.status))


def bad_input(message: str) -> ToolError:
    """A 400 the user can act on: the input itself is wrong (corrupt, wrong kind)."""
    return ToolError(message, ErrorCode.VALIDATION_ERROR, 400)


def unsupported(message: str) -> ToolError:
    return ToolError(message, ErrorCode.UNSUPPORTED_MEDIA_TYPE, 415)
