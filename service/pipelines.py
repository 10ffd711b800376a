"""Pipelines: one file through N tool steps inside one parent job, each step a child job of the owning
actor (image, documents, media ...), chained through files on disk inside the parent's workspace.

Every step is validated before anything runs. A step that produces several files (e.g. pdf-to-image
on a multi-page PDF) hands them all on: the next single-input step runs once per file, a step that
takes several files (e.g. image-to-pdf) gets them all at once. Intermediate files live under
`workspace/<jobId>/steps/` and are removed when the job ends; only the final output lands in `out/`.
"""

from __future__ import annotations

import logging
import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import trio

from actors.archive import Archive, unique_name
from protocols.errors import ApiError, ErrorCode
from protocols.jobs import JobState
from protocols.tools import REGISTRY, Mode, Section, ToolCall, ToolSettings, ToolSpec
from service.jobs import JobManager, download_url
from service.progress import JobRecord
from service.sniff import HEAD_BYTES, KIND_NAMES, sniff
from service.toolrun import settings_warnings, validate_settings

log = logging.getLogger("lutra.pipelines")

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


@dataclass(slots=True)
class StepFailure:
    step: Step
    message: str
    code: str
    completed: int  # steps fully completed before this one

    def text(self, total: int) -> str:
        return (f"Step {self.step.number} ({self.step.spec.id}) failed: {self.message} "
                f"({self.completed} of {total} steps completed.)")


@dataclass(slots=True)
class Outcome:
    files: list[tuple[Path, str]] = field(default_factory=list)  # final outputs (path, name)
    reports: list[dict[str, Any]] = field(default_factory=list)  # one per completed step
    extra: dict[str, Any] = field(default_factory=dict)  # the last step's extras
    failure: StepFailure | None = None
    canceled: bool = False

    @property
    def completed(self) -> int:
        return len(self.reports)


class PipelineRunner:
    """Runs the steps for one input. Children are `<prefix>.s<step>[.<part>]`, never persisted: the parent
    is the job the client sees; `report(fraction, message)` receives progress across all steps (0..1)."""

    def __init__(self, jobs: JobManager, parent: JobRecord, steps: list[Step], base: Path, prefix: str,
                 report) -> None:
        self.jobs, self.parent, self.steps, self.base, self.prefix = jobs, parent, steps, base, prefix
        self.report = report

    async def run(self, path: Path, name: str) -> Outcome:
        outcome = Outcome()
        current: list[tuple[Path, str]] = [(path, name)]
        total = len(self.steps)
        for step in self.steps:
            spec = step.spec
            groups = [current] if spec.inputs[1] > 1 else [[item] for item in current]
            produced: list[tuple[Path, str]] = []
            extra: dict[str, Any] = {}
            for part, group in enumerate(groups):
                if self.parent.status.terminal:
                    outcome.canceled = True
                    return outcome
                problem = _kind_problem(spec, group, step, outcome.completed)
                if problem:
                    outcome.failure = StepFailure(step, problem, ErrorCode.PROCESSING_FAILED.value, outcome.completed)
                    return outcome
                suffix = f".{part}" if len(groups) > 1 else ""
                child_id = f"{self.prefix}.s{step.number}{suffix}"
                workdir = self.base / f"s{step.number}{suffix.replace('.', '_')}"
                workdir.mkdir(parents=True, exist_ok=True)
                child = self.jobs.create(self.parent.owner_id, "tool", spec.id, persist=False, job_id=child_id)
                if self.parent.batch is not None:
                    self.parent.batch.setdefault("_children", []).append(child_id)
                call = ToolCall(inputs=[p for p, _ in group], names=[n for _, n in group], settings=step.settings,
                                workdir=workdir, limits=self.jobs.limits, roles=["file"] * len(group))
                try:
                    try:
                        self.jobs.submit_tool(child, spec, call)
                    except ApiError:
                        pass  # the child is finished FAILED with the reason (e.g. BUSY)
                    await self._follow(child, step, part, len(groups))
                    if child.status is JobState.CANCELED or self.parent.status is JobState.CANCELED:
                        outcome.canceled = True
                        return outcome
                    if child.status is not JobState.COMPLETED or child.result is None:
                        code = child.code if child.code in (ErrorCode.TIMEOUT.value,) else ErrorCode.PROCESSING_FAILED.value
                        outcome.failure = StepFailure(step, (child.error or "the tool failed").rstrip("."), code,
                                                      outcome.completed)
                        return outcome
                    try:
                        produced.extend(_outputs(child.result, workdir))
                    except ApiError as err:
                        outcome.failure = StepFailure(step, err.message.rstrip("."), err.code.value, outcome.completed)
                        return outcome
                    extra = {k: v for k, v in child.result.items()
                             if k not in ("jobId", "downloadUrl", "downloads", "originalSize", "processedSize")}
                finally:
                    self.jobs.records.pop(child_id, None)
                    if self.parent.batch is not None and child_id in self.parent.batch.get("_children", []):
                        self.parent.batch["_children"].remove(child_id)
            current = produced
            report = {"step": step.number, "toolId": spec.id, "status": "completed",
                      "files": len(produced), "processedSize": sum(p.stat().st_size for p, _ in produced)}
            for key, value in extra.items():
                report.setdefault(key, value)
            outcome.reports.append(report)
            outcome.extra = extra
            self.report(step.number / total, f"Step {step.number}/{total}: {spec.id} done")
        outcome.files = current
        return outcome

    async def _follow(self, child: JobRecord, step: Step, part: int, parts: int) -> None:
        """Relay the child's progress into the parent's single stream until the child ends."""
        total = len(self.steps)
        async for frame in child.frames(keepalive_s=3600):
            if frame is None:
                continue
            within = (part + child.progress / 100) / parts
            message = f"Step {step.number}/{total}: {step.spec.id}"
            if parts > 1:
                message += f" (file {part + 1}/{parts})"
            if child.message:
                message += f": {child.message}"
            self.report((step.number - 1 + within) / total, message)


