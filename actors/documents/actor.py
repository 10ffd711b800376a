"""The DocumentActor: PDF tools in worker processes; office conversions through a warm LibreOffice."""

from __future__ import annotations

import dataclasses
from typing import Any

import trio

from actors.pool import WorkerPoolActor
from protocols.jobs import Job
from protocols.tools import ToolResult


class DocumentActor(WorkerPoolActor):
    name = "documents"

    def __init__(self, capacity: int, queue_size: int, options: dict[str, Any]) -> None:
        super().__init__(capacity, queue_size)
        self.max_pdf_pages = int(options.get("max_pdf_pages") or 0)
        self.options = options

    async def setup(self, nursery: trio.Nursery) -> None:
        await super().setup(nursery)

    async def execute(self, job: Job) -> ToolResult:
        if self.max_pdf_pages and not job.call.limits.max_pdf_pages:
            job.call.limits = dataclasses.replace(job.call.limits, max_pdf_pages=self.max_pdf_pages)
        return await super().execute(job)


def create(capacity: int, queue_size: int, options: dict[str, Any]) -> DocumentActor:
    return DocumentActor(capacity, queue_size, options)
