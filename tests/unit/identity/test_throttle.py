"""Login throttle and request-rate windows, on an injected clock."""

from __future__ import annotations

import pytest

from protocols.errors import ApiError
from service.ratelimit import LoginThrottle, WindowCounter


class Clock:
    now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_eleventh_failure_is_throttled_even_with_right_password():
    clock = Clock()
    throttle = LoginThrottle(clock=clock)
    for _ in range(10):
        throttle.check("alice", "10.0.0.1", 10)
        throttle.failed("alice", "10.0.0.1")
    with pytest.raises(ApiError) as err:
        throttle.check("alice", "10.0.0.1", 10)
    assert err.value.code.value == "LOGIN_THROTTLED" and err.value.status == 429
    assert 1 <= int(err.value.headers["Retry-After"]) <= 60
    # per username: another IP is still refused for alice
    with pytest.raises(ApiError):
        throttle.check("ALICE", "10.0.0.2", 10)
    # per IP: another username from the same IP is refused too
    with pytest.raises(ApiError):
        throttle.check("bob", "10.0.0.1", 10)
    throttle.check("bob", "10.0.0.2", 10)
    clock.now += 61
    throttle.check("alice", "10.0.0.1", 10)


def test_success_resets_the_username_but_not_the_ip():
    clock = Clock()
    throttle = LoginThrottle(clock=clock)
    for _ in range(3):
        throttle.failed("alice", "10.0.0.1")
    throttle.succeeded("alice")
    throttle.check("alice", "10.0.0.9", 3)
    with pytest.raises(ApiError):
        throttle.check("carol", "10.0.0.1", 3)
    throttle.check("carol", "10.0.0.1", 0)  # 0 = off


def test_window_counter_retry_after_and_prune():
    clock = Clock()
    counter = WindowCounter(clock=clock, max_keys=4)
    assert [counter.hit("a") for _ in range(3)] == [1, 2, 3]
    clock.now += 20
    assert counter.retry_after("a") == 40
    clock.now += 41
    assert counter.count("a") == 0 and counter.hit("a") == 1
    for name in "bcdefg":
        counter.hit(name)
    assert len(counter._windows) <= 4
