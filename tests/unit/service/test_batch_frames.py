"""A batch's SSE frame lists each file's state, live: a file job's change is its batch's change."""

from __future__ import annotations

from protocols.jobs import JobState
from service.progress import JobRecord


def batch_with_two_files() -> tuple[JobRecord, JobRecord, JobRecord]:
    parent = JobRecord("p", "u", "batch", "resize", persist=False)
    first = JobRecord("p.0", "u", "tool", "resize", persist=False)
    second = JobRecord("p.1", "u", "tool", "resize", persist=False)
    entries = []
    for index, child in enumerate((first, second)):
        child.parent = parent
        entries.append({"index": index, "filename": f"{index}.jpg", "_record": child})
    entries.append({"index": 2, "filename": "bad.txt", "status": "failed", "progress": 0, "error": "Not an image."})
    parent.batch = {"totalFiles": 3, "completedFiles": 0, "failedFiles": 1, "errors": [],
                    "_children": ["p.0", "p.1"], "_files": entries}
    return parent, first, second


def test_each_files_state_comes_from_its_own_job_and_private_keys_stay_out():
    parent, first, second = batch_with_two_files()
    first.update(status=JobState.PROCESSING, progress=42.04, message="frame 2/5")
    second.finish(JobState.FAILED, error="Corrupt input.")
    frame = parent.frame()
    assert not [k for k in frame if k.startswith("_")]
    assert frame["files"] == [
        {"index": 0, "filename": "0.jpg", "status": "processing", "progress": 42.0, "message": "frame 2/5"},
        {"index": 1, "filename": "1.jpg", "status": "failed", "progress": 0.0, "error": "Corrupt input."},
        {"index": 2, "filename": "bad.txt", "status": "failed", "progress": 0, "error": "Not an image."},
    ]
    assert all(not k.startswith("_") for state in frame["files"] for k in state)


def test_a_file_jobs_progress_wakes_the_batchs_subscribers():
    parent, first, _ = batch_with_two_files()
    waiting = parent._changed
    first.update(status=JobState.PROCESSING, progress=10)
    assert waiting.is_set()  # the batch's stream sends a new frame with the file's progress
    again = parent._changed
    first.parent = None  # packed: the batch no longer follows it
    first.update(progress=20)
    assert not again.is_set()
