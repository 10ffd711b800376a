"""load.job_starts: it finds each form of a job start in source, and this tree has one place that starts a
job's task and one in the server that runs a tool's function (the target of issue #19)."""

from __future__ import annotations

from pathlib import Path

from load import job_starts

ROOT = Path(__file__).resolve().parents[3]


def test_each_form_of_start_is_found(tmp_path):
    (tmp_path / "actors").mkdir()
    (tmp_path / "actors" / "fam.py").write_text(
        "async def a(self, nursery, spec, job):\n"
        "    nursery.start_soon(self._run_job, job)\n"            # 2: job task
        "    spec.run(job.call)\n"                                  # 3: tool call
        "    await run_sync(workers.invoke, job.tool_id)\n"         # 4: a runner handed to a worker
        "    await run_sync(in_worker, self.spec.run, job.call)\n"  # 5: the function handed over
        "    await workers.run_tool(spec, job.call)\n"              # 6: a runner called
        "    REGISTRY[job.tool_id].run(job.call)\n"                 # 7
        "    nursery.start_soon(self._other, job)\n"                # not a job
        "    runner.run(job)\n")                                    # not a ToolSpec
    (tmp_path / "actors" / "workers.py").write_text("def run_tool(spec, call):\n    return spec.run(call)\n")
    result = job_starts.scan(tmp_path)
    assert [s["site"] for s in result["job_task"]] == ["actors/fam.py:2"]
    assert [s["site"] for s in result["tool_call"]] == [f"actors/fam.py:{n}" for n in (3, 4, 5, 6, 7)]
    assert [s["site"] for s in result["runner_branch"]] == ["actors/workers.py:2"]


def test_this_tree_starts_jobs_in_one_place():
    result = job_starts.scan(ROOT)
    assert [s["site"].split(":")[0] for s in result["job_task"]] == ["actors/runtime.py"]
    server_side = [s for s in result["tool_call"] if not s["site"].startswith("load/")]
    assert [s["site"].split(":")[0] for s in server_side] == ["actors/runtime.py"]
    assert {s["site"].split(":")[0] for s in result["runner_branch"]} == {"actors/workers.py"}
