"""Load: a short concurrency sweep of the mixed scenario and short fairness runs (video, AI; each against a real
server started by load.soak), asserting on outcomes, never on time: zero errors, descriptors and workspace
scratch back to baseline, the report files written and parseable, image requests not queued behind video jobs.

The full versions (`@pytest.mark.slow`, run by `make reliability`): the 1-16 client sweep followed by the
soak (LUTRA_SOAK_MINUTES, default 20) with the complete verdict, and the fairness run on a 25 s 720p clip.
Their reports land in LUTRA_LOAD_OUT when set (else the test's tmp folder).
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
import pyvips

from load import report, scenarios, soak
from load.harness import sampling

pytestmark = pytest.mark.e2e


def out_dir(tmp_path: Path, name: str) -> Path:
    base = os.environ.get("LUTRA_LOAD_OUT")
    return Path(base) / name if base else tmp_path / name


def check_files(folder: Path, result: dict) -> dict:
    """report.txt, samples.json and report.png exist and hold what the run measured."""
    text = (folder / "report.txt").read_text()
    assert ("VERDICT: PASS" if result["verdict"]["pass"] else "VERDICT: FAIL") in text
    for phase in result["phases"]:
        assert f"{phase['label']:<10}" in text
    saved = json.loads((folder / "samples.json").read_text())
    assert saved["verdict"] == json.loads(json.dumps(result["verdict"]))
    assert saved["samples"] and all("t" in s and "phase" in s for s in saved["samples"])
    chart = pyvips.Image.new_from_file(str(folder / "report.png"))
    assert (chart.width, chart.height) == (1260, 1170)  # 14 x 13 in at 90 dpi: the six panels
    assert chart.max() > chart.min()  # something was drawn
    return saved


# ---- no server -------------------------------------------------------------------------------------------
def test_mixed_scenario_is_weighted_like_real_use():
    items = scenarios.scenario("mixed")
    weight = {f: sum(i.weight for i in items if i.family == f) for f in scenarios.FAMILIES}
    total = sum(weight.values())
    assert {"image", "documents", "data", "media"} <= {i.family for i in items}
    assert weight["image"] / total > 0.5  # mostly fast image tools
    assert weight["documents"] > weight["media"] > 0
    office = [i for i in items if i.name == "word-to-pdf"]
    assert len(office) == 1 and office[0].weight / total <= 0.02  # rare
    assert weight["ai"] == 0  # no bundle installed: no AI items
    assert {i.name for i in scenarios.scenario("ai", installed=frozenset({"ocr"}))} == {"ocr"}
    assert "word-to-pdf" not in {i.name for i in scenarios.scenario("mixed", office=False)}
    for family in scenarios.FAMILIES[:-1]:
        assert scenarios.scenario(family), family
    with pytest.raises(SystemExit):
        scenarios.scenario("nope")


def test_arguments_bounds_and_loopback_only():
    args = soak.parse_args([])
    assert (args.sweep, args.minutes, args.fairness) == ([1, 2, 4, 8, 16], 20, False)
    assert args.requests > 0 and args.level_limit_s > 0 and args.soak_requests > 0  # count and time bounds
    alone = soak.parse_args(["--fairness"])
    assert (alone.sweep, alone.minutes) == ([], 0)
    assert soak.parse_args(["--url", "http://127.0.0.1:1349"]).url
    with pytest.raises(SystemExit, match="127.0.0.1"):
        soak.parse_args(["--url", "http://192.0.2.10:1349"])


def test_verdict_flags_errors_growth_and_leaks():
    ok_phase = report.summarize("sweep-1", 1, 1.0, [("resize", 1.0, 0.1, 200), ("resize", 2.0, 0.2, 200)])
    bad_phase = report.summarize("sweep-2", 2, 1.0, [("resize", 1.0, 0.1, 503), ("merge-pdf", 2.0, 0.2, 200)])
    assert bad_phase["tools"]["ALL"]["errorsByStatus"] == {"503": 1}
    assert bad_phase["tools"]["merge-pdf"]["errors"] == 0
    base = {"fdsMain": 40, "fdsTotal": 100, "scratchBytes": 0, "retainedBytes": 0}
    leaked = {"fdsMain": 40 + report.FD_SLACK + 1, "fdsTotal": 100, "scratchBytes": 10**6, "retainedBytes": 10**7}
    growing = [{"t": float(t), "phase": "soak", "rssTotalMb": 400 + t} for t in range(400)]
    v = report.verdict([ok_phase, bad_phase], {"afterSweep": report.back_to_baseline(base, leaked)}, growing)
    assert not v["pass"]
    assert not v["checks"]["errors"]["ok"] and v["checks"]["errors"]["byStatus"] == {"503": 1}
    assert not v["checks"]["rssGrowth"]["ok"]
    sweep = v["checks"]["afterSweep"]
    assert not sweep["fdsMain"]["ok"] and sweep["fdsTotal"]["ok"] and not sweep["scratchBytes"]["ok"]
    assert sweep["retainedBytes"]["ok"]  # kept outputs are not held to the baseline
    fair = {"ratio": 2.5, "target": 2.0, "imagesDoneBeforeFirstVideo": 6, "burstRequests": 6}
    v = report.verdict([ok_phase], {}, [], fair)
    assert not v["pass"] and not v["checks"]["fairness"]["ok"]  # images starved of CPU, though not queued
    assert report.verdict([ok_phase], {}, [], {**fair, "ratio": 1.5})["pass"]
    flat = [{"t": float(t), "phase": "soak", "rssTotalMb": 400.0} for t in range(400)]
    v = report.verdict([ok_phase], {"afterSweep": report.back_to_baseline(base, base)}, flat)
    assert v["pass"] and v["checks"]["rssGrowth"]["growth"] == 0


def test_a_grown_worker_pool_is_not_a_descriptor_leak():
    """One more idle tool worker after the load: its own descriptors and the server's three for it are
    allowed; the same growth without a new worker, or more than a worker's worth, is a leak."""
    base = {"fdsMain": 28, "fdsTotal": 50, "workers": 3, "fdsWorkers": 21, "scratchBytes": 0, "retainedBytes": 0}
    pool = {**base, "fdsMain": 31, "fdsTotal": 62, "workers": 4, "fdsWorkers": 30}
    checks = report.back_to_baseline(base, pool)
    assert checks["fdsMain"]["ok"] and checks["fdsTotal"]["ok"] and checks["fdsTotal"]["poolGrowth"] == 1
    leak = {**pool, "workers": 3}
    checks = report.back_to_baseline(base, leak)
    assert checks["fdsMain"]["ok"] and not checks["fdsTotal"]["ok"]  # main within slack, total not
    worse = {**pool, "fdsMain": 31 + report.FD_SLACK + 1, "fdsTotal": 62 + report.FD_SLACK + 8}
    checks = report.back_to_baseline(base, worse)
    assert not checks["fdsMain"]["ok"] and not checks["fdsTotal"]["ok"]


