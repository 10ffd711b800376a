"""The DocumentActor: PDF tools in worker processes; office conversions through a warm LibreOffice
listener that the actor owns (started at the first conversion, or at setup with OFFICE_WARM; restarted
when it dies, stopped with the actor)."""

from __future__ import annotations

import dataclasses
import tempfile
from pathlib import Path
from typing import Any

import trio

from actors.documents import _office
from actors.pool import WorkerPoolActor
from protocols.jobs import Job
from protocols.tools import ToolResult


class DocumentActor(WorkerPoolActor):
    name = "documents"
    # html/markdown to PDF import WeasyPrint, which sets Pillow's process-wide LOAD_TRUNCATED_IMAGES: the
    # family's workers are its own (WorkerPoolActor), so no image decode elsewhere runs in a process that
    # imported it
    warm_at_start = False  # like LibreOffice, started by the first document job: idle workers cost ~40 MB each

    def __init__(self, capacity: int, queue_size: int, options: dict[str, Any]) -> None:
        super().__init__(capacity, queue_size)
        self.max_pdf_pages = int(options.get("max_pdf_pages") or 0)
        data_dir = options.get("data_dir")
        base = Path(data_dir) if data_dir else Path(tempfile.mkdtemp(prefix="lutra-"))
        self.office = _office.OfficeListener(base.resolve() / "office")
        # LibreOffice (~130 MB resident in three processes) starts at the first office conversion
        # unless asked for at start-up; once started, it is kept alive
        self.office_warm = bool(options.get("office_warm", False))

    async def setup(self, nursery: trio.Nursery) -> None:
        await super().setup(nursery)
        _office.install(self.office)
        nursery.start_soon(self._office_life)

    async def _office_life(self) -> None:
        try:
            await self.office.keep_alive(eager=self.office_warm)
        finally:
            with trio.CancelScope(shield=True):
                await trio.to_thread.run_sync(self.office.stop)

    async def execute(self, job: Job) -> ToolResult:
        if self.max_pdf_pages and not job.call.limits.max_pdf_pages:
            job.call.limits = dataclasses.replace(job.call.limits, max_pdf_pages=self.max_pdf_pages)
        return await super().execute(job)


def create(capacity: int, queue_size: int, options: dict[str, Any]) -> DocumentActor:
    return DocumentActor(capacity, queue_size, options)