def _kind_problem(spec: ToolSpec, group: list[tuple[Path, str]], step: Step, completed: int) -> str | None:
    if not spec.accepts or step.number == 1:
        return None  # step 1's input was checked when it was uploaded
    for path, _ in group:
        with open(path, "rb") as fh:
            kind, _fmt = sniff(fh.read(HEAD_BYTES), path.name)
        if kind not in spec.accepts:
            wanted = " or ".join(KIND_NAMES.get(k, k) for k in sorted(spec.accepts))
            got = KIND_NAMES.get(kind, kind)
            return f"it expects {wanted} but step {step.number - 1} produced {got}"
    return None


def _outputs(result: dict[str, Any], workdir: Path) -> list[tuple[Path, str]]:
    """A child's files for the next step: its parts when it made several (the ZIP is only packaging)."""
    downloads = result.get("downloads") or []
    names = [d["filename"] for d in downloads] if downloads else [unquote(result["downloadUrl"].rsplit("/", 1)[-1])]
    files = []
    for name in names:
        path = workdir / name
        if path.is_file():
            files.append((path, name))
    if not files:
        raise ApiError(ErrorCode.PROCESSING_FAILED, "A step produced no output.")
    return files


def publish(files: list[tuple[Path, str]], out: Path, zip_stem: str) -> tuple[Path, list[Path]]:
    """Move the final outputs into the job's out/ folder; several outputs are zipped (ZIP first)."""
    out.mkdir(parents=True, exist_ok=True)
    used = {p.name for p in out.iterdir()}
    moved = []
    for path, name in files:
        target = out / unique_name(name, used)
        os.replace(path, target)
        moved.append(target)
    if len(moved) == 1:
        return moved[0], []
    archive = out / unique_name(f"{zip_stem}.zip", used)
    with Archive(archive) as zf:
        for path in moved:
            zf.add(path)
    return archive, moved


def discard_intermediates(base: Path) -> None:
    shutil.rmtree(base, ignore_errors=True)


def initial_state(steps: list[Step]) -> dict[str, Any]:
    """A pipeline job's extra frame fields (its `batch` slot, which also lists the running children)."""
    return {"_children": [], "stepsCompleted": 0, "totalSteps": len(steps)}


# ---- the coordinators ----------------------------------------------------------------------------

