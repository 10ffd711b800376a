"""Imports every tool module so that the registry is complete (in the server and in each worker)."""

from __future__ import annotations

import importlib
import pkgutil

from protocols.tools import REGISTRY, ToolSpec

# packages whose tool modules are imported here: every non-underscore module but actor.py (a few of them, such as
# media's ffprobe, are helpers that the family's tools and outside callers share; they declare no tool)
TOOL_PACKAGES = ("actors.image", "actors.media", "actors.documents", "actors.data", "actors.vision", "actors.speech")
_loaded = False


def load() -> dict[str, ToolSpec]:
    global _loaded
    if not _loaded:
        for package_name in TOOL_PACKAGES:
            try:
                package = importlib.import_module(package_name)
            except ModuleNotFoundError as err:
                if err.name == package_name:
                    continue  # that family is not built yet
                raise
            for info in pkgutil.walk_packages(package.__path__, package_name + "."):
                leaf = info.name.rsplit(".", 1)[-1]
                if leaf.startswith("_") or leaf == "actor" or info.ispkg:
                    continue
                importlib.import_module(info.name)
        _loaded = True
    return REGISTRY
