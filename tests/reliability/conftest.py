"""Reliability suite: the long versions (`@pytest.mark.slow`) run only when asked for with `-m slow`
(`make reliability`); a plain `pytest` / `make test` runs the short versions and leaves the long ones
out of the run (deselected, not skipped)."""

from __future__ import annotations


def pytest_collection_modifyitems(config, items):
    if "slow" in (config.getoption("markexpr") or ""):
        return
    keep = [item for item in items if not item.get_closest_marker("slow")]
    if len(keep) != len(items):
        config.hook.pytest_deselected(items=[item for item in items if item.get_closest_marker("slow")])
        items[:] = keep
