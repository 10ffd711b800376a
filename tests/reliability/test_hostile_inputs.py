"""Hostile input over HTTP: every malformed file of the corpus through the tools that accept its kind.

Each answer must be a 2xx or a clean 4xx/422 JSON error (never a 5xx, never a hang past the job deadline),
must leak neither file contents (XXE, hrefs) nor internals, and the server must stay healthy with bounded
memory. The default run sends each file through one tool per family (at most three, chosen
deterministically); `-m slow` sends every file through every tool that accepts it, in every slot.
"""

from __future__ import annotations

import json
import os
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import psutil
import pytest

from tests.reliability import _hostile as h
from tests.reliability import corpus

pytestmark = pytest.mark.e2e

FAST_S = 20
LONG_S = 30
MAX_MP = 40
# memory bounds: the server process itself, and the server with every worker / ffmpeg / LibreOffice child
MAX_MAIN_RSS = 1536 << 20
MAX_TREE_RSS = 6 << 30
FORMATS = ["jpeg", "png", "gif", "webp", "tiff", "heic", "svg", "mp4", "webm", "mp3", "wav", "pdf", "docx", "xlsx",
           "ods", "csv", "json", "xml", "yaml", "zip"]


@pytest.fixture(scope="module")
def hostile(tmp_path_factory):
    folder = tmp_path_factory.mktemp("hostile")
    corpus.CANARY.unlink(missing_ok=True)
    return corpus.build(folder), corpus.valid_samples(folder / "_valid")


@pytest.fixture(scope="module")
def hostile_server(make_server):
    return make_server(job_timeout_fast_s=FAST_S, job_timeout_long_s=LONG_S, max_megapixels=MAX_MP,
                       sync_wait_ms=(FAST_S + 5) * 1000, concurrent_jobs=2, min_free_disk_mb=0)


def _report(fmt: str, outcomes: list[h.Outcome]) -> None:
    """One line per answer, kept next to the run (the closing note's figures come from here)."""
    folder = Path(os.environ.get("LUTRA_RELIABILITY_REPORT", "/tmp/lutra-reliability"))
    folder.mkdir(parents=True, exist_ok=True)
    with open(folder / f"hostile-{fmt}.jsonl", "a") as fh:
        for o in outcomes:
            fh.write(json.dumps({"case": o.case.id, "status": o.status, "code": o.code, "s": round(o.seconds, 2),
                                 "error": o.error[:200], "problems": o.problems}) + "\n")


def _run(srv, items, valid, fmt: str, select) -> None:
    specs = h.tools()
    chosen = [case for item in items if item.format == fmt for case in select(h.cases_for(item, specs))]
    assert chosen, f"no tool accepts {fmt}"
    deadline = LONG_S
    rss = psutil.Process(srv.proc.pid)
    before = rss.memory_info().rss
    with h.RssSampler(srv.proc.pid) as sampler, ThreadPoolExecutor(2) as pool:
        outcomes = list(pool.map(lambda case: h.run_case(srv, case, valid, deadline), chosen))
    _report(fmt, outcomes)
    failures = [f"{o.case.id}: {p}" for o in outcomes for p in h.judge(o, deadline)]
    assert httpx.get(srv.base_url + "/api/v1/health", timeout=10).status_code == 200
    assert srv.proc.poll() is None
    assert not corpus.CANARY.exists(), "a YAML python tag was executed"
    assert not Path("/tmp/lutra-zip-escape").exists() and not Path("/tmp/lutra-zip-abs").exists()
    assert sampler.peak_main < MAX_MAIN_RSS, f"server RSS peaked at {sampler.peak_main >> 20} MB"
    assert sampler.peak_tree < MAX_TREE_RSS, (f"server + children RSS peaked at {sampler.peak_tree >> 20} MB "
                                              f"while running {sampler.culprits(outcomes)}")
    growth = rss.memory_info().rss - before
    assert growth < (512 << 20), f"server RSS grew by {growth >> 20} MB"
    assert not failures, f"{len(failures)} of {len(outcomes)} answers were wrong:\n" + "\n".join(failures)


@pytest.mark.parametrize("fmt", FORMATS)
def test_hostile_files_through_a_tool_per_family(hostile_server, hostile, fmt):
    items, valid = hostile
    _run(hostile_server, items, valid, fmt, h.subset)


@pytest.mark.slow
@pytest.mark.timeout(7200)
@pytest.mark.parametrize("fmt", FORMATS)
def test_hostile_files_through_every_tool(hostile_server, hostile, fmt):
    items, valid = hostile
    _run(hostile_server, items, valid, fmt, lambda cases: cases)


def test_corpus_covers_every_format(hostile):
    """The corpus really is what it says: each format has truncated/empty/wrong-magic or its bombs."""
    items, _ = hostile
    kinds = corpus.formats(items)
    assert set(FORMATS) <= set(kinds)
    for fmt in ("jpeg", "png", "gif"):
        assert any("bomb" in what for what in kinds[fmt]), fmt
    assert "bomb" in kinds["zip"] and "cyclic-pages" in kinds["pdf"] and "billion-laughs" in kinds["xml"]
    assert {"xxe", "script", "external-refs"} <= set(kinds["svg"])
    assert all(any("absurd-duration" in w for w in kinds[f]) for f in ("mp4", "webm", "mp3", "wav"))
    assert {"huge-dimension", "merge-all", "sequential-corner"} <= set(kinds["xlsx"])
    assert {"corner", "repeated-rows", "spanned", "billion-laughs", "xxe"} <= set(kinds["ods"])
