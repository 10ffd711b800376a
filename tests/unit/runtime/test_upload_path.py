"""load.upload_path: its tracer logs the Lutra files a process calls into (and nothing else), the window
arithmetic picks the right slots, and against a real server one resize runs the modules it must."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from load import upload_path
from load.harness.server import ROOT


def test_the_tracer_logs_lutra_files_per_process_and_nothing_else(tmp_path):
    site, trace = tmp_path / "site", tmp_path / "trace"
    site.mkdir()
    trace.mkdir()
    (site / "sitecustomize.py").write_text(upload_path.SITECUSTOMIZE.format(
        root=str(ROOT), out=str(trace), layers=upload_path.LAYERS, slot=upload_path.SLOT_S))
    code = "import json; from protocols.errors import bad_input; bad_input('x'); json.dumps({'a': 1})"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(site), str(ROOT)])}
    before = time.time()
    done = subprocess.run([sys.executable, "-c", code], env=env, cwd=tmp_path, capture_output=True, check=False)
    assert done.returncode == 0, done.stderr.decode()
    logs = list(trace.glob("*.log"))
    assert len(logs) == 1  # one process, one log named by its pid
    found = upload_path.modules_between(trace, before, time.time())
    assert "protocols/errors.py" in found
    assert all(m.split("/")[0] in upload_path.LAYERS for m in found)  # json, the stdlib: not logged


def test_only_the_slots_inside_the_window_count(tmp_path):
    slot = upload_path.SLOT_S
    start = 1_000_000.0
    first = int(start / slot)
    (tmp_path / "11.log").write_text(
        f"{first - 1} {ROOT}/service/app.py\n"  # before the window
        f"{first} {ROOT}/service/auth.py\n"
        f"{first + 4} {ROOT}/actors/runtime.py\n")
    (tmp_path / "12.log").write_text(
        f"{first + 2} {ROOT}/actors/runtime.py\n"
        f"{first + 9} {ROOT}/actors/workers.py\n")  # after it
    found = upload_path.modules_between(tmp_path, start, start + 4.5 * slot)
    assert found == {"service/auth.py": {11}, "actors/runtime.py": {11, 12}}


@pytest.mark.e2e
def test_one_resize_runs_the_route_the_runtime_and_the_tool():
    result = upload_path.measure(runs=2)
    modules = set(result["modules"])
    assert {"service/routes/tools.py", "service/routes/jobs.py", "actors/runtime.py",
            "actors/image/resize.py"} <= modules
    assert "actors/image/resize.py" in result["in_workers"]  # the tool ran in a worker process, and was seen
    assert result["count"] == len(modules) == sum(result["by_layer"].values())
    assert all(Path(ROOT, m).is_file() for m in modules)
