"""YAML <-> JSON, direction from the input. YAML is read with the safe loader only (no Python
objects), and alias expansion is bounded so a "billion laughs" YAML cannot blow up the output."""

from __future__ import annotations

import json
from typing import Any

from actors.data import _tabular as t
from protocols.errors import bad_input
from protocols.tools import Section, ToolCall, ToolResult, ToolSettings, tool

MAX_NODES = 2_000_000


class YamlJsonSettings(ToolSettings):
    pass


def _check_size(data: Any) -> None:
    """Count the nodes the JSON would hold (aliases counted each time they are used); refuse cycles."""
    budget = MAX_NODES
    stack: list[tuple[Any, int]] = [(data, 0)]
    path_ids: set[int] = set()
    while stack:
        value, state = stack.pop()
        if state == 1:  # leaving a container
            path_ids.discard(id(value))
            continue
        budget -= 1
        if budget < 0:
            raise bad_input("The YAML expands to too much data (aliases used too many times).")
        if isinstance(value, (dict, list)):
            if id(value) in path_ids:
                raise bad_input("The YAML refers to itself (a recursive alias) and cannot be written as JSON.")
            path_ids.add(id(value))
            stack.append((value, 1))
            items = value.items() if isinstance(value, dict) else enumerate(value)
            for _, inner in items:
                stack.append((inner, 0))


def load_yaml(text: str) -> Any:
    import yaml

    try:
        docs = list(yaml.safe_load_all(text))
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        where = f" (line {mark.line + 1})" if mark is not None else ""
        raise bad_input(f"The file is not valid YAML{where}.") from None
    except RecursionError:
        raise bad_input("The YAML is nested too deeply.") from None
    if not docs:
        raise bad_input("The YAML file holds no document.")
    data = docs[0] if len(docs) == 1 else docs
    _check_size(data)
    return data


def _json_keys(value: Any) -> Any:
    """YAML allows any scalar as a key; JSON only strings."""
    if isinstance(value, dict):
        return {(k if isinstance(k, str) else t.cell_text(k) if k is not None else "null"): _json_keys(v)
                for k, v in value.items()}
    if isinstance(value, list):
        return [_json_keys(v) for v in value]
    return value


@tool("yaml-json", section=Section.FILES, settings=YamlJsonSettings, accepts={"text"})
def run(call: ToolCall) -> ToolResult:
    """Convert YAML to JSON or JSON to YAML (direction from the input)."""
    import yaml

    src, name = call.inputs[0], call.names[0] if call.names else ""
    fmt = t.sniff_format(src, name)
    t.check_not_spreadsheet(fmt)
    if fmt == "xml":
        raise bad_input("yaml-json converts YAML or JSON; this file looks like XML.")
    text = t.read_text(src)
    if fmt == "json":
        try:
            data = json.loads(text)
        except RecursionError:
            raise bad_input("The JSON is nested too deeply.") from None
        except json.JSONDecodeError as err:
            raise bad_input(f"The file is not valid JSON (line {err.lineno}, column {err.colno}).") from None
        out = call.workdir / f"{call.stem()}.yaml"
        try:
            dumped = yaml.safe_dump(data, sort_keys=False, allow_unicode=True, default_flow_style=False)
        except RecursionError:
            raise bad_input("The JSON is nested too deeply.") from None
        out.write_text(dumped, encoding="utf-8")
        return ToolResult([out], {"direction": "json-to-yaml"})
    data = load_yaml(text)
    out = call.workdir / f"{call.stem()}.json"
    try:
        t.dump_json(_json_keys(data), out, pretty=True)
    except RecursionError:
        raise bad_input("The YAML is nested too deeply.") from None
    return ToolResult([out], {"direction": "yaml-to-json"})
