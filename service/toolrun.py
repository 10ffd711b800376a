"""Turning a request into a tool job: receiving its upload, route resolution, settings validation, input checks."""

from __future__ import annotations

import difflib
import shutil
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from protocols.errors import ApiError, ErrorCode
from protocols.tools import REGISTRY, Family, Mode, Section, ToolSettings, ToolSpec
from service.jobs import new_job_id
from service.sniff import KIND_NAMES
from service.uploads import Upload, UploadedFile, receive_multipart

SECTIONS = {s.value for s in Section}
# Tools the reference lists in a second section as well (COMPATIBILITY.md): they answer under both.
ALSO_LISTED: dict[str, frozenset[str]] = {"pdf-to-image": frozenset({Section.IMAGE.value})}
# Keys a tool's settings may carry that are not settings of the tool (the library's save-as-version id).
NOT_SETTINGS = frozenset({"fileId"})


def sections_of(spec: ToolSpec) -> frozenset[str]:
    """Every section a tool (or its sub-route) answers under."""
    return frozenset({spec.section.value}) | ALSO_LISTED.get(spec.id.split("/", 1)[0], frozenset())


def waits_for_result(spec: ToolSpec) -> bool:
    """Whether the request waits up to SYNC_WAIT_MS for the result (200) before answering 202. FAST tools do,
    and so do AI image tools: the reference's clients expect a 200 on small inputs (COMPATIBILITY.md). Their
    deadline stays the long one: how long a request waits and how long a job may run are separate."""
    return spec.mode is Mode.FAST or (spec.family is Family.VISION and spec.section is Section.IMAGE)


def primary_max(spec: ToolSpec) -> int:
    """How many main inputs (`file`/`files` parts) a tool takes besides its named role inputs."""
    return spec.inputs[1] - len(spec.roles) if spec.roles else spec.inputs[1]


def supports_batch(spec: ToolSpec) -> bool:
    """/batch applies a tool to each file: tools with one main input, whatever their optional JSON body or
    named second input (sent once, shared by every file)."""
    return spec.body in ("multipart", "either") and not spec.is_subroute and primary_max(spec) == 1


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
    if section is not None and section not in sections_of(spec):
        raise ApiError(ErrorCode.NOT_FOUND, f"Tool {tool_id} is not in section {section}; use /api/v1/tools/"
                                            f"{spec.section.value}/{tool_id}.")
    return spec, is_batch


def validate_settings(spec: ToolSpec, raw: Any, where: str = "settings") -> ToolSettings:
    if raw is None:
        raw = {}
    if not isinstance(raw, dict):
        raise ApiError(ErrorCode.VALIDATION_ERROR, f"'{where}' must be a JSON object.")
    raw = {k: v for k, v in raw.items() if k not in NOT_SETTINGS}
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


def setting_names(model: type[ToolSettings]) -> set[str]:
    """Every name a settings model accepts at its top level: camelCase aliases, Python names, and the
    choices of a field's validation alias."""
    names: set[str] = set()
    for name, info in model.model_fields.items():
        names.add(name)
        if info.alias:
            names.add(info.alias)
        alias = info.validation_alias
        if isinstance(alias, str):
            names.add(alias)
        elif alias is not None:
            for choice in getattr(alias, "choices", ()):
                path = choice.path if hasattr(choice, "path") else [choice]
                if path and isinstance(path[0], str):
                    names.add(path[0])
    return names


def settings_warnings(spec: ToolSpec, raw: Any) -> list[str]:
    """One warning per setting the tool does not know (it is ignored, as the reference's clients expect,
    but never silently), naming the closest valid setting when one is close."""
    if not isinstance(raw, dict):
        return []
    known = setting_names(spec.settings)
    public = sorted(info.alias or name for name, info in spec.settings.model_fields.items())
    warnings = []
    for key in raw:
        if not isinstance(key, str) or key in known or key in NOT_SETTINGS:
            continue
        close = difflib.get_close_matches(key, public, n=1, cutoff=0.6)
        hint = f"; did you mean '{close[0]}'?" if close else "."
        warnings.append(f"Unknown setting '{key}' for {spec.id} was ignored{hint}")
    return warnings


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
