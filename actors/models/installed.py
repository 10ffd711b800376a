"""Where installed bundles live, which are installed, and what a tool is missing."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from actors.models.catalogue import BUNDLES, human_size
from protocols.errors import ErrorCode, ToolError
from protocols.tools import REGISTRY

# ---- where models live -------------------------------------------------------------------------
_models_dir: Path | None = None


def configure(models_dir: Path | str) -> Path:
    global _models_dir
    _models_dir = Path(models_dir)
    _models_dir.mkdir(parents=True, exist_ok=True)
    return _models_dir


def models_dir() -> Path:
    if _models_dir is None:
        raise ToolError("The model folder is not configured.", ErrorCode.INTERNAL_ERROR, 500)
    return _models_dir


def bundle_dir(bundle_id: str, root: Path | None = None) -> Path:
    return (root or models_dir()) / bundle_id


def is_installed(bundle_id: str, root: Path | None = None) -> bool:
    folder = bundle_dir(bundle_id, root)
    meta = folder / "bundle.json"
    if not meta.is_file():
        return False
    bundle = BUNDLES.get(bundle_id)
    if bundle is None:
        return True
    return all((folder / f.dest).is_file() for f in bundle.installed_files())


def installed_info(bundle_id: str, root: Path | None = None) -> dict[str, Any] | None:
    try:
        return json.loads((bundle_dir(bundle_id, root) / "bundle.json").read_text())
    except (OSError, ValueError):
        return None


def not_installed(bundle_id: str) -> ToolError:
    bundle = BUNDLES[bundle_id]
    return ToolError(
        f"This tool needs the AI feature bundle '{bundle.id}' ({bundle.name}, about {human_size(bundle.size)}), "
        "which is not installed. An administrator can install it with "
        f"POST /api/v1/admin/features/{bundle.id}/install or `lutra models install {bundle.id}`.",
        ErrorCode.FEATURE_NOT_INSTALLED,
        501,
    )


def require(bundle_id: str) -> Path:
    """The bundle's folder, or a 501 FEATURE_NOT_INSTALLED naming the bundle and its size."""
    if not is_installed(bundle_id):
        raise not_installed(bundle_id)
    return bundle_dir(bundle_id)


def model_path(bundle_id: str, dest: str) -> Path:
    return require(bundle_id) / dest


def disk_usage(root: Path | None = None) -> dict[str, int]:
    root = root or models_dir()
    usage: dict[str, int] = {}
    if not root.is_dir():
        return usage
    for entry in root.iterdir():
        if entry.is_dir() and not entry.name.startswith("."):
            usage[entry.name] = sum(p.stat().st_size for p in entry.rglob("*") if p.is_file())
    return usage


def missing_for(tool_id: str, settings: Any, root: Path | None = None) -> list[str]:
    """The bundles a tool's `@tool(requires=...)` names for these settings that are not installed."""
    spec = REGISTRY.get(tool_id)
    if spec is None:
        return []
    return [b for b in spec.requires(settings) if not is_installed(b, root)]


def best_installed(candidates: Sequence[tuple[str, str]]) -> str:
    """What `model: "auto"` means: the first of (model, bundle) pairs, best first, whose bundle is installed;
    the last (the tool's default) when none is, so that the tool's 501 names the bundle to install."""
    if _models_dir is not None:
        for model, bundle_id in candidates:
            if is_installed(bundle_id):
                return model
    return candidates[-1][0]
