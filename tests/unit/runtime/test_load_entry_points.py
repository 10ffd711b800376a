"""Every entry point under load/ imports: load.nodes once imported a helper that had moved, and nothing
noticed until someone ran it."""

from __future__ import annotations

import importlib
from pathlib import Path

import pytest

LOAD = Path(__file__).resolve().parents[3] / "load"
ENTRY_POINTS = sorted(p.stem for p in LOAD.glob("*.py") if p.stem != "__init__")


@pytest.mark.parametrize("name", ENTRY_POINTS)
def test_entry_point_imports(name):
    module = importlib.import_module(f"load.{name}")
    assert module.__name__ == f"load.{name}"
