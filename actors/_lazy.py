"""Heavy libraries bound at import, loaded at first use.

The server process imports every tool module to build the catalog (settings models, routes, OpenAPI),
but runs few of them itself. `from actors._lazy import cv2, np` lets a tool module name OpenCV and NumPy
at its top as usual, while the libraries load only when a tool first touches them: the catalog alone
pulled in OpenCV with NumPy (53 MB resident) and PyMuPDF (42 MB) in a server that only resized images.
"""

from __future__ import annotations

import importlib
import threading
import types
from typing import Any


class LazyModule(types.ModuleType):
    """Stands for a module until an attribute is first read, then imports it (once, thread-safe) and takes
    on its namespace, so later reads are plain attribute lookups."""

    def __init__(self, name: str) -> None:
        super().__init__(name)
        self.__dict__["_lazy_lock"] = threading.Lock()

    def __getattr__(self, attr: str) -> Any:  # only for attributes not (yet) in the namespace
        with self.__dict__["_lazy_lock"]:
            module = importlib.import_module(self.__name__)
            self.__dict__.update(module.__dict__)
        return getattr(module, attr)


cv2: Any = LazyModule("cv2")
np: Any = LazyModule("numpy")
pymupdf: Any = LazyModule("pymupdf")
