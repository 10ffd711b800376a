"""Reports of `load.soak`: the text table, the verdict and the PNG chart.

A request record is `(name, t_end, latency_s, status)`: `t_end` is a wall-clock time (time.time()),
`status` the HTTP status the user saw (a 202 job counts as 200 when it completed, 422 when it failed).
A sample is one dict a second from `load.soak.Sampler`.
"""

from __future__ import annotations

import statistics
from collections import Counter

from load.harness.results import Result

Record = tuple[str, float, float, int]

RSS_GROWTH_LIMIT = 0.10  # soak: RSS growth after warm-up
FD_SLACK = 4  # descriptors "back to baseline": at most this many above it (the sampler's own connection etc.)
FDS_PER_WORKER_IN_MAIN = 3  # what the server holds per tool worker process: two pipes, the process sentinel
SCRATCH_SLACK_BYTES = 64 * 1024


def summarize(label: str, concurrency: int, seconds: float, records: list[Record]) -> dict:
    """One phase (a sweep level, the soak, a fairness phase): the whole and each tool."""
    results: dict[str, Result] = {"ALL": Result(label, concurrency, seconds=seconds)}
    for name, _t, latency, status in records:
        for key in ("ALL", name):
            res = results.setdefault(key, Result(label, concurrency, seconds=seconds))
            res.count += 1
            res.latencies.append(latency)
            res.statuses[status] += 1
    return {
        "label": label, "clients": concurrency, "seconds": round(seconds, 3),
        "tools": {name: _row(res) for name, res in sorted(results.items(), key=lambda kv: (kv[0] != "ALL", kv[0]))},
    }


def _row(res: Result) -> dict:
    return {"requests": res.count, "perS": round(res.per_s, 3), "p50Ms": round(res.pct(.5), 1),
            "p95Ms": round(res.pct(.95), 1), "p99Ms": round(res.pct(.99), 1), "errors": res.errors,
            "errorsByStatus": {str(k): v for k, v in sorted(res.statuses.items()) if k != 200}}


def percentile_ms(latencies: list[float], q: float) -> float:
    res = Result("", 0, latencies=list(latencies))
    return res.pct(q)


def table(phases: list[dict]) -> str:
    head = f"{'phase':<10} {'clients':>7} {'tool':<18} {'req':>6} {'req/s':>7} {'p50 ms':>8} {'p95 ms':>8} " \
           f"{'p99 ms':>8}  errors by status"
    lines = [head, "-" * len(head)]
    for phase in phases:
        for name, row in phase["tools"].items():
            errors = ", ".join(f"{k}: {v}" for k, v in row["errorsByStatus"].items()) or "-"
            lines.append(f"{phase['label']:<10} {phase['clients']:>7} {name:<18} {row['requests']:>6} "
                         f"{row['perS']:>7.2f} {row['p50Ms']:>8.1f} {row['p95Ms']:>8.1f} {row['p99Ms']:>8.1f}  {errors}")
        lines.append("")
    return "\n".join(lines)


# ---- verdict ----------------------------------------------------------------------------------------------
def rss_growth(samples: list[dict], phase: str = "soak") -> dict | None:
    """Median total RSS of the soak's first minute against its last minute (a quarter each when the soak is
    shorter than four minutes). The sweep before it is the warm-up."""
    points = [(s["t"], s["rssTotalMb"]) for s in samples if s.get("phase") == phase and s.get("rssTotalMb")]
    if len(points) < 4:
        return None
    t0, t1 = points[0][0], points[-1][0]
    window = min(60.0, (t1 - t0) / 4)
    first = statistics.median(v for t, v in points if t <= t0 + window)
    last = statistics.median(v for t, v in points if t >= t1 - window)
    return {"firstMb": round(first, 1), "lastMb": round(last, 1), "growth": round((last - first) / first, 4)}


