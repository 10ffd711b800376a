"""Request rate limiting (RATE_LIMIT_PER_MIN per user, or per IP when anonymous) and the login throttle
(failed logins per username and per IP within a minute, limit from the `loginAttemptLimit` setting).

Both are fixed windows of one minute. On one box they are counted in memory. With several nodes on one
PostgreSQL (service.cluster) the request limit is counted there, so the nodes allow RATE_LIMIT_PER_MIN in
all; the login throttle stays per node."""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable

from quart import current_app, request

from protocols.errors import ApiError, ErrorCode

log = logging.getLogger("lutra.ratelimit")

WINDOW_S = 60.0


class WindowCounter:
    """Counts events per key in one-minute windows; `retry_after` says when a full window frees up."""

    def __init__(self, clock: Callable[[], float] = time.monotonic, max_keys: int = 100_000) -> None:
        self.clock = clock
        self.max_keys = max_keys
        self._windows: dict[str, list[float]] = {}  # key -> [window start, count]

    def _window(self, key: str, now: float) -> list[float]:
        window = self._windows.get(key)
        if window is None or now - window[0] >= WINDOW_S:
            if len(self._windows) >= self.max_keys:
                self.prune(now)
            window = [now, 0]
            self._windows[key] = window
        return window

    def count(self, key: str) -> int:
        window = self._windows.get(key)
        if window is None or self.clock() - window[0] >= WINDOW_S:
            return 0
        return int(window[1])

    def hit(self, key: str) -> int:
        window = self._window(key, self.clock())
        window[1] += 1
        return int(window[1])

    def retry_after(self, key: str) -> int:
        window = self._windows.get(key)
        if window is None:
            return 1
        return max(1, math.ceil(window[0] + WINDOW_S - self.clock()))

    def reset(self, key: str) -> None:
        self._windows.pop(key, None)

    def prune(self, now: float | None = None) -> None:
        now = self.clock() if now is None else now
        for key in [k for k, (start, _) in self._windows.items() if now - start >= WINDOW_S]:
            del self._windows[key]
        if len(self._windows) >= self.max_keys:  # still full of live windows: forget the oldest half
            for key in sorted(self._windows, key=lambda k: self._windows[k][0])[: self.max_keys // 2]:
                del self._windows[key]


class LoginThrottle:
    """Failed logins per username and per IP; at `limit` failures in a window further attempts are refused
    (even with the right password) until the window ends."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self.failures = WindowCounter(clock)

    @staticmethod
    def _keys(username: str | None, ip: str | None) -> list[str]:
        keys = []
        if username:
            keys.append("u:" + username.lower())
        if ip:
            keys.append("ip:" + ip)
        return keys

    def check(self, username: str | None, ip: str | None, limit: int) -> None:
        if limit <= 0:
            return
        for key in self._keys(username, ip):
            if self.failures.count(key) >= limit:
                raise ApiError(ErrorCode.LOGIN_THROTTLED, "Too many failed login attempts; try again later.",
                               headers={"Retry-After": str(self.failures.retry_after(key))})

    def failed(self, username: str | None, ip: str | None) -> None:
        for key in self._keys(username, ip):
            self.failures.hit(key)

    def succeeded(self, username: str) -> None:
        # the IP's count stays: one good account must not reset an attacker's budget
        self.failures.reset("u:" + username.lower())


EXEMPT_PATHS = frozenset({"/api/v1/health"})


async def limit_request() -> None:
    """`before_app_request` hook: 429 RATE_LIMITED past RATE_LIMIT_PER_MIN requests a minute."""
    services = current_app.lutra
    if services is None:
        return
    per_min = services.config.rate_limit_per_min
    # the web app's static files (fingerprinted, cached by the browser) are not requests to the API
    if per_min <= 0 or request.path in EXEMPT_PATHS or request.path.startswith("/assets/"):
        return
    key = await _caller_key(services)
    if services.cluster is not None:
        count, retry_after = await _shared_hit(services.cluster, key)
    else:
        counter: WindowCounter | None = current_app.extensions.get("lutra.ratelimit")
        if counter is None:
            counter = current_app.extensions["lutra.ratelimit"] = WindowCounter()
        count, retry_after = counter.hit(key), counter.retry_after(key)
    if count > per_min:
        raise ApiError(ErrorCode.RATE_LIMITED, "Too many requests; slow down.",
                       headers={"Retry-After": str(retry_after)})


async def _shared_hit(cluster, key: str) -> tuple[int, int]:
    """The caller's count in the window every node shares. Should the database not answer, the request is
    let through (it fails on its own if it needs the database; a limit is no reason to refuse it)."""
    from actors.store.repos import rate_windows as rates

    try:
        count, left_s = await cluster.db(rates.hit, key)
    except Exception:
        log.warning("rate limit: the shared count could not be read; letting the request through", exc_info=True)
        return 0, 1
    return count, max(1, math.ceil(left_s))


async def _caller_key(services) -> str:
    from service.auth import bearer_token, cookie_token

    token = bearer_token() or cookie_token()
    if token and services.config.auth_enabled:
        principal = await services.auth.resolve(token)  # cached: the route's own lookup is then free
        if principal is not None and principal.user_id is not None:
            return "u:" + principal.user_id
    return "ip:" + (request.remote_addr or "unknown")
