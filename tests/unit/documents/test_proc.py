"""External programs of the document tools (qpdf, ghostscript, pdftotext, pandoc) go through _proc.run:
argument lists, a timeout on every call, the child killed with a cancelled job's worker, and stderr
logged but never shown to a client."""

from __future__ import annotations

import functools
import sys
import uuid

import psutil
import pytest
import trio
import trio_parallel

from actors.documents import _proc
from protocols.errors import ErrorCode, ToolError


def _sleeper(token: str, seconds: float = 60) -> list[str]:
    """A child that runs long and can be found by the token on its command line."""
    return [sys.executable, "-c", "import sys, time; time.sleep(float(sys.argv[1]))", str(seconds), token]


def _children_with(token: str) -> list[psutil.Process]:
    found = []
    for proc in psutil.process_iter(["cmdline"]):
        if token in (proc.info.get("cmdline") or []) and proc.status() != psutil.STATUS_ZOMBIE:
            found.append(proc)
    return found


def test_stderr_never_reaches_the_message(caplog):
    secret = "SECRET-/srv/lutra/jobs/x.pdf: **** Error: xref table broken at offset 1234"
    argv = [sys.executable, "-c", f"import sys; sys.stderr.write({secret!r}); sys.exit(3)"]
    with caplog.at_level("WARNING", logger="lutra.documents"), pytest.raises(ToolError) as err:
        _proc.run(argv, timeout=60, what="Compressing the PDF")
    message = err.value.message
    assert message.startswith("Compressing the PDF failed")
    assert "SECRET" not in message and "/srv" not in message and "xref" not in message
    assert "SECRET" in caplog.text  # the operator still sees it in the log


def test_timeout_stops_the_program_and_is_a_timeout():
    token = uuid.uuid4().hex
    with pytest.raises(ToolError) as err:
        _proc.run(_sleeper(token), timeout=0.5, what="Converting the PDF to grayscale")
    assert err.value.code == ErrorCode.TIMEOUT and err.value.status == 504
    assert "0.5 s" in err.value.message
    assert _children_with(token) == []  # subprocess.run killed it


def test_missing_program_is_501():
    with pytest.raises(ToolError) as err:
        _proc.run(["lutra-no-such-program-" + uuid.uuid4().hex], timeout=5, what="Repairing the PDF")
    assert err.value.status == 501 and err.value.code == ErrorCode.FEATURE_NOT_INSTALLED


def test_a_cancelled_job_takes_its_program_with_it():
    """The pool runs sync tools with trio_parallel(kill_on_cancel=True): cancelling the job kills the
    worker, and PR_SET_PDEATHSIG kills the program the worker started (no orphaned ghostscript)."""
    token = uuid.uuid4().hex
    seen: list[psutil.Process] = []

    async def main():
        async with trio.open_nursery() as nursery:
            job = functools.partial(_proc.run, _sleeper(token), timeout=120, what="Compressing the PDF")
            nursery.start_soon(lambda: trio_parallel.run_sync(job, kill_on_cancel=True))
            with trio.fail_after(60):
                while not seen:
                    seen.extend(_children_with(token))
                    await trio.sleep(0.05)
            nursery.cancel_scope.cancel()

    trio.run(main)
    child = seen[0]
    gone, alive = psutil.wait_procs([child], timeout=30)
    assert child in gone and not alive, "the program outlived its cancelled job"
