"""Runtime settings: read all, read one, bulk update. A closed list of keys, each with a typed check."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from quart import Blueprint, current_app

from protocols.errors import ApiError, ErrorCode
from service import audit
from service.apidoc import ANY_OBJECT, BOOL, STR, doc, obj
from service.auth import current_principal, require
from service.responses import json_body, json_response
from service.runtime_settings import DEFAULTS

bp = Blueprint("settings", __name__)


class Invalid(ValueError):
    pass


def _bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in ("true", "false"):
        return value.strip().lower() == "true"
    raise Invalid("must be true or false")


def _int_range(low: int, high: int) -> Callable[[Any], int]:
    def check(value: Any) -> int:
        if isinstance(value, bool):
            raise Invalid("must be a whole number")
        if isinstance(value, str) and value.strip().lstrip("-").isdigit():
            value = int(value.strip())
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        if not isinstance(value, int):
            raise Invalid("must be a whole number")
        if not low <= value <= high:
            raise Invalid(f"must be between {low} and {high}")
        return value

    return check


def known_tool_ids() -> set[str]:
    from actors import catalog

    return {tool_id.split("/", 1)[0] for tool_id in catalog.load()}


def _tool_list(value: Any) -> list[str]:
    if isinstance(value, str):  # the reference stores it as a JSON array in a string
        try:
            value = json.loads(value) if value.strip() else []
        except ValueError:
            raise Invalid("must be a JSON array of tool ids") from None
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise Invalid("must be an array of tool ids")
    if len(value) > 1000:
        raise Invalid("too many tool ids")
    known = known_tool_ids()
    unknown = [v for v in value if v not in known]
    if unknown:
        raise Invalid(f"unknown tool id: {', '.join(sorted(set(unknown))[:10])}")
    return sorted(set(value))


def _brand_name(value: Any) -> str:
    if not isinstance(value, str) or not 1 <= len(value.strip()) <= 60:
        raise Invalid("must be a name of 1 to 60 characters")
    if any(ord(c) < 32 for c in value):
        raise Invalid("must not contain control characters")
    return value.strip()


MAX_LOGO_CHARS = 300_000  # ~220 KB of image as base64


def _brand_logo(value: Any) -> str:
    """A raster image as a data: URL (no SVG: it can carry script), or "" for none."""
    import base64
    import re

    if value == "":
        return ""
    if not isinstance(value, str) or len(value) > MAX_LOGO_CHARS:
        raise Invalid(f"must be a data: URL of at most {MAX_LOGO_CHARS} characters")
    match = re.fullmatch(r"data:image/(png|jpeg|webp|gif);base64,([A-Za-z0-9+/=]+)", value)
    if not match:
        raise Invalid("must be a data:image/png, jpeg, webp or gif URL in base64")
    head = base64.b64decode(match.group(2)[:24] + "=" * (-len(match.group(2)[:24]) % 4))
    magic = {"png": b"\x89PNG", "jpeg": b"\xff\xd8\xff", "webp": b"RIFF", "gif": b"GIF8"}[match.group(1)]
    if not head.startswith(magic):
        raise Invalid(f"is not a {match.group(1).upper()} image")
    return value


VALIDATORS: dict[str, Callable[[Any], Any]] = {
    "brandName": _brand_name,
    "brandLogo": _brand_logo,
    "disabledTools": _tool_list,
    "enableExperimentalTools": _bool,
    "loginAttemptLimit": _int_range(1, 1000),
    "auditToolOperations": _bool,
}


def _by_default_type(key: str) -> Callable[[Any], Any]:
    """Keys other areas add to DEFAULTS without a validator: the default's type decides."""
    default = DEFAULTS[key]

    def check(value: Any) -> Any:
        if isinstance(default, bool):
            return _bool(value)
        if isinstance(default, int):
            return _int_range(-(2**31), 2**31)(value)
        if isinstance(default, float) and isinstance(value, (int, float)) and not isinstance(value, bool):
            return float(value)
        if isinstance(default, str) and isinstance(value, str) and len(value) <= 10000:
            return value
        if isinstance(default, list) and isinstance(value, list):
            return value
        if isinstance(default, dict) and isinstance(value, dict):
            return value
        raise Invalid(f"must be a {type(default).__name__}")

    return check


def validate_updates(body: Any) -> dict[str, Any]:
    if not isinstance(body, dict):
        raise ApiError(ErrorCode.VALIDATION_ERROR, "Send a JSON object of setting keys and values.")
    if set(body) == {"settings"} and isinstance(body["settings"], dict) and "settings" not in DEFAULTS:
        body = body["settings"]
    if not body:
        raise ApiError(ErrorCode.VALIDATION_ERROR, "No settings to update.")
    details, clean = [], {}
    for key, value in body.items():
        if key not in DEFAULTS:
            details.append({"path": key, "message": "unknown setting"})
            continue
        try:
            clean[key] = VALIDATORS.get(key, _by_default_type(key))(value)
        except Invalid as err:
            details.append({"path": key, "message": str(err)})
    if details:
        first = details[0]
        raise ApiError(ErrorCode.VALIDATION_ERROR, f"Invalid setting {first['path']}: {first['message']}.",
                       details=details)
    return clean


def all_settings(services) -> dict[str, Any]:
    return {key: services.settings.get(key) for key in DEFAULTS}


@bp.get("/api/v1/settings")
@doc("Settings", "All runtime settings",
     responses={200: obj({"settings": ANY_OBJECT}, ("settings",))})
@require("settings:read")
async def get_settings():
    return json_response({"settings": all_settings(current_app.lutra)})


@bp.get("/api/v1/settings/<key>")
@doc(
    "Settings", "One setting",
    responses={200: obj({"key": STR, "value": {"description": "The setting's value (type depends on the key)"}},
                        ("key",))},
    errors=(404,), params={"key": {"type": "string", "description": "e.g. loginAttemptLimit"}})
@require("settings:read")
async def get_setting(key: str):
    if key not in DEFAULTS:
        raise ApiError(ErrorCode.NOT_FOUND, "No such setting.")
    return json_response({"key": key, "value": current_app.lutra.settings.get(key)})


@bp.put("/api/v1/settings")
@doc(
    "Settings", "Update settings",
    "A JSON object of keys and values (or `{settings: {...}}`). Known keys: disabledTools (array of tool "
    "ids), enableExperimentalTools (bool), loginAttemptLimit (1-1000), auditToolOperations (bool).",
    body=obj({"disabledTools": {"type": "array", "items": STR},
              "enableExperimentalTools": BOOL,
              "loginAttemptLimit": {"type": "integer", "minimum": 1, "maximum": 1000},
              "auditToolOperations": BOOL}, minProperties=1),
    responses={200: obj({"ok": BOOL, "settings": ANY_OBJECT}, ("ok", "settings"))}, errors=(400,))
@require("settings:write")
async def put_settings():
    principal = await current_principal()
    updates = validate_updates(await json_body())
    services = current_app.lutra
    before = {key: services.settings.get(key) for key in updates}
    await services.settings.put(updates, principal.user_id)
    changed = {key: {"from": before[key], "to": value} for key, value in updates.items() if before[key] != value}
    audit.record("SETTINGS_UPDATED", target=",".join(sorted(updates)), details={"changes": changed})
    return json_response({"ok": True, "settings": all_settings(services)})