def test_scratch_and_retained_disk_use(tmp_path):
    job = tmp_path / "workspace" / "job1"
    for sub, size in (("in", 100), ("out", 50), ("steps", 7)):
        (job / sub).mkdir(parents=True)
        (job / sub / "f").write_bytes(b"x" * size)
    (tmp_path / "workspace" / "stray.tmp").write_bytes(b"x" * 3)
    (tmp_path / "lutra.db").write_bytes(b"x" * 1000)
    use = sampling.disk_use(tmp_path)
    # outputs are kept until FILE_MAX_AGE_HOURS; uploads, steps and stray files are scratch
    assert use == {"retainedBytes": 50, "scratchBytes": 110, "jobDirs": 1, "dataDirBytes": 1160}


# ---- against a server --------------------------------------------------------------------------------------
def test_short_sweep_holds(tmp_path):
    folder = out_dir(tmp_path, "sweep")
    result = soak.main(["--sweep", "1,2,4", "--requests", "2", "--minutes", "0", "--no-office",
                        "--photo-width", "640", "--clip-s", "2", "--out", str(folder)])
    warm, *levels = result["phases"]
    # the warm-up ran every tool of the scenario once: image, documents, data and media tools
    assert set(warm["tools"]) == {"ALL"} | {i.name for i in scenarios.scenario("mixed", office=False)}
    assert [p["clients"] for p in levels] == [1, 2, 4]
    assert [p["tools"]["ALL"]["requests"] for p in levels] == [2, 4, 8]  # bounded by count
    checks = result["verdict"]["checks"]
    assert checks["errors"] == {"value": 0, "byStatus": {}, "ok": True}
    after = checks["afterSweep"]
    assert after["fdsMain"]["ok"] and after["fdsTotal"]["ok"], after
    assert after["scratchBytes"]["after"] <= after["scratchBytes"]["baseline"] + report.SCRATCH_SLACK_BYTES
    assert after["retainedBytes"]["after"] > after["retainedBytes"]["baseline"]  # the jobs' outputs are kept
    assert result["verdict"]["pass"]
    saved = check_files(folder, result)
    phases = {s["phase"] for s in saved["samples"]}
    assert {"warm-up", "sweep-1", "sweep-4"} <= phases
    sample = saved["samples"][-1]
    assert sample["rssTotalMb"] >= sample["rssMainMb"] > 0 and sample["fdsTotal"] >= sample["fdsMain"] > 0
    assert {"image", "media", "documents", "data"} <= set(sample["queues"])
    assert sample["rssChildrenMb"]["workers"] > 0  # the tool worker processes, apart
    assert "retainedBytes" in sample and "scratchBytes" in sample