def back_to_baseline(baseline: dict, after: dict) -> dict:
    """Descriptors (main process and with its children) and workspace scratch bytes after the load, against
    the baseline taken after warm-up. Retained job outputs (`out/`, kept until FILE_MAX_AGE_HOURS) are
    kept by design and reported apart, not compared; uploads (`in/`) count as scratch: a finished job's
    are removed."""
    checks = {}
    # The pool of tool worker processes may have grown since the baseline (concurrent jobs of several
    # families each need a process; idle ones are kept a while): that is not a leak. Each new worker is
    # allowed its own descriptors (as many as a worker had at the baseline) and those the server holds
    # for it (its two pipes and its process sentinel).
    grown = max(0, after.get("workers", 0) - baseline.get("workers", 0))
    per_worker = baseline.get("fdsWorkers", 0) / baseline["workers"] if baseline.get("workers") else 0
    allowed = {"fdsMain": grown * FDS_PER_WORKER_IN_MAIN,
               "fdsTotal": grown * (FDS_PER_WORKER_IN_MAIN + per_worker)}
    for key in ("fdsMain", "fdsTotal"):
        checks[key] = {"baseline": baseline[key], "after": after[key], "poolGrowth": grown,
                       "ok": after[key] <= baseline[key] + FD_SLACK + allowed[key]}
    checks["scratchBytes"] = {"baseline": baseline["scratchBytes"], "after": after["scratchBytes"],
                              "ok": after["scratchBytes"] <= baseline["scratchBytes"] + SCRATCH_SLACK_BYTES}
    checks["retainedBytes"] = {"baseline": baseline["retainedBytes"], "after": after["retainedBytes"],
                               "ok": True, "note": "job outputs kept until FILE_MAX_AGE_HOURS"}
    return checks


def verdict(phases: list[dict], baselines: dict[str, dict], samples: list[dict], fairness: dict | None = None) -> dict:
    errors = Counter()
    for phase in phases:
        for status, n in phase["tools"]["ALL"]["errorsByStatus"].items():
            errors[status] += n
    checks: dict[str, dict] = {"errors": {"value": sum(errors.values()), "byStatus": dict(errors),
                                          "ok": not errors}}
    growth = rss_growth(samples)
    if growth is not None:
        checks["rssGrowth"] = {**growth, "limit": RSS_GROWTH_LIMIT, "ok": growth["growth"] < RSS_GROWTH_LIMIT}
    for name, result in baselines.items():
        checks[name] = {"ok": all(c["ok"] for c in result.values()), **result}
    if fairness:
        checks["fairness"] = {"ratio": round(fairness["ratio"], 2), "target": fairness["target"],
                              "imagesDoneBeforeFirstVideo": fairness["imagesDoneBeforeFirstVideo"],
                              "burstRequests": fairness["burstRequests"],
                              "ok": fairness["ratio"] <= fairness["target"]
                              and fairness["imagesDoneBeforeFirstVideo"] == fairness["burstRequests"]}
    return {"pass": all(c["ok"] for c in checks.values()), "checks": checks}


def verdict_text(v: dict) -> str:
    lines = [f"VERDICT: {'PASS' if v['pass'] else 'FAIL'}"]
    for name, check in v["checks"].items():
        mark = "ok  " if check["ok"] else "FAIL"
        detail = {k: val for k, val in check.items() if k != "ok"}
        lines.append(f"  [{mark}] {name}: {detail}")
    return "\n".join(lines)


def fairness_text(f: dict) -> str:
    return (f"FAIRNESS: image p95 idle {f['idleP95Ms']:.1f} ms, during {f['videoJobs']} {f['videoTool']} jobs "
            f"{f['burstP95Ms']:.1f} ms: ratio {f['ratio']:.2f} (target <= {f['target']:.0f}x); "
            f"{f['imagesDoneBeforeFirstVideo']}/{f['burstRequests']} image requests finished before the first video "
            f"job did (not queued behind them); video jobs took {f['videoSecondsMin']:.1f}-{f['videoSecondsMax']:.1f} s")


