"""What runs inside a worker process: look the tool up, run it, package its outputs."""

from __future__ import annotations

import zipfile
from collections.abc import Callable
from pathlib import Path

from protocols.errors import ToolError
from protocols.tools import ToolCall, ToolResult


def invoke(tool_id: str, call: ToolCall) -> ToolResult:
    """Run a tool by id (loads the whole catalog: for tests and tools)."""
    from actors import catalog

    return finish(catalog.load()[tool_id].run(call), call)


def run_tool_fn(fn: Callable[[ToolCall], ToolResult], call: ToolCall) -> ToolResult:
    """What a worker process runs: `fn` arrives pickled by reference, so the worker imports only the
    module of that one tool (not the whole catalog)."""
    return finish(fn(call), call)


def warm(modules: tuple[str, ...] = ()) -> bool:
    """Run once per worker at start so the first real job does not pay the imports."""
    import importlib

    for name in modules:
        importlib.import_module(name)
    return True


def finish(result: ToolResult, call: ToolCall) -> ToolResult:
    """Check the outputs stay inside the job folder; several outputs are zipped, the ZIP listed first."""
    workdir = call.workdir.resolve()
    for path in result.outputs:
        if not path.resolve().is_relative_to(workdir) or not path.is_file():
            raise ToolError("The tool produced no output.")
    if len(result.outputs) > 1:
        archive = unique_path(workdir / f"{call.stem()}.zip")
        write_zip(archive, result.outputs)
        result.outputs = [archive, *result.outputs]
    return result


def write_zip(archive: Path, files: list[Path]) -> None:
    stored = {".jpg", ".jpeg", ".png", ".webp", ".avif", ".heic", ".heif", ".gif", ".zip", ".mp4", ".mp3", ".webm"}
    with zipfile.ZipFile(archive, "w") as zf:
        for path in files:
            method = zipfile.ZIP_STORED if path.suffix.lower() in stored else zipfile.ZIP_DEFLATED
            zf.write(path, arcname=path.name, compress_type=method)


def unique_path(path: Path) -> Path:
    if not path.exists():
        return path
    n = 1
    while True:
        candidate = path.with_name(f"{path.stem}_{n}{path.suffix}")
        if not candidate.exists():
            return candidate
        n += 1