def test_short_fairness_images_not_queued_behind_video(tmp_path):
    folder = out_dir(tmp_path, "fairness")
    # a longer clip where more cores make the encode faster: the video jobs must outlast six small resizes
    clip_s = str(max(6, 2 * (os.cpu_count() or 2)))
    result = soak.main(["--fairness", "--video-jobs", "3", "--fairness-requests", "6", "--fairness-clip-s", clip_s,
                        "--fairness-clip-height", "480", "--photo-width", "640", "--out", str(folder)])
    f = result["fairness"]
    assert f["videoStatuses"] == [200, 200, 200]  # the burst (more jobs than media capacity) completed
    assert f["idleStatuses"] == [200] and f["burstStatuses"] == [200]
    assert f["idleRequests"] == 6 and f["burstRequests"] == 6
    # each actor has its own capacity: every image request finished while the video jobs were still running
    assert f["imagesDoneBeforeFirstVideo"] == 6
    assert result["verdict"]["checks"]["errors"]["ok"]
    assert result["verdict"]["checks"]["fairness"]["imagesDoneBeforeFirstVideo"] == 6  # its p95 ratio: not asserted
    check_files(folder, result)
    assert "FAIRNESS: image p95 idle" in (folder / "report.txt").read_text()


def test_short_ai_fairness_runs_image_tools_beside_two_ai_jobs(tmp_path):
    """The AI fairness run end to end: the bundle installed by the harness, two AI jobs kept running during
    the whole burst, every request answered. Its p95 ratio is measured and reported, not asserted."""
    folder = out_dir(tmp_path, "ai-fairness")
    result = soak.main(["--ai-fairness", "--fairness-requests", "6", "--photo-width", "640",
                        "--out", str(folder)])
    f = result["aiFairness"]
    assert f["aiJobsRunningAtStart"] == 2 and f["aiJobsDone"] >= 2 and f["aiStatuses"] == [200]
    assert f["idleStatuses"] == [200] and f["burstStatuses"] == [200]
    assert f["idleRequests"] == 6 and f["burstRequests"] == 6
    assert set(f["perTool"]) == {"resize", "edit-metadata"}
    assert result["verdict"]["checks"]["errors"]["ok"] and "aiFairness" in result["verdict"]["checks"]
    check_files(folder, result)
    assert "AI FAIRNESS: image p95 idle" in (folder / "report.txt").read_text()


