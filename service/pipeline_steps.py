"""A pipeline's steps: which tools can be a step, and `{"steps": [{toolId, settings}]}` parsed and validated
before anything runs (a problem is a 400 naming the step number and the tool)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from protocols.errors import ApiError, ErrorCode
from protocols.tools import REGISTRY, Mode, Section, ToolSettings, ToolSpec
from service.toolrun import settings_warnings, validate_settings

# Tools that need a password never run unattended inside a pipeline.
PASSWORD_TOOLS = frozenset({"protect-pdf", "unlock-pdf"})
SECTIONS = {s.value for s in Section}


@dataclass(frozen=True, slots=True)
class Step:
    number: int  # 1-based, as users count
    spec: ToolSpec
    settings: ToolSettings
    raw_settings: dict[str, Any]

    @property
    def label(self) -> str:
        return f"step {self.number} ({self.spec.id})"

    def as_json(self) -> dict[str, Any]:
        return {"toolId": self.spec.id, "settings": self.raw_settings}


def step_refusal(spec: ToolSpec) -> str | None:
    """Why a tool cannot be a pipeline step, or None when it can."""
    if spec.id in PASSWORD_TOOLS:
        return "needs a password and cannot run inside a pipeline"
    if spec.is_subroute or spec.response != "json":
        return "is a sub-route, not a tool that can be chained"
    if spec.inputs[1] == 0 or spec.body == "json":
        return "takes no input file, so it cannot follow another step"
    if spec.inputs[0] > 1:
        return "needs several input files; a pipeline carries one file"
    if not spec.pipeline:
        return "cannot be used as a pipeline step"
    return None


# Tools that run without an input in some modes (chosen by a setting): as a step, which always gets a file,
# that mode is refused. setting -> why.
INPUTLESS_MODES: dict[str, tuple[str, str]] = {
    "meme-generator": ("template_id", "in template mode (templateId) takes no input file; leave templateId out "
                                      "to caption the step's image"),
}


def settings_refusal(spec: ToolSpec, settings: ToolSettings) -> str | None:
    mode = INPUTLESS_MODES.get(spec.id)
    if mode is not None and getattr(settings, mode[0], None):
        return mode[1]
    return None


def pipeline_tool_ids(disabled: set[str] | frozenset[str]) -> list[str]:
    return sorted(s.id for s in REGISTRY.values() if step_refusal(s) is None and s.id not in disabled)


def _tool_id(raw: Any) -> str:
    text = str(raw).strip().strip("/")
    section, _, rest = text.partition("/")
    if section in SECTIONS and rest:
        text = rest  # "image/resize" is accepted as "resize"
    return text


def parse_steps(raw: Any, *, max_steps: int, disabled: set[str] | frozenset[str]) -> list[Step]:
    """`{"steps": [{toolId, settings}, ...]}` (or the bare list) -> validated steps. Any problem is a 400
    naming the step number and the tool; nothing has run yet."""
    if isinstance(raw, dict):
        raw = raw.get("steps")
    if not isinstance(raw, list):
        raise ApiError(ErrorCode.VALIDATION_ERROR,
                       'The pipeline must be an object with a "steps" list: {"steps":[{"toolId":..., "settings":{...}}]}.')
    if not raw:
        raise ApiError(ErrorCode.VALIDATION_ERROR, "The pipeline has no steps.")
    if max_steps and len(raw) > max_steps:
        raise ApiError(ErrorCode.VALIDATION_ERROR,
                       f"The pipeline has {len(raw)} steps; this server allows at most {max_steps}.")
    steps: list[Step] = []
    for number, item in enumerate(raw, start=1):
        if not isinstance(item, dict):
            raise ApiError(ErrorCode.VALIDATION_ERROR, f"Step {number} must be an object with toolId and settings.")
        tool_raw = item.get("toolId", item.get("tool"))
        if not isinstance(tool_raw, str) or not tool_raw.strip():
            raise ApiError(ErrorCode.VALIDATION_ERROR, f"Step {number} has no toolId.")
        tool_id = _tool_id(tool_raw)
        spec = REGISTRY.get(tool_id)
        if spec is None:
            raise ApiError(ErrorCode.VALIDATION_ERROR, f"Step {number}: unknown tool '{tool_id[:100]}'.")
        refusal = step_refusal(spec)
        if refusal:
            raise ApiError(ErrorCode.VALIDATION_ERROR, f"Step {number}: {spec.id} {refusal}.")
        if spec.id in disabled or spec.id.split("/", 1)[0] in disabled:
            raise ApiError(ErrorCode.TOOL_DISABLED, f"Step {number}: the tool {spec.id} is disabled on this server.")
        raw_settings = item.get("settings")
        if raw_settings is None:
            raw_settings = {}
        try:
            settings = validate_settings(spec, raw_settings)
        except ApiError as err:
            details = [{**d, "path": f"steps.{number - 1}.settings.{d['path']}"} for d in (err.details or [])]
            raise ApiError(ErrorCode.VALIDATION_ERROR, f"Step {number} ({spec.id}): {err.message}",
                           details=details or None) from None
        refusal = settings_refusal(spec, settings)
        if refusal:
            raise ApiError(ErrorCode.VALIDATION_ERROR, f"Step {number}: {spec.id} {refusal}.")
        steps.append(Step(number, spec, settings, dict(raw_settings)))
    return steps


def step_warnings(steps: list[Step]) -> list[str]:
    """The unknown settings of every step, each warning naming its step."""
    return [f"Step {s.number}: {w}" for s in steps for w in settings_warnings(s.spec, s.raw_settings)]


def has_long_step(steps: list[Step]) -> bool:
    return any(s.spec.mode is Mode.LONG for s in steps)
