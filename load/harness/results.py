"""What one scenario at one concurrency measured, and its report line."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field


@dataclass
class Result:
    scenario: str
    concurrency: int
    count: int = 0
    seconds: float = 0.0
    latencies: list[float] = field(default_factory=list)
    statuses: Counter = field(default_factory=Counter)
    bare_per_s: float = 0.0
    rss_main_mb: float = 0.0
    rss_total_mb: float = 0.0
    # AI scenarios: per-call bare latencies (whole call, model only) and the server's model loads
    bare_latencies: list[float] = field(default_factory=list)
    bare_model_s: list[float] = field(default_factory=list)
    bare_seconds: float = 0.0
    # per round, HTTP ÷ bare of the adjacent rounds: throughput for the resize scenarios, mean latency for AI
    round_ratios: list[float] = field(default_factory=list)
    loads: dict[str, int] = field(default_factory=dict)  # before / after the first request / after the run

    @property
    def per_s(self) -> float:
        return self.count / self.seconds if self.seconds else 0.0

    def pct(self, q: float) -> float:
        if not self.latencies:
            return 0.0
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000

    @property
    def errors(self) -> int:
        return sum(v for k, v in self.statuses.items() if k != 200)

    def bare_pct(self, q: float, values: list[float] | None = None) -> float:
        ordered = sorted(self.bare_latencies if values is None else values)
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000 if ordered else 0.0

    def paired_ratio(self) -> float:
        """Median over rounds of HTTP ÷ bare latency in adjacent rounds: drift in the machine's load
        (others' work on a shared box) falls on both sides of each pair."""
        ordered = sorted(self.round_ratios)
        return ordered[len(ordered) // 2] if ordered else float("nan")

    def row_ai(self) -> str:
        """HTTP vs the bare model call: p50 latencies, their ratio, and the server's model loads."""
        http, bare50 = self.pct(.5), self.bare_pct(.5)
        ratio = http / bare50 if bare50 else float("nan")
        bare_rate = len(self.bare_latencies) / self.bare_seconds if self.bare_seconds else 0.0
        loads = self.loads
        reloaded = loads.get("after_run", 0) - loads.get("after_first", 0)
        return (f"{self.scenario:<17} c={self.concurrency:<2} HTTP p50 {http:7.1f} ms (p95 {self.pct(.95):7.1f}, "
                f"{self.per_s:5.2f} req/s, n={self.count}, errors {self.errors})  bare p50 {bare50:7.1f} ms "
                f"(model {self.bare_pct(.5, self.bare_model_s):7.1f} ms, {bare_rate:5.2f}/s, "
                f"n={len(self.bare_latencies)})  ratio p50 {ratio:5.2f}x (paired by round {self.paired_ratio():5.2f}x)  "
                f"server model loads: {loads.get('before', 0)} before, {loads.get('after_first', 0)} after the "
                f"first request, {loads.get('after_run', 0)} after {self.count} more"
                f"{' (RELOADED)' if reloaded else ' (no reload)'}  RSS main {self.rss_main_mb:5.0f} MB")

    def round_range(self) -> str:
        if len(self.round_ratios) < 2:
            return ""
        return f" (rounds {min(self.round_ratios):4.2f}-{max(self.round_ratios):4.2f})"

    def row(self) -> str:
        if self.bare_latencies:
            return self.row_ai()
        ratio = self.per_s / self.bare_per_s if self.bare_per_s else float("nan")
        return (f"{self.scenario:<14} c={self.concurrency:<2} {self.per_s:7.2f} req/s  p50 {self.pct(.5):7.1f} ms  "
                f"p95 {self.pct(.95):7.1f}  p99 {self.pct(.99):7.1f}  errors {self.errors:<3} "
                f"bare {self.bare_per_s:7.2f}/s  ratio {ratio:5.2f}{self.round_range()}  "
                f"RSS main {self.rss_main_mb:5.0f} MB, with workers {self.rss_total_mb:5.0f} MB")
