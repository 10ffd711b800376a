"""Tool work runs below the server's CPU priority: workers at FAST_NICE (SCHED_BATCH), long encoders at
LONG_NICE, so neither a video burst nor a full worker pool starves the event loop or the fast tools."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from actors.processes import FAST_NICE, LONG_NICE, lowered


def test_lowered_programs_start_at_the_lower_priority():
    base = os.nice(0)
    out = subprocess.run(lowered(["nice"]), capture_output=True, text=True, check=True).stdout
    assert int(out) == min(19, base + LONG_NICE)
    out = subprocess.run(lowered(["nice"], FAST_NICE), capture_output=True, text=True, check=True).stdout
    assert int(out) == min(19, base + FAST_NICE)


@pytest.mark.skipif(not hasattr(os, "SCHED_BATCH"), reason="os.SCHED_BATCH exists only on Linux: run this test on Linux")
def test_a_worker_process_yields_to_the_server_once():
    code = ("import os; from actors import workers; base = os.nice(0); workers.prepare_process(); "
            "workers.prepare_process(); print(os.nice(0) - base, os.sched_getscheduler(0) == os.SCHED_BATCH)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         cwd=os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(__file__))))).stdout
    step, batch = out.split()
    assert int(step) == FAST_NICE and batch == "True"  # applied once, not once per job
