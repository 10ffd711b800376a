"""Reliability suite: the long versions (`@pytest.mark.slow`) run only when asked for with `-m slow`
(`make reliability`); a plain `pytest` / `make test` runs the short versions."""

from __future__ import annotations

import pytest


def pytest_collection_modifyitems(config, items):
    if "slow" in (config.getoption("markexpr") or ""):
        return
    skip = pytest.mark.skip(reason="long version: run with -m slow (make reliability)")
    for item in items:
        if item.get_closest_marker("slow"):
            item.add_marker(skip)
