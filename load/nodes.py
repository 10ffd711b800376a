"""What running through PostgreSQL costs: the same scenario (resize-small by default, where per-job overhead
shows most) against a server on SQLite and a server on PostgreSQL (the job queue, its claims, leases and
NOTIFYs), in alternating rounds so that a drifting shared machine hurts both alike.

Reported per backend: requests/s, latency p50/p99, and CPU per job of the server's main process (HTTP,
bookkeeping, coordination; the tool itself runs in worker processes) plus, for PostgreSQL, of the database
server's processes when it runs on this machine (`--postgres-data`).

    python -m load.nodes --database-url postgresql://lutra@127.0.0.1:5432/bench --postgres-data /path/to/pgdata
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import trio

from load.bench import SCENARIOS, run_level
from load.harness.inputs import image_inputs

TICKS = os.sysconf("SC_CLK_TCK")


def cpu_s(pid: int) -> float:
    """User + system CPU seconds of one process (not its children)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS


def postgres_pids(data_dir: Path | None) -> list[int]:
    """The postmaster of `data_dir` and every process it started (backends, writers)."""
    if data_dir is None:
        return []
    try:
        postmaster = int((data_dir / "postmaster.pid").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return []
    pids = [postmaster]
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1]) == postmaster:
                    pids.append(int(entry.name))
            except (OSError, ValueError, IndexError):
                continue
    return pids


def total_cpu(pids: list[int]) -> dict[int, float]:
    out = {}
    for pid in pids:
        try:
            out[pid] = cpu_s(pid)
        except OSError:
            continue
    return out


def start(data_dir: Path, database_url: str | None):
    from load.harness.server import Server

    env = {"LOG_LEVEL": "warning", "RATE_LIMIT_PER_MIN": "0", "DATABASE_URL": database_url or ""}
    return Server(data_dir, env).start()


async def measure(args: argparse.Namespace) -> dict[str, dict[str, float]]:
    folder = Path(tempfile.mkdtemp(prefix="lutra-nodes-"))
    inputs = image_inputs(folder)
    sc = SCENARIOS[args.scenario]
    sc.requests = args.requests
    paths = [inputs[n] for n in sc.inputs]
    pg_data = Path(args.postgres_data) if args.postgres_data else None
    servers = {"sqlite": start(folder / "sqlite", None), "postgres": start(folder / "postgres", args.database_url)}
    totals = {name: {"latencies": [], "count": 0, "seconds": 0.0, "cpu": 0.0, "db_cpu": 0.0} for name in servers}
    try:
        for round_no in range(args.rounds):
            order = list(servers) if round_no % 2 == 0 else list(reversed(servers))
            for name in order:
                srv = servers[name]
                pids = postgres_pids(pg_data) if name == "postgres" else []
                before, db_before = cpu_s(srv.proc.pid), total_cpu(pids)
                res = await run_level(srv.base_url, srv.token, sc, paths, args.concurrency, args.limit_s,
                                      srv.proc.pid, None, 1)
                after, db_after = cpu_s(srv.proc.pid), total_cpu(pids)
                t = totals[name]
                t["latencies"] += res.latencies
                t["count"] += res.count
                t["seconds"] += res.seconds
                t["cpu"] += after - before
                t["db_cpu"] += sum(db_after[p] - db_before.get(p, 0.0) for p in db_after)
                print(f"round {round_no + 1} {name:<8} {res.count} requests, {res.per_s:.1f}/s, "
                      f"p50 {res.pct(0.5):.1f} ms", flush=True)
    finally:
        for srv in servers.values():
            srv.stop()
    report = {}
    for name, t in totals.items():
        lat = sorted(1000 * x for x in t["latencies"])  # seconds -> ms
        report[name] = {
            "requests": t["count"], "perS": t["count"] / t["seconds"] if t["seconds"] else 0.0,
            "p50Ms": statistics.median(lat) if lat else 0.0,
            "p99Ms": lat[min(len(lat) - 1, int(0.99 * len(lat)))] if lat else 0.0,
            "serverCpuMsPerJob": 1000 * t["cpu"] / max(1, t["count"]),
            "databaseCpuMsPerJob": 1000 * t["db_cpu"] / max(1, t["count"]),
        }
    s, p = report["sqlite"], report["postgres"]
    print(f"\n{sc.name} at concurrency {args.concurrency}, {args.rounds} alternating rounds")
    for name, r in report.items():
        print(f"{name:<9} {r['perS']:6.1f}/s  p50 {r['p50Ms']:6.2f} ms  p99 {r['p99Ms']:6.2f} ms  "
              f"server CPU {r['serverCpuMsPerJob']:.2f} ms/job  database CPU {r['databaseCpuMsPerJob']:.2f} ms/job")
    print(f"PostgreSQL adds: p50 {p['p50Ms'] - s['p50Ms']:+.2f} ms, p99 {p['p99Ms'] - s['p99Ms']:+.2f} ms, "
          f"CPU {p['serverCpuMsPerJob'] + p['databaseCpuMsPerJob'] - s['serverCpuMsPerJob']:+.2f} ms per job "
          "(server + database vs server)")
    return report


def main(argv: list[str] | None = None) -> dict[str, dict[str, float]]:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--database-url", required=True, help="postgresql://... (an empty database)")
    p.add_argument("--postgres-data", help="the PostgreSQL data folder, to count its processes' CPU")
    p.add_argument("--scenario", default="resize-small", choices=sorted(SCENARIOS))
    p.add_argument("--concurrency", type=int, default=1)
    p.add_argument("--requests", type=int, default=200, help="per round and backend")
    p.add_argument("--rounds", type=int, default=4)
    p.add_argument("--limit-s", type=float, default=120)
    args = p.parse_args(argv)
    if not args.database_url.startswith(("postgresql://", "postgres://")):
        raise SystemExit("--database-url must be postgresql://...")
    started = time.time()
    report = trio.run(measure, args)
    print(f"({time.time() - started:.0f} s)", file=sys.stderr)
    return report


if __name__ == "__main__":
    main()
