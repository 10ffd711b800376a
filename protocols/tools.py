"""The tool contract and its registry: the single source for routes, validation, OpenAPI and pipelines."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any, Generic, TypeVar

from pydantic import BaseModel, ConfigDict
from pydantic.alias_generators import to_camel


class Mode(StrEnum):
    FAST = "fast"  # the request waits up to SYNC_WAIT_MS, then falls back to 202
    LONG = "long"  # 202 at once


class Section(StrEnum):
    IMAGE = "image"
    VIDEO = "video"
    AUDIO = "audio"
    PDF = "pdf"
    FILES = "files"


class Family(StrEnum):
    """Which actor owns a tool: the package its module is in (`actors.<family>.<tool>`)."""

    IMAGE = "image"
    MEDIA = "media"
    DOCUMENTS = "documents"
    DATA = "data"
    VISION = "vision"
    SPEECH = "speech"


class Runs(StrEnum):
    """Where a tool's function runs."""

    WORKER = "worker"  # a worker process: CPU-bound code; a crash fails one job, a cancel kills the process
    LOOP = "loop"  # the actor's event loop: an async function that drives subprocesses (ffmpeg, soffice)
    THREAD = "thread"  # a thread of the server process, beside the models it loaded (they release the GIL)


class ToolSettings(BaseModel):
    """Base of every tool's settings model. Clients send camelCase; Python code reads snake_case."""

    model_config = ConfigDict(
        alias_generator=to_camel,
        populate_by_name=True,
        extra="ignore",
        frozen=True,
        use_enum_values=True,
    )


@dataclass(frozen=True, slots=True)
class Limits:
    """Input limits a tool must enforce while decoding (they travel into worker processes)."""

    max_megapixels: float = 0  # 0 = unlimited
    max_pdf_pages: int = 0  # 0 = unlimited


S = TypeVar("S", bound=ToolSettings)


@dataclass(slots=True)
class ToolCall(Generic[S]):
    """Input paths in, an empty output folder to write into. Pure data, so it pickles into a worker.
    A tool declares its settings type at the call site: `def run(call: ToolCall[ResizeSettings])`."""

    inputs: list[Path]
    names: list[str]  # the client's original file names, same order as inputs
    settings: S
    workdir: Path
    limits: Limits = field(default_factory=Limits)
    roles: list[str] = field(default_factory=list)  # multipart field name of each input
    # Only for tools that run in the server process (Runs.LOOP, Runs.THREAD): progress 0..100 + message.
    progress: Callable[[float, str | None], None] | None = None

    def stem(self, index: int = 0) -> str:
        name = self.names[index] if index < len(self.names) else "output"
        stem = Path(name).stem
        return stem or "output"


@dataclass(slots=True)
class ToolResult:
    outputs: list[Path]
    extra: dict[str, Any] = field(default_factory=dict)


ToolFn = Callable[[ToolCall[Any]], Any]  # returns a ToolResult (awaitable for Runs.LOOP)
# the model bundles a tool needs for given settings (checked before its job is queued)
Requirement = Callable[[Any], tuple[str, ...]]


def _no_bundles(_settings: Any) -> tuple[str, ...]:
    return ()


@dataclass(frozen=True, slots=True)
class ToolSpec:
    id: str
    section: Section
    family: Family
    settings: type[ToolSettings]
    run: ToolFn
    mode: Mode = Mode.FAST
    inputs: tuple[int, int] = (1, 1)  # (min, max) files
    accepts: frozenset[str] = frozenset()  # input kinds from the upload sniffer, empty = anything
    roles: tuple[str, ...] = ()  # named parts for a second input (e.g. "watermark")
    body: str = "multipart"  # "json" (settings are the JSON body, no file) or "either" (by Content-Type)
    summary: str = ""
    runs: Runs = Runs.WORKER
    requires: Requirement = _no_bundles
    pipeline: bool = True  # usable as a pipeline step (False for password tools and sub-routes)
    # "json": the usual {jobId, downloadUrl, ...} body; "file": answer with the output file itself
    # (used by preview sub-routes); extras then travel as X-<Name> headers
    response: str = "json"

    @property
    def multi_input(self) -> bool:
        return self.inputs[1] > 1

    @property
    def is_subroute(self) -> bool:
        """Sub-routes (e.g. gif-tools/info) register as tools whose id is '<tool>/<name>'."""
        return "/" in self.id

    @property
    def pipeline_step(self) -> bool:
        return self.pipeline and not self.multi_input and not self.is_subroute and self.body == "multipart"


REGISTRY: dict[str, ToolSpec] = {}  # the public tools: routes, OpenAPI, the web app, pipelines, the CLI
# Internal jobs: what the server asks of its own actors (the library's thumbnails, previews and probes).
# Declared with `@tool(..., internal=True)` and run like any tool (same mailbox, slots, deadline, stats),
# but kept out of REGISTRY, so that no public listing or route can reach them.
INTERNAL: dict[str, ToolSpec] = {}


def spec_for(tool_id: str) -> ToolSpec | None:
    """The declaration of a public tool or an internal job: what an actor runs."""
    return REGISTRY.get(tool_id) or INTERNAL.get(tool_id)


def tool(
    tool_id: str,
    *,
    section: Section | str,
    settings: type[ToolSettings],
    mode: Mode = Mode.FAST,
    inputs: tuple[int, int] = (1, 1),
    accepts: frozenset[str] | set[str] = frozenset(),
    roles: tuple[str, ...] = (),
    body: str = "multipart",
    summary: str = "",
    runs: Runs | str = Runs.WORKER,
    requires: tuple[str, ...] | Requirement = (),
    pipeline: bool = True,
    response: str = "json",
    internal: bool = False,
) -> Callable[[ToolFn], ToolFn]:
    """Register a tool: the one declaration of it. Adding a tool = adding one module that uses this
    decorator in its family's package (`actors.<family>.<module>`), which names the family. `runs` says
    where its function runs; `requires` names the model bundles it needs (a tuple, or a function of its
    settings). `internal`: a job the server gives its actors itself, never a public tool (see INTERNAL)."""

    def register(fn: ToolFn) -> ToolFn:
        existing = spec_for(tool_id)
        if existing is not None and existing.run is not fn:
            raise ValueError(f"tool {tool_id!r} registered twice")
        (INTERNAL if internal else REGISTRY)[tool_id] = ToolSpec(
            id=tool_id,
            section=Section(section),
            family=family_of(fn.__module__),
            settings=settings,
            run=fn,
            mode=mode,
            inputs=inputs,
            accepts=frozenset(accepts),
            roles=roles,
            body=body,
            summary=summary or ((fn.__doc__ or "").strip().splitlines() or [""])[0],
            runs=Runs(runs),
            requires=requires if callable(requires) else _constant(tuple(requires)),
            pipeline=pipeline,
            response=response,
        )
        return fn

    return register


def family_of(module: str) -> Family:
    """`actors.<family>.<tool>` -> the family; a tool module anywhere else is a mistake."""
    parts = module.split(".")
    if len(parts) < 3 or parts[0] != "actors" or parts[1] not in Family.__members__.values():
        raise ValueError(f"a tool module must live in a family package (actors.<family>), not {module}")
    return Family(parts[1])


def _constant(bundles: tuple[str, ...]) -> Requirement:
    return (lambda _settings: bundles) if bundles else _no_bundles
