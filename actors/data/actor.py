"""The DataActor: CSV/XLSX/JSON/XML/YAML/ZIP tools and charts, each job in a worker process."""

from __future__ import annotations

from actors.pool import WorkerPoolActor


class DataActor(WorkerPoolActor):
    name = "data"
    warm_at_start = False  # every family has workers of its own: idle ones cost ~40 MB each on a box that may never convert data


def create(capacity: int, queue_size: int, options: dict) -> DataActor:
    return DataActor(capacity, queue_size)
