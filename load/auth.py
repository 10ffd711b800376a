"""Per-request cost of authentication: API key vs session token vs a public route, over HTTP.

    python -m load.auth [--requests 2000]

Starts its own server on 127.0.0.1, creates an API key, then times the same authenticated route
(GET /api/auth/session) with the session token and with the key, and the public /api/v1/config/auth route
(no auth, no database) as the baseline. Keys are verified with scrypt once, then served from a short cache: the figure
that matters is the warm per-request overhead of each credential over the baseline.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

import httpx

from load.harness.server import Server


def timed(client: httpx.Client, path: str, headers: dict[str, str], count: int) -> list[float]:
    samples = []
    for _ in range(count):
        t0 = time.perf_counter()
        r = client.get(path, headers=headers)
        samples.append(time.perf_counter() - t0)
        assert r.status_code == 200, r.text
    return samples


def main(argv: list[str] | None = None) -> dict[str, float]:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--requests", type=int, default=2000)
    count = parser.parse_args(argv).requests
    srv = Server(Path(tempfile.mkdtemp(prefix="lutra-auth-")) / "data").start()
    try:
        with httpx.Client(base_url=srv.base_url, timeout=30) as client:
            session = {"Authorization": f"Bearer {srv.token}"}
            key = client.post("/api/v1/api-keys", headers=session, json={"name": "bench"}).json()["key"]
            apikey = {"Authorization": f"Bearer {key}"}
            cold = timed(client, "/api/auth/session", apikey, 1)[0]  # the one scrypt verification
            for headers in ({}, session, apikey):  # warm connections and caches
                timed(client, "/api/v1/config/auth" if not headers else "/api/auth/session", headers, 50)
            rounds = {"public": [], "session": [], "apikey": []}
            for _ in range(4):  # interleaved, so drift hits all three alike
                rounds["public"] += timed(client, "/api/v1/config/auth", {}, count // 4)
                rounds["session"] += timed(client, "/api/auth/session", session, count // 4)
                rounds["apikey"] += timed(client, "/api/auth/session", apikey, count // 4)
    finally:
        srv.stop()
    med = {name: statistics.median(values) * 1000 for name, values in rounds.items()}
    print(f"median latency over {count} requests each (ms): public {med['public']:.3f}, "
          f"session {med['session']:.3f}, API key {med['apikey']:.3f}")
    print(f"auth overhead vs public route: session {med['session'] - med['public']:+.3f} ms, "
          f"API key {med['apikey'] - med['public']:+.3f} ms; API key vs session {med['apikey'] - med['session']:+.3f} ms; "
          f"first (cold, scrypt) key request {cold * 1000:.1f} ms")
    return med


if __name__ == "__main__":
    main()
