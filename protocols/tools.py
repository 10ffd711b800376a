"""The tool contract and its registry: the single source for routes, validation, OpenAPI and pipelines."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any

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
    """Which actor owns a tool."""

    IMAGE = "image"
    MEDIA = "media"
    DOCUMENTS = "documents"
    DATA = "data"
    VISION = "vision"
    SPEECH = "speech"


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


@dataclass(slots=True)
class ToolCall:
    """Input paths in, an empty output folder to write into. Pure data, so it pickles into a worker."""

    inputs: list[Path]
    names: list[str]  # the client's original file names, same order as inputs
    settings: ToolSettings
    workdir: Path
    limits: Limits = field(default_factory=Limits)
    roles: list[str] = field(default_factory=list)  # multipart field name of each input
    # Only for tools that run on the actor's event loop (not in a worker): progress 0..100 + message.
    progress: Callable[[float, str | None], None] | None = None

    def stem(self, index: int = 0) -> str:
        name = self.names[index] if index < len(self.names) else "output"
        stem = Path(name).stem
        return stem or "output"


@dataclass(slots=True)
class ToolResult:
    outputs: list[Path]
    extra: dict[str, Any] = field(default_factory=dict)


ToolFn = Callable[[ToolCall], ToolResult]


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
    in_process: bool = False  # run on the actor's loop (async orchestration of subprocesses)
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


REGISTRY: dict[str, ToolSpec] = {}


def tool(
    tool_id: str,
    *,
    section: Section | str,
    family: Family | str,
    settings: type[ToolSettings],
    mode: Mode = Mode.FAST,
    inputs: tuple[int, int] = (1, 1),
    accepts: frozenset[str] | set[str] = frozenset(),
    roles: tuple[str, ...] = (),
    body: str = "multipart",
    summary: str = "",
    in_process: bool = False,
    pipeline: bool = True,
    response: str = "json",
) -> Callable[[ToolFn], ToolFn]:
    """Register a tool. Adding a tool = adding one module that uses this decorator."""

    def register(fn: ToolFn) -> ToolFn:
        if tool_id in REGISTRY and REGISTRY[tool_id].run is not fn:
            raise ValueError(f"tool {tool_id!r} registered twice")
        REGISTRY[tool_id] = ToolSpec(
            id=tool_id,
            section=Section(section),
            family=Family(family),
            settings=settings,
            run=fn,
            mode=mode,
            inputs=inputs,
            accepts=frozenset(accepts),
            roles=roles,
            body=body,
            summary=summary or ((fn.__doc__ or "").strip().splitlines() or [""])[0],
            in_process=in_process,
            pipeline=pipeline,
            response=response,
        )
        return fn

    return register