# ---- full versions -----------------------------------------------------------------------------------------
@pytest.mark.slow
@pytest.mark.timeout(3 * 3600)
def test_full_sweep_and_soak(tmp_path):
    minutes = os.environ.get("LUTRA_SOAK_MINUTES", "20")
    folder = out_dir(tmp_path, "soak")
    result = soak.main(["--sweep", "1,2,4,8,16", "--minutes", minutes, "--out", str(folder)])
    check_files(folder, result)
    checks = result["verdict"]["checks"]
    assert checks["errors"]["ok"], checks["errors"]
    assert checks["rssGrowth"]["ok"], checks["rssGrowth"]
    assert checks["afterSweep"]["ok"] and checks["afterSoak"]["ok"], checks
    assert result["verdict"]["pass"]


@pytest.mark.slow
@pytest.mark.timeout(3600)
def test_full_fairness(tmp_path):
    folder = out_dir(tmp_path, "fairness-full")
    result = soak.main(["--fairness", "--out", str(folder)])
    f = result["fairness"]
    assert f["videoStatuses"] == [200] * f["videoJobs"]
    assert f["burstStatuses"] == [200] and f["idleStatuses"] == [200]
    assert f["imagesDoneBeforeFirstVideo"] == f["burstRequests"]
    check_files(folder, result)


@pytest.mark.slow
@pytest.mark.timeout(3600)
def test_full_ai_fairness(tmp_path):
    folder = out_dir(tmp_path, "ai-fairness-full")
    result = soak.main(["--ai-fairness", "--out", str(folder)])
    f = result["aiFairness"]
    assert f["aiJobsRunningAtStart"] == f["aiJobs"] and f["aiStatuses"] == [200]
    assert f["burstStatuses"] == [200] and f["idleStatuses"] == [200]
    check_files(folder, result)


# ---- the throughput harness (load.bench) ---------------------------------------------------------------
def test_bench_rounds_split_the_requests_evenly():
    from load.bench import round_shares

    assert round_shares(200, 5) == [40] * 5
    assert round_shares(7, 3) == [3, 2, 2]
    assert round_shares(2, 5) == [1, 1]  # never an empty round
    assert sum(round_shares(201, 4)) == 201


def test_bench_alternates_http_and_bare_rounds_against_its_own_server():
    from load import bench

    results = bench.main(["--scenario", "resize-small", "--concurrency", "1,2", "--requests", "6", "--rounds", "3"])
    assert [r.concurrency for r in results] == [1, 2]
    for r in results:  # 6 requests per client at each level
        assert (r.count, r.errors, len(r.latencies)) == (6 * r.concurrency, 0, 6 * r.concurrency)
        assert len(r.round_ratios) == 3 and all(x > 0 for x in r.round_ratios)
        assert r.bare_per_s > 0 and r.per_s > 0
        assert 0 < r.rss_main_mb <= r.rss_total_mb
        assert "(rounds " in r.row()


def test_bench_compress_scenario_compares_http_with_the_bare_encode():
    from load import bench

    assert "compress-large" in bench.DEFAULT_SCENARIOS
    results = bench.main(["--scenario", "compress-large", "--concurrency", "1", "--requests", "2", "--rounds", "2"])
    [r] = results
    assert (r.scenario, r.count, r.errors) == ("compress-large", 2, 0)
    assert len(r.round_ratios) == 2 and r.bare_per_s > 0 and r.per_s > 0
