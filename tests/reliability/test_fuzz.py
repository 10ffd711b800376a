"""The fuzz target over the upload sniffer and settings parsing, for a bounded time.

With atheris (deps/reliability.pip) it runs coverage-guided for FUZZ_SECONDS in a subprocess (a crash or an
exception other than ApiError makes libFuzzer exit non-zero and print the input); without it, hypothesis
drives the same target. `-m slow` fuzzes for LUTRA_FUZZ_SLOW_SECONDS (five minutes unless told)."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys

import pytest

from tests.helpers import ROOT
from tests.reliability import fuzz_sniff

FUZZ_SECONDS = int(os.environ.get("LUTRA_FUZZ_SECONDS", "20"))
FUZZ_SLOW_SECONDS = int(os.environ.get("LUTRA_FUZZ_SLOW_SECONDS", "300"))
HAS_ATHERIS = importlib.util.find_spec("atheris") is not None


def _fuzz(seconds: int, tmp_path) -> None:
    crashes = tmp_path / "crashes"
    crashes.mkdir()
    done = subprocess.run(
        [sys.executable, "-m", "tests.reliability.fuzz_sniff", f"-max_total_time={seconds}", "-rss_limit_mb=6144",  # the fuzz process imports every tool module, instrumented
         f"-artifact_prefix={crashes}/", "-print_final_stats=1"],
        cwd=ROOT, capture_output=True, text=True, timeout=seconds + 120)
    tail = (done.stdout + done.stderr)[-4000:]
    assert done.returncode == 0, f"the fuzzer found a failing input ({list(crashes.iterdir())}):\n{tail}"
    assert "Done" in tail and "stat::number_of_executed_units" in tail, tail


@pytest.mark.skipif(not HAS_ATHERIS, reason="atheris is not installed (pip install atheris; needs clang): the hypothesis test below covers the same parser meanwhile")
def test_fuzz_sniffer_and_settings(tmp_path):
    _fuzz(FUZZ_SECONDS, tmp_path)


@pytest.mark.slow
@pytest.mark.skipif(not HAS_ATHERIS, reason="atheris is not installed: pip install atheris (needs clang)")
def test_fuzz_sniffer_and_settings_long(tmp_path):
    _fuzz(FUZZ_SLOW_SECONDS, tmp_path)


def test_seeds_and_target_without_atheris():
    """The same target on its seeds and on hypothesis-made bytes (the fallback where atheris cannot build)."""
    from hypothesis import HealthCheck, given, settings
    from hypothesis import strategies as st

    fuzz_sniff.load_specs()
    for seed in fuzz_sniff.seeds():
        fuzz_sniff.one_input(seed)

    @settings(max_examples=300 if HAS_ATHERIS else 3000, deadline=None, suppress_health_check=list(HealthCheck))
    @given(st.binary(max_size=512))
    def run(data):
        fuzz_sniff.one_input(data)

    run()


def test_target_catches_a_non_api_error(monkeypatch):
    """The target is not vacuous: an exception other than ApiError escapes it."""
    import service.toolrun

    fuzz_sniff.load_specs()

    def broken(spec, raw, where="settings"):
        raise KeyError("boom")

    monkeypatch.setattr(service.toolrun, "validate_settings", broken)
    with pytest.raises(KeyError):
        fuzz_sniff.one_input(bytes([1, 0, 0, 0, 0, 0, 0, 0]) + b"{}")
