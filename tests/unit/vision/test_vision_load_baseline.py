"""The load harness's AI baselines (load.harness.bare) and its HTTP-vs-bare report line."""

from __future__ import annotations

from PIL import Image, ImageDraw

from actors import models
from load.harness import bare
from load.harness.results import Result


def test_bare_segment_call_uses_the_tools_session_loaded_once(bundle, tmp_path):
    bundle("background-removal")
    img = Image.new("RGB", (320, 240), (240, 240, 240))
    ImageDraw.Draw(img).ellipse((100, 60, 220, 180), fill=(200, 50, 40))
    img.save(tmp_path / "subject.jpg")
    folder = str(models.models_dir())
    bare.segment_model(str(tmp_path / "subject.jpg"), folder)  # loads (or reuses) and warms
    session = models.onnx_session("background-removal", "isnet.onnx")
    loads = dict(models.LOAD_COUNTS)
    total, model, loaded = bare.segment_model(str(tmp_path / "subject.jpg"), folder)
    assert loaded == 0 and dict(models.LOAD_COUNTS) == loads
    assert models.onnx_session("background-removal", "isnet.onnx") is session
    assert total >= model > 0


def test_report_line_flags_a_reload():
    result = Result("ocr", 1, count=2, seconds=2.0, latencies=[1.0, 1.2], bare_latencies=[0.9, 1.0],
                    bare_model_s=[0.8, 0.9], bare_seconds=1.9, round_ratios=[1.1, 1.2])
    result.statuses.update([200, 200])
    result.loads = {"before": 0, "after_first": 1, "after_run": 1}
    line = result.row()
    assert "HTTP p50  1200.0 ms" in line and "bare p50  1000.0 ms" in line and "ratio p50  1.20x" in line
    assert "(no reload)" in line and "paired by round  1.20x" in line
    result.loads["after_run"] = 2
    assert "(RELOADED)" in result.row()
