"""Loaded models stay within MODEL_MEMORY_MB: past it, the least recently used are unloaded, and a
later job loads them again; onnxruntime sessions keep no memory arena between inferences."""

from __future__ import annotations

import weakref

import pytest

from actors.models import sessions as _models

MB = 1 << 20
_live: dict[int, int] = {}  # the stand-ins' buffers alive now: id -> bytes


class Buffer(bytearray):
    """A stand-in's memory, counted while it lives (a bytearray cannot be weakly referenced)."""

    def __init__(self, size: int) -> None:
        super().__init__(b"\x01" * size)
        _live[id(self)] = size
        weakref.finalize(self, _live.pop, id(self), None)


@pytest.fixture
def counted(monkeypatch):
    """The process's resident memory as the stand-ins' buffers alone: the budget's bookkeeping is tested
    without the other threads of a busy test process moving RSS meanwhile (test_unloading_gives_the_
    memory_back reads the real RSS)."""
    monkeypatch.setattr(_models, "_resident_bytes", lambda: 64 * MB + sum(_live.values()))


@pytest.fixture
def clean_cache():
    saved = dict(_models._sessions), _models._budget
    _models._sessions.clear()
    yield
    _models._sessions.clear()
    _models._sessions.update(saved[0])
    _models._budget = saved[1]


def model(megabytes: int):
    """A stand-in for a model: a buffer of that size, every page touched (resident)."""
    def load():
        return Buffer(megabytes * MB)
    return load


def resident() -> set[str]:
    return {m["model"] for m in _models.loaded()}


def test_least_recently_used_models_are_unloaded_past_the_budget(clean_cache, counted):
    _models.set_memory_budget(100)
    _models.cached("t/a", "t", model(40))
    _models.cached("t/b", "t", model(40))
    assert resident() == {"t/a", "t/b"}
    assert all(m["memoryMb"] >= 40 for m in _models.loaded())
    _models.cached("t/a", "t", model(40))  # a is used again: b is now the least recently used
    loads_a = _models.LOAD_COUNTS["t/a"]
    _models.cached("t/c", "t", model(40))
    assert resident() == {"t/a", "t/c"}
    assert _models.LOAD_COUNTS["t/a"] == loads_a  # a was not reloaded
    info = _models.memory_info()
    assert info["budgetMb"] == 100 and 80 <= info["residentModelsMb"] <= 100
    assert _models.runtime_info()["modelMemory"]["unloads"] >= 1
    # b is loaded again when a job needs it (and the least recently used, a, makes room)
    loads_b = _models.LOAD_COUNTS["t/b"]
    _models.cached("t/b", "t", model(40))
    assert _models.LOAD_COUNTS["t/b"] == loads_b + 1
    assert resident() == {"t/c", "t/b"}


def test_a_model_over_the_budget_by_itself_serves_its_job_then_unloads(clean_cache, counted):
    _models.set_memory_budget(30)
    _models.cached("t/small", "t", model(10))
    with _models.job_memory():
        _models.cached("t/big", "t", model(50))
        assert resident() == {"t/big"}  # loaded for this job, the small one made room
    assert resident() == set()


class Engine:
    """A model whose engine keeps a buffer pool sized by the largest input it has seen (as ncnn does)."""

    def __init__(self) -> None:
        self.pool = Buffer(0)

    def infer(self, megabytes: int) -> None:
        if len(self.pool) < megabytes * MB:
            self.pool = Buffer(megabytes * MB)


def test_what_a_model_keeps_after_its_job_counts_against_the_budget(clean_cache, counted):
    _models.set_memory_budget(200)
    _models.cached("t/other", "t", model(40))
    for pool_mb in (30, 120):
        with _models.job_memory():
            engine = _models.cached("t/engine", "t", Engine)
            engine.infer(pool_mb)
        sizes = {m["model"]: m["memoryMb"] for m in _models.loaded()}
        assert sizes["t/engine"] >= pool_mb
    # engine (>= 120 MB with its pool) and other (40 MB) still fit in 200 MB
    assert resident() == {"t/engine", "t/other"}
    with _models.job_memory():
        _models.cached("t/engine", "t", Engine).infer(180)
    assert resident() == {"t/engine"}  # its pool grew: the least recently used model made room


def test_a_model_too_big_for_the_budget_leaves_the_others_loaded(clean_cache, counted):
    _models.set_memory_budget(150)
    _models.cached("t/a", "t", model(30))
    _models.cached("t/b", "t", model(30))
    with _models.job_memory():
        _models.cached("t/huge", "t", Engine).infer(200)
    assert resident() == {"t/a", "t/b"}


def test_unloading_gives_the_memory_back(clean_cache):
    _models.set_memory_budget(0)  # no limit
    _models.cached("t/a", "t", model(96))
    _models.cached("t/b", "t", model(96))
    before = _models._resident_bytes()
    _models.set_memory_budget(100)  # a lower budget applies at once
    assert resident() == {"t/b"}
    assert before - _models._resident_bytes() >= 64 * MB


def test_the_setting_reaches_the_model_actors(clean_cache, tmp_path):
    from actors.speech.actor import create as speech
    from actors.vision.actor import create as vision
    from service.config import Config

    assert Config.from_env({}).model_memory_mb == 1024
    vision(2, 8, {"data_dir": str(tmp_path), "model_memory_mb": 512})
    assert _models.memory_info()["budgetMb"] == 512
    speech(2, 8, {"data_dir": str(tmp_path), "model_memory_mb": 0})
    assert _models.memory_info()["budgetMb"] is None


def test_onnx_sessions_have_no_cpu_memory_arena(clean_cache, tmp_path):
    import onnx
    from onnx import TensorProto, helper

    graph = helper.make_graph([helper.make_node("Add", ["x", "x"], ["y"])], "double",
                              [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 4])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 4])])
    path = tmp_path / "double.onnx"
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)]), str(path))
    session = _models.onnx_session("t", "double.onnx", path=path)
    assert session.get_session_options().enable_cpu_mem_arena is False
    import numpy as np

    assert session.run(None, {"x": np.ones((1, 4), np.float32)})[0].tolist() == [[2, 2, 2, 2]]
    assert [m["memoryMb"] for m in _models.loaded()] == [pytest.approx(path.stat().st_size / MB, abs=20)]
