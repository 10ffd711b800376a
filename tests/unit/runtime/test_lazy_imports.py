"""The server process builds the tool catalog without loading OpenCV, NumPy or PyMuPDF; a tool that uses
them loads them at its first touch."""

from __future__ import annotations

import subprocess
import sys
import threading

from actors._lazy import LazyModule
from tests.helpers import ROOT

HEAVY = ("cv2", "numpy", "pymupdf")


def test_the_catalog_loads_without_the_heavy_libraries():
    code = ("import sys\nfrom actors import catalog\ncatalog.load()\n"
            f"print(sorted(m for m in {HEAVY!r} if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]", out.stderr[-2000:]


def test_first_attribute_read_imports_the_module_once_from_any_thread():
    lazy = LazyModule("colorsys")  # a stdlib module nothing else here imports
    sys.modules.pop("colorsys", None)
    assert "colorsys" not in sys.modules
    results = []
    threads = [threading.Thread(target=lambda: results.append(lazy.rgb_to_hsv(1.0, 0.0, 0.0))) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results == [(0.0, 1.0, 1.0)] * 8
    import colorsys

    assert lazy.hsv_to_rgb is colorsys.hsv_to_rgb  # the real module's namespace, taken on


def test_version_and_other_module_attributes_come_from_the_real_module():
    import numpy

    from actors._lazy import np

    assert np.__version__ == numpy.__version__ and np.float32 is numpy.float32
