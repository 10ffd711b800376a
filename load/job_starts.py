"""The places that start a job: every call site in a Lutra tree that starts a job's task or sets a tool's
function running (read from the source, nothing is run).

    python -m load.job_starts              # this checkout
    python -m load.job_starts /path/to/tree --json

Two kinds of site are listed, in actors/, service/, protocols/ and load/ (tests/ left out):
- job task: `start_soon(<...>._run_job, ...)`: where the runtime starts a job's own task;
- tool call: where a tool's function is called or handed to a worker process or thread: `spec.run(...)`,
  `spec_for(...).run(...)`, `spec.run` passed as an argument (`run_sync(in_worker, spec.run, call)`), and
  calls of the helpers that do that for a caller (workers.run_tool / run_here / run_tool_fn / invoke), or
  one of them handed to a worker (`run_sync(workers.invoke, ...)`);
- runner branch: the same inside actors/workers.py, the runners themselves (one branch per place a tool
  runs: worker process, thread, event loop), listed apart since they are one path that callers share.
"""

from __future__ import annotations

import argparse
import ast
import json
from pathlib import Path

DEFAULT_ROOT = Path(__file__).resolve().parents[1]
TOPS = ("actors", "service", "protocols", "load")
RUNNERS = {"run_tool", "run_here", "run_tool_fn", "invoke"}  # actors.workers: run a tool for their caller


def _name(node: ast.AST) -> str:
    """`a.b.c` for a Name/Attribute chain, '' otherwise (a call in the chain reads as `f()`)."""
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        base = _name(node.value)
        return f"{base}.{node.attr}" if base else ""
    if isinstance(node, ast.Call):
        base = _name(node.func)
        return f"{base}()" if base else ""
    return ""


def _is_tool_function(node: ast.AST) -> bool:
    """`spec.run`, `self.spec.run`, `spec_for(x).run`, `REGISTRY[x].run`: a ToolSpec's function."""
    if not (isinstance(node, ast.Attribute) and node.attr == "run"):
        return False
    if isinstance(node.value, ast.Subscript):
        return _name(node.value.value).endswith("REGISTRY")
    owner = _name(node.value)
    return owner.endswith("spec") or owner.endswith("spec_for()")


def _is_runner(node: ast.AST) -> bool:
    """`workers.run_tool` and the like (as called from outside actors/workers.py)."""
    name = _name(node)
    return name.rsplit(".", 1)[-1] in RUNNERS and (name.startswith("workers.") or name in RUNNERS)


def sites(path: Path, source: str, workers_module: bool) -> list[tuple[int, str, str]]:
    """(line, kind, what) for each site in one module. In actors/workers.py the runners call each other
    (run_tool -> in_worker -> run_here): those are one path, not more sites."""
    found = []
    tool_call = "runner branch" if workers_module else "tool call"
    for node in ast.walk(ast.parse(source, str(path))):
        if not isinstance(node, ast.Call):
            continue
        func = _name(node.func)
        leaf = func.rsplit(".", 1)[-1]
        if leaf == "start_soon" and node.args and _name(node.args[0]).endswith("_run_job"):
            found.append((node.lineno, "job task", f"{func}({_name(node.args[0])}, ...)"))
        elif _is_tool_function(node.func):
            found.append((node.lineno, tool_call, f"{func}(...)"))
        elif any(_is_tool_function(arg) or _is_runner(arg) and not workers_module for arg in node.args):
            arg = next(a for a in node.args if _is_tool_function(a) or _is_runner(a))
            found.append((node.lineno, tool_call, f"{func}(..., {_name(arg)}, ...)"))
        elif _is_runner(node.func) and not workers_module:
            found.append((node.lineno, "tool call", f"{func}(...)"))
    return sorted(found)


def scan(root: Path) -> dict:
    listed = []
    for top in TOPS:
        for path in sorted((root / top).rglob("*.py")):
            rel = path.relative_to(root)
            if rel == Path("load/job_starts.py"):
                continue  # this file names the patterns it looks for
            listed.extend({"site": f"{rel}:{line}", "kind": kind, "call": what}
                          for line, kind, what in sites(path, path.read_text(), rel == Path("actors/workers.py")))
    return {
        "root": str(root),
        "job_task": [s for s in listed if s["kind"] == "job task"],
        "tool_call": [s for s in listed if s["kind"] == "tool call"],
        "runner_branch": [s for s in listed if s["kind"] == "runner branch"],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("root", nargs="?", type=Path, default=DEFAULT_ROOT, help="a Lutra tree (default: this one)")
    parser.add_argument("--json", action="store_true", help="print the result as JSON")
    args = parser.parse_args()
    result = scan(args.root.resolve())
    if args.json:
        print(json.dumps(result, indent=2))
        return
    for kind, label in (("job_task", "places that start a job's task"),
                        ("tool_call", "places that run a tool's function"),
                        ("runner_branch", "branches inside actors/workers.py's runners")):
        print(f"{len(result[kind])} {label}:")
        for s in result[kind]:
            print(f"  {s['site']}  {s['call']}")


if __name__ == "__main__":
    main()