async def run_single(jobs: JobManager, parent: JobRecord, steps: list[Step], path: Path, name: str,
                     saver=None) -> None:
    """The coordinator of `POST /pipeline/execute`. Always finishes the parent; never raises."""
    total = len(steps)
    job_dir = jobs.job_dir(parent.id)
    base = job_dir / "steps"
    if parent.batch is None:  # the route sets it first, so a cancel can never miss the children
        parent.batch = initial_state(steps)
    parent.update(status=JobState.PROCESSING, progress=0, message=f"Step 1/{total}: {steps[0].spec.id}")

    def report(fraction: float, message: str) -> None:
        parent.update(status=JobState.PROCESSING, progress=100 * fraction, message=message)

    try:
        runner = PipelineRunner(jobs, parent, steps, base, parent.id, report)
        outcome = await runner.run(path, name)
        parent.batch["stepsCompleted"] = outcome.completed
        if outcome.canceled or parent.status.terminal:
            if not parent.status.terminal:
                jobs.finish(parent, JobState.CANCELED, error="The job was canceled.", code=ErrorCode.CANCELED.value,
                            http_status=409)
            return
        if outcome.failure is not None:
            failure = outcome.failure
            parent.batch["failedStep"] = failure.step.number
            jobs.finish(parent, JobState.FAILED, error=failure.text(total), code=failure.code,
                        http_status=504 if failure.code == ErrorCode.TIMEOUT.value else 422)
            return
        primary, parts = publish(outcome.files, jobs.out_dir(parent.id), Path(name).stem or "pipeline")
        body: dict[str, Any] = {
            "jobId": parent.id,
            "downloadUrl": download_url(parent.id, primary.name),
            "originalSize": parent.original_size,
            "processedSize": primary.stat().st_size,
        }
        if parts:
            body["downloads"] = [{"filename": p.name, "downloadUrl": download_url(parent.id, p.name),
                                  "size": p.stat().st_size} for p in parts]
        body["stepsCompleted"] = outcome.completed
        body["steps"] = outcome.reports
        for key, value in outcome.extra.items():
            body.setdefault(key, value)
        if parent.warnings:
            body["warnings"] = list(parent.warnings)
        if saver is not None:  # library auto-save, before the job reports completion
            await saver.save(primary, [s.spec.id for s in steps], body)
        jobs.finish(parent, JobState.COMPLETED, result=body)
    except Exception:
        log.exception("pipeline %s failed", parent.id)
        jobs.finish(parent, JobState.FAILED, error="The pipeline failed unexpectedly.",
                    code=ErrorCode.PROCESSING_FAILED.value, http_status=422)
    finally:
        discard_intermediates(base)


async def run_batch(jobs: JobManager, parent: JobRecord, steps: list[Step], items: list[tuple[int, Path, str]],
                    zip_path: Path, rejected: list[dict[str, str]], concurrency: int) -> None:
    """The coordinator of `POST /pipeline/batch`: every file through the whole pipeline, a few files at a
    time; the ZIP grows on disk as files finish; per-file failures are recorded. Never raises."""
    total_files = len(items) + len(rejected)
    total_steps = len(steps)
    base = jobs.job_dir(parent.id) / "steps"
    parent.batch = {"totalFiles": total_files, "completedFiles": 0, "failedFiles": len(rejected),
                    "errors": list(rejected), "_children": list((parent.batch or {}).get("_children", []))}
    parent.update(status=JobState.PROCESSING, progress=0, message=f"0/{total_files} files")
    fractions: dict[int, float] = {}
    results: dict[str, str] = {}
    limiter = trio.CapacityLimiter(max(1, concurrency))

    def refresh() -> None:
        done = parent.batch["completedFiles"] + parent.batch["failedFiles"]
        running = sum(fractions.values())
        parent.update(progress=100 * (done + running) / total_files, message=f"{done}/{total_files} files")

    try:
        with Archive(zip_path) as archive:

            async def one(index: int, path: Path, name: str) -> None:
                async with limiter:
                    if parent.status.terminal:
                        return

                    def report(fraction: float, _message: str) -> None:
                        fractions[index] = fraction
                        refresh()

                    runner = PipelineRunner(jobs, parent, steps, base / str(index), f"{parent.id}.{index}", report)
                    try:
                        outcome = await runner.run(path, name)
                    except Exception:
                        log.exception("pipeline batch %s item %d failed", parent.id, index)
                        outcome = Outcome(failure=None, canceled=False)
                        outcome.files = []
                    fractions.pop(index, None)
                    if outcome.canceled:
                        return
                    if outcome.failure is not None or not outcome.files:
                        message = outcome.failure.text(total_steps) if outcome.failure else "The pipeline failed."
                        parent.batch["failedFiles"] += 1
                        parent.batch["errors"].append({"filename": name, "error": message})
                    else:
                        names = []
                        for out_path, out_name in outcome.files:
                            names.append(archive.add(out_path, out_name))
                        results[str(index)] = names[0] if len(names) == 1 else ",".join(names)
                        parent.batch["completedFiles"] += 1
                    shutil.rmtree(base / str(index), ignore_errors=True)
                    refresh()

            async with trio.open_nursery() as nursery:
                for index, path, name in items:
                    nursery.start_soon(one, index, path, name)
        jobs.finish_batch(parent, zip_path, results, stepsCompleted=total_steps, steps=[s.spec.id for s in steps])
    except Exception:
        log.exception("pipeline batch %s failed", parent.id)
        jobs.finish(parent, JobState.FAILED, error="The batch failed unexpectedly.",
                    code=ErrorCode.PROCESSING_FAILED.value, http_status=422)
    finally:
        discard_intermediates(base)
