"""Turning a request into a tool job: receiving its upload, route resolution, settings validation, input checks."""

from __future__ import annotations

import shutil
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from protocols.errors import ApiError, ErrorCode
from protocols.tools import REGISTRY, Section, ToolSettings, ToolSpec
from service.jobs import new_job_id
from service.sniff import KIND_NAMES
from service.uploads import Upload, UploadedFile, receive_multipart

SECTIONS = {s.value for s in Section}


def resolve(parts: list[str]) -> tuple[ToolSpec, bool]:
    """`[section?, tool, ('batch' | sub-route)?]` -> (spec, is_batch). Unknown -> 404."""
    if parts and parts[0] in SECTIONS and len(parts) > 1:
        section, rest = parts[0], parts[1:]
    else:
        section, rest = None, parts
    is_batch = len(rest) == 2 and rest[1] == "batch"
    if is_batch:
        rest = rest[:1]
    tool_id = "/".join(rest)
    spec = REGISTRY.get(tool_id)
    if spec is None and len(rest) == 2 and f"{rest[0]}/{rest[1]}" not in REGISTRY and rest[0] in REGISTRY:
        raise ApiError(ErrorCode.NOT_FOUND, f"Tool {rest[0]} has no sub-route '{rest[1]}'.")
    if spec is None or not rest or len(rest) > 2:
        raise ApiError(ErrorCode.NOT_FOUND, f"Unknown tool: {tool_id or '(none)'}.")
    if section is not None and spec.section.value != section:
        raise ApiError(ErrorCode.NOT_FOUND, f"Tool {tool_id} is not in section {section}; use /api/v1/tools/"
                                            f"{spec.section.value}/{tool_id}.")
    return spec, is_batch


def validate_settings(spec: ToolSpec, raw: Any, where: str = "settings") -> ToolSettings:
    if raw is None:
        raw = {}
    if not isinstance(raw, dict):
        raise ApiError(ErrorCode.VALIDATION_ERROR, f"'{where}' must be a JSON object.")
    raw = {k: v for k, v in raw.items() if k != "fileId"}
    try:
        return spec.settings.model_validate(raw)
    except ValidationError as err:
        details = [
            {"path": ".".join(str(p) for p in e["loc"]) or where, "message": e["msg"]}
            for e in err.errors(include_url=False, include_context=False, include_input=False)
        ]
        first = details[0]
        raise ApiError(
            ErrorCode.VALIDATION_ERROR,
            f"Invalid {where} for {spec.id}: {first['path']}: {first['message']}",
            details=details,
        ) from None


def check_input_kind(spec: ToolSpec, item: UploadedFile) -> None:
    if item.size == 0 or item.kind == "empty":
        raise ApiError(ErrorCode.VALIDATION_ERROR, f"The file '{item.name}' is empty.")
    if spec.accepts and item.kind not in spec.accepts:
        wanted = " or ".join(KIND_NAMES.get(k, k) for k in sorted(spec.accepts))
        raise ApiError(
            ErrorCode.UNSUPPORTED_MEDIA_TYPE,
            f"{spec.id} expects {wanted}; '{item.name}' looks like {KIND_NAMES.get(item.kind, item.kind)}.",
        )


def pick_inputs(spec: ToolSpec, files: list[UploadedFile]) -> list[UploadedFile]:
    """Order the inputs: `file`/`files` parts first, then role parts in the spec's role order."""
    primary = [f for f in files if f.field in ("file", "files")]
    roles = [f for role in spec.roles for f in files if f.field == role]
    chosen = primary + roles
    low, high = spec.inputs
    if not chosen and low == 0:  # an optional input (e.g. qr-generate's logo) was not sent
        return []
    if not chosen:
        raise ApiError(ErrorCode.VALIDATION_ERROR, "No file uploaded: send it as a multipart part named 'file'.")
    if len(chosen) < low:
        names = f" (the second as '{spec.roles[0]}' or a second 'file' part)" if spec.roles else ""
        raise ApiError(ErrorCode.VALIDATION_ERROR, f"{spec.id} needs at least {low} files{names}.")
    if len(chosen) > high:
        raise ApiError(ErrorCode.VALIDATION_ERROR, f"{spec.id} accepts at most {high} file{'s' * (high > 1)}.")
    for item in chosen:
        check_input_kind(spec, item)
    return chosen


def discard(path) -> None:
    shutil.rmtree(path, ignore_errors=True)


@dataclass(slots=True)
class JobUpload:
    """A request's upload, received into a new job folder's `in/`."""

    job_id: str
    job_dir: Path
    upload: Upload

    def files(self, missing: str, *names: str) -> list[UploadedFile]:
        """The file parts named `names` (default: "file" and "files"); 400 `missing` when there are none."""
        files = self.upload.files_named(*(names or ("file", "files")))
        if not files:
            raise ApiError(ErrorCode.VALIDATION_ERROR, missing)
        return files


@asynccontextmanager
async def receive_upload(services: Any, *, spool: bool = False, keep: bool = True) -> AsyncIterator[JobUpload]:
    """The one way a route receives an upload: into a new job folder, which is removed again when the block
    raises (a refused request leaves nothing behind) and, with `keep=False`, when it ends. `spool` writes
    into recycled files of the job manager's spool (for tool inputs, which it reclaims)."""
    job_id = new_job_id()
    job_dir = services.jobs.job_dir(job_id)
    try:
        upload = await receive_multipart(job_dir / "in", services.config.max_upload_bytes,
                                         services.jobs.spool if spool else None)
        yield JobUpload(job_id, job_dir, upload)
    except BaseException:
        discard(job_dir)
        raise
    if not keep:
        discard(job_dir)