# ---- chart -----------------------------------------------------------------------------------------------
def chart(path, phases: list[dict], samples: list[dict], fairness: dict | None = None) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(3, 2, figsize=(14, 13))
    sweep = [p for p in phases if p["label"].startswith("sweep")]
    ax = axes[0][0]
    if sweep:
        clients = [p["clients"] for p in sweep]
        ax.plot(clients, [p["tools"]["ALL"]["perS"] for p in sweep], "o-")
        ax.set_xscale("log", base=2)
        ax.set_xticks(clients, [str(c) for c in clients])
    else:
        ax.text(0.5, 0.5, "no sweep in this run", ha="center", va="center", transform=ax.transAxes)
    ax.set(title="Throughput per sweep level", xlabel="clients", ylabel="requests/s")

    ax = axes[0][1]
    for q in ("p50Ms", "p95Ms", "p99Ms"):
        ax.plot(range(len(phases)), [p["tools"]["ALL"][q] for p in phases], "o-", label=q[:3])
    ax.set_xticks(range(len(phases)), [f"{p['label']}\nc={p['clients']}" for p in phases], fontsize=7)
    ax.set(title="Latency percentiles (all tools)", ylabel="ms")
    ax.legend()

    t = [s["t"] for s in samples]
    ax = axes[1][0]
    actors = sorted({a for s in samples for a, q in s.get("queues", {}).items() if q["queued"] or q["running"]})
    for actor in actors:
        ax.plot(t, [s.get("queues", {}).get(actor, {}).get("queued", 0) for s in samples], label=f"{actor} queued")
        ax.plot(t, [s.get("queues", {}).get(actor, {}).get("running", 0) for s in samples], ":",
                label=f"{actor} running")
    ax.set(title="Queue depth per actor", xlabel="s", ylabel="jobs")
    if actors:
        ax.legend(fontsize=6, ncol=2)

    ax = axes[1][1]
    ax.plot(t, [s.get("rssMainMb", 0) for s in samples], label="RSS main")
    ax.plot(t, [s.get("rssTotalMb", 0) for s in samples], label="RSS with children")
    ax.plot(t, [s.get("rssChildrenMb", {}).get("workers", 0) for s in samples], ":", label="RSS tool workers")
    ax.set(title="Server RSS and open descriptors", xlabel="s", ylabel="MB")
    ax2 = ax.twinx()
    ax2.plot(t, [s.get("fdsTotal", 0) for s in samples], "r--", label="fds with children")
    ax2.plot(t, [s.get("fdsMain", 0) for s in samples], "m:", label="fds main")
    ax2.set_ylabel("descriptors")
    ax.legend(loc="upper left", fontsize=7)
    ax2.legend(loc="upper right", fontsize=7)

    ax = axes[2][0]
    for key, label in (("scratchBytes", "workspace scratch"), ("retainedBytes", "retained job outputs"),
                       ("dataDirBytes", "DATA_DIR total")):
        ax.plot(t, [s.get(key, 0) / 1e6 for s in samples], label=label)
    ax.set(title="Disk use", xlabel="s", ylabel="MB")
    ax.legend(fontsize=7)

    ax = axes[2][1]
    if fairness:
        ax.bar(["idle p95", "burst p95"], [fairness["idleP95Ms"], fairness["burstP95Ms"]])
        ax.set(title=f"Fairness: image p95 (ratio {fairness['ratio']:.2f})", ylabel="ms")
    else:
        _phase_spans(ax, samples)
        ax.set(title="Phases over time", xlabel="s")
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)


def _phase_spans(ax, samples: list[dict]) -> None:
    """Without a fairness run, the last panel shows which phase ran when (a bar per stretch of samples)."""
    spans: list[tuple[str, float, float]] = []
    for s in samples:
        phase = s.get("phase", "?")
        if spans and spans[-1][0] == phase:
            spans[-1] = (phase, spans[-1][1], s["t"])
        else:
            spans.append((phase, s["t"], s["t"]))
    for i, (phase, start, end) in enumerate(spans):
        ax.barh(i, max(end - start, 1.0), left=start)
        ax.text(start, i, f" {phase}", va="center", fontsize=7)
    ax.set_yticks([])
