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
from protocols.tools import ToolCall, ToolSpec
from service.batches import Collector, Plan
from service.jobs import JobManager, download_url
from service.pipeline_steps import (
    INPUTLESS_MODES,
    Step,
    has_long_step,
    parse_steps,
    pipeline_tool_ids,
    step_refusal,
    step_warnings,
)
from service.progress import JobRecord
from service.sniff import HEAD_BYTES, KIND_NAMES, sniff

log = logging.getLogger("lutra.pipelines")

# the steps' names, used where pipelines are run (routes, web pages)
__all__ = ["INPUTLESS_MODES", "Step", "has_long_step", "parse_steps", "pipeline_tool_ids", "step_refusal",
           "step_warnings", "PipelineRunner", "run_single", "run_batch", "initial_state"]


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
                 report, *, resumed: bool = False) -> None:
        self.jobs, self.parent, self.steps, self.base, self.prefix = jobs, parent, steps, base, prefix
        self.report = report
        self.resumed = resumed  # another coordinator ran this before: its steps' jobs are followed, not rerun

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
                        if self.resumed:
                            await self.jobs.submit_tool_once(child, spec, call)
                        else:
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

async def run_single(jobs: JobManager, parent: JobRecord, plan: Plan, *, resumed: bool = False,
                     saver=None) -> None:
    """The coordinator of `POST /pipeline/execute`. Always finishes the parent; never raises. Resumed on
    another node (a durable ledger), the steps that finished are not run again: their files are still in
    the job's steps/ folder, which goes only when the pipeline ends here (not when this node stops)."""
    base = jobs.job_dir(parent.id) / "steps"
    await _single(jobs, parent, plan, base, resumed, saver)
    discard_intermediates(base)


async def _single(jobs: JobManager, parent: JobRecord, plan: Plan, base: Path, resumed: bool, saver) -> None:
    steps = parse_steps(plan.steps, max_steps=0, disabled=frozenset())
    ((_, path, name),) = plan.items
    total = len(steps)
    if parent.batch is None:  # the route sets it first, so a cancel can never miss the children
        parent.batch = initial_state(steps)
    parent.update(status=JobState.PROCESSING, progress=0, message=f"Step 1/{total}: {steps[0].spec.id}")

    def report(fraction: float, message: str) -> None:
        parent.update(status=JobState.PROCESSING, progress=100 * fraction, message=message)
        jobs.ledger.progress(parent)

    try:
        runner = PipelineRunner(jobs, parent, steps, base, parent.id, report, resumed=resumed)
        outcome = await runner.run(path, name)
        parent.batch["stepsCompleted"] = outcome.completed
        if outcome.canceled or parent.status.terminal:
            if not parent.status.terminal:
                await jobs.ledger.complete(parent, JobState.CANCELED, error="The job was canceled.",
                                           code=ErrorCode.CANCELED.value, http_status=409)
            return
        if outcome.failure is not None:
            failure = outcome.failure
            parent.batch["failedStep"] = failure.step.number
            await jobs.ledger.complete(parent, JobState.FAILED, error=failure.text(total), code=failure.code,
                                       http_status=504 if failure.code == ErrorCode.TIMEOUT.value else 422)
            return
        if resumed:  # what an earlier coordinator published before it died: the same files, published again
            for old in plan.out.iterdir():
                old.unlink()
        primary, parts = publish(outcome.files, plan.out, Path(name).stem or "pipeline")
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
        await jobs.ledger.complete(parent, JobState.COMPLETED, result=body)
    except Exception:
        log.exception("pipeline %s failed", parent.id)
        if not parent.status.terminal:
            await jobs.ledger.complete(parent, JobState.FAILED, error="The pipeline failed unexpectedly.",
                                       code=ErrorCode.PROCESSING_FAILED.value, http_status=422)


async def run_batch(jobs: JobManager, parent: JobRecord, plan: Plan, *, resumed: bool = False) -> None:
    """The coordinator of `POST /pipeline/batch`: every file through the whole pipeline, a few files at a
    time. A file's final outputs are kept in `items/<index>/` of the job (its steps' files go as soon as it
    is done); per-file failures are recorded; the ZIP is written in file order (service.batches)."""
    steps = parse_steps(plan.steps, max_steps=0, disabled=frozenset())
    total_steps = len(steps)
    base = jobs.job_dir(parent.id) / "steps"
    done = await jobs.ledger.finished(parent.id) if resumed else {}
    collector = Collector(jobs, parent, plan, done)
    collector.refresh()
    limiter = trio.CapacityLimiter(max(1, plan.concurrency))

    async def one(index: int, path: Path, name: str) -> None:
        async with limiter:
            if parent.status.terminal:
                return

            def report(fraction: float, _message: str) -> None:
                collector.fractions[index] = fraction
                collector.refresh()

            runner = PipelineRunner(jobs, parent, steps, base / str(index), f"{parent.id}.{index}", report,
                                    resumed=resumed)
            try:
                outcome = await runner.run(path, name)
            except Exception:
                log.exception("pipeline batch %s item %d failed", parent.id, index)
                outcome = Outcome()
            if outcome.canceled:
                return
            if outcome.failure is not None or not outcome.files:
                result: dict[str, Any] = {
                    "error": outcome.failure.text(total_steps) if outcome.failure else "The pipeline failed."}
            else:
                kept = await trio.to_thread.run_sync(_keep, outcome.files, jobs.job_dir(parent.id), index)
                result = {"files": kept}
            await collector.add(index, result)
            shutil.rmtree(base / str(index), ignore_errors=True)

    try:
        async with trio.open_nursery() as nursery:
            for index, path, name in plan.items:
                if index not in done:
                    nursery.start_soon(one, index, path, name)
        await collector.finish(stepsCompleted=total_steps, steps=[s.spec.id for s in steps])
    except BaseException:  # the steps' files stay for a coordinator resumed elsewhere (or the sweep)
        collector.abandon()
        raise
    discard_intermediates(base)
    if parent.status is JobState.COMPLETED:
        shutil.rmtree(jobs.job_dir(parent.id) / "items", ignore_errors=True)  # they are in the ZIP now


def _keep(files: list[tuple[Path, str]], job_dir: Path, index: int) -> list[list[str]]:
    """A file's final outputs, linked (or copied) into `items/<index>/`: the ledger names them there, and a
    coordinator resumed before its steps' folder is gone finds the steps' files still in place."""
    folder = job_dir / "items" / str(index)
    folder.mkdir(parents=True, exist_ok=True)
    used: set[str] = set()
    kept = []
    for path, name in files:
        target = folder / unique_name(name, used)
        target.unlink(missing_ok=True)
        try:
            os.link(path, target)
        except OSError:
            shutil.copy2(path, target)
        kept.append([str(target.relative_to(job_dir)), name])
    return kept
