"""`lutra call` and `lutra pipeline run`: a command-line client for people who would rather not write curl.

    lutra call image/resize photo.jpg --width 800 -o small.jpg
    lutra call --batch image/compress *.jpg --quality 80 -o out.zip
    lutra call image/resize --help          # the settings flags, generated from the tool's schema
    lutra pipeline run steps.json in.pdf -o out.pdf

The server URL and API key come from --server/--api-key or LUTRA_URL/LUTRA_API_KEY. The tool's settings flags
are generated from the server's OpenAPI document (the local tool registry when no server answers), so they
always match what that server accepts. A job that answers 202 is followed through its SSE progress stream
with a progress bar on stderr."""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path
from typing import Any

import httpx

from service.cli_http import Client, CliError
from service.config import client_defaults

DEFAULT_URL = "http://127.0.0.1:1349"
GLOBAL_VALUE_OPTIONS = {"--server", "--api-key", "-o", "--output", "--settings", "--timeout"}


def register(subparsers) -> None:
    # everything after `call` is parsed by `call()` itself, once the tool (and so its flags) is known:
    # with no option prefix here, even a leading `--batch` reaches it untouched
    call = subparsers.add_parser(
        "call", add_help=False, prefix_chars="\x01", help="run a tool on a Lutra server (lutra call image/resize "
                                                           "--help)", description="Run a tool on a Lutra server.")
    call.add_argument("argv", nargs="*")
    call.set_defaults(func=_call_main)
    pipeline = subparsers.add_parser("pipeline", help="run a pipeline of tools on a Lutra server")
    psub = pipeline.add_subparsers(dest="pipeline_command", required=True)
    run = psub.add_parser("run", help="run steps.json over one file (several files: a batch, one ZIP)")
    run.add_argument("steps", help="JSON file: {\"steps\":[{\"toolId\":..., \"settings\":{...}}]} or the list")
    run.add_argument("files", nargs="+", help="input file(s)")
    _add_connection(run)
    run.add_argument("-o", "--output", help="where to write the result (a file or a folder)")
    run.set_defaults(func=_pipeline_main)


def _add_connection(parser: argparse.ArgumentParser) -> None:
    url, key = client_defaults()
    parser.add_argument("--server", default=url or DEFAULT_URL,
                        help="server URL (env LUTRA_URL, default %(default)s)")
    parser.add_argument("--api-key", default=key,
                        help="API key si_... or session token (env LUTRA_API_KEY)")
    parser.add_argument("--timeout", type=float, default=600, help="seconds to wait for the server (default 600)")
    parser.add_argument("-q", "--quiet", action="store_true", help="no progress bar")


# ---- the API document -----------------------------------------------------------------------------

def fetch_document(server: str, timeout: float = 30) -> dict[str, Any] | None:
    try:
        r = httpx.get(server.rstrip("/") + "/api/v1/openapi.json", timeout=timeout)
    except httpx.HTTPError:
        return None
    if r.status_code != 200:
        return None
    return r.json()


def local_document() -> dict[str, Any]:
    """The tools part of the document from this installation's registry (when no server answers)."""
    from actors import catalog
    from service import openapi_tools

    components: dict[str, Any] = {}
    paths: dict[str, Any] = {}
    for spec in catalog.load().values():
        for path, operation in openapi_tools.tool_operations(spec, components, ("tools:use",)):
            paths[path] = {"post": operation}
    return {"paths": paths, "components": {"schemas": components}}


def find_tool(doc: dict[str, Any], name: str) -> tuple[str, dict[str, Any]]:
    """`section/tool`, `tool` or `section/tool/sub` -> (path, operation)."""
    name = name.strip("/")
    path = f"/api/v1/tools/{name}"
    item = doc["paths"].get(path)
    if item and "post" in item and "x-tool-id" in item["post"] and not item["post"].get("x-batch"):
        return path, item["post"]
    for path, item in doc["paths"].items():
        op = item.get("post", {})
        if op.get("x-tool-id") == name and not op.get("x-batch"):
            return path, op
    raise CliError(f"unknown tool: {name} (run `lutra call` to list them)")


def resolve(schema: dict[str, Any], doc: dict[str, Any]) -> dict[str, Any]:
    while isinstance(schema, dict) and "$ref" in schema:
        schema = doc["components"]["schemas"][schema["$ref"].rsplit("/", 1)[-1]]
    return schema


def settings_schema(op: dict[str, Any], doc: dict[str, Any]) -> dict[str, Any]:
    content = op["requestBody"]["content"]
    if "application/json" in content:
        return resolve(content["application/json"]["schema"], doc)
    props = content["multipart/form-data"]["schema"]["properties"]
    return resolve(props["settings"], doc)


def _kebab(name: str) -> str:
    return re.sub(r"(?<=[a-z0-9])([A-Z])", r"-\1", name).lower()


def _base_type(prop: dict[str, Any], doc: dict[str, Any]) -> dict[str, Any]:
    prop = resolve(prop, doc)
    for key in ("anyOf", "oneOf"):
        if key in prop:
            options = [resolve(p, doc) for p in prop[key] if resolve(p, doc).get("type") != "null"]
            if len(options) == 1:
                merged = {**options[0]}
                for extra in ("description", "default"):
                    if extra in prop:
                        merged.setdefault(extra, prop[extra])
                return merged
            return {**prop, "type": "json"}
    return prop


def _json_value(text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not valid JSON: {text!r}") from None


def _scalar(kind: str):
    def convert(text: str) -> Any:
        if kind == "integer":
            return int(text)
        if kind == "number":
            return float(text)
        return text

    return convert


def add_setting_flags(parser: argparse.ArgumentParser, schema: dict[str, Any], doc: dict[str, Any],
                      taken: set[str]) -> dict[str, str]:
    """One flag per setting; returns dest -> the setting's (camelCase) name."""
    group = parser.add_argument_group("tool settings (sent only when given; the server applies the defaults)")
    dests: dict[str, str] = {}
    for name, raw in schema.get("properties", {}).items():
        prop = _base_type(raw, doc)
        flag = "--" + _kebab(name)
        if flag in taken:
            flag = "--set-" + _kebab(name)
        flags = [flag]
        dest = "setting__" + name
        dests[dest] = name
        bits = [prop.get("description") or raw.get("description") or ""]
        default = raw.get("default", prop.get("default"))
        kind = prop.get("type", "json")
        low = prop.get("minimum", prop.get("exclusiveMinimum"))
        high = prop.get("maximum", prop.get("exclusiveMaximum"))
        if low is not None or high is not None:
            bits.append(f"range {'' if low is None else low}..{'' if high is None else high}")
        if default is not None:
            bits.append(f"default {json.dumps(default)}")
        help_text = "; ".join(b for b in bits if b).replace("%", "%%")
        if kind == "boolean":
            group.add_argument(*flags, dest=dest, action=argparse.BooleanOptionalAction, default=argparse.SUPPRESS,
                               help=help_text)
        elif "enum" in prop and all(isinstance(v, str) for v in prop["enum"]):
            many = len(prop["enum"]) > 6
            group.add_argument(*flags, dest=dest, choices=prop["enum"], default=argparse.SUPPRESS,
                               metavar="NAME" if many else None,
                               help=help_text + (f" (one of {', '.join(prop['enum'])})" if many else ""))
        elif "enum" in prop:
            group.add_argument(*flags, dest=dest, type=_json_value, default=argparse.SUPPRESS,
                               help=help_text + f" (one of {', '.join(json.dumps(v) for v in prop['enum'])})")
        elif kind in ("integer", "number", "string"):
            meta = {"integer": "INT", "number": "NUM", "string": "TEXT"}[kind]
            group.add_argument(*flags, dest=dest, type=_scalar(kind), metavar=meta, default=argparse.SUPPRESS,
                               help=help_text)
        else:
            group.add_argument(*flags, dest=dest, type=_json_value, metavar="JSON", default=argparse.SUPPRESS,
                               help=help_text + " (JSON)")
    return dests


# ---- lutra call -----------------------------------------------------------------------------------

def _tool_token(argv: list[str]) -> int | None:
    skip = False
    for index, token in enumerate(argv):
        if skip:
            skip = False
            continue
        if token in GLOBAL_VALUE_OPTIONS:
            skip = True
            continue
        if not token.startswith("-"):
            return index
    return None


def _call_main(args: argparse.Namespace) -> None:
    try:
        sys.exit(call(args.argv))
    except CliError as err:
        print(f"lutra: {err}", file=sys.stderr)
        sys.exit(2)


def _base_parser(prog: str) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog=prog, description="Run a tool on a Lutra server.",
                                     epilog="Server and key: --server/--api-key or LUTRA_URL/LUTRA_API_KEY.")
    _add_connection(parser)
    parser.add_argument("-o", "--output", help="where to write the result (a file or a folder; default: the "
                                               "server's file name in the current folder)")
    parser.add_argument("--batch", action="store_true", help="one job per file; the results come back as a ZIP")
    parser.add_argument("--settings", type=_json_value, default=None, metavar="JSON",
                        help="settings as a JSON object (flags override its keys)")
    return parser


def call(argv: list[str]) -> int:
    index = _tool_token(argv)
    if index is None:
        parser = _base_parser("lutra call")
        parser.add_argument("tool", nargs="?", help="section/toolId, e.g. image/resize")
        ns = parser.parse_args(argv)
        return list_tools(ns.server, ns.timeout)
    name = argv[index]
    rest = argv[:index] + argv[index + 1:]
    pre = _base_parser("lutra call")
    pre_ns, _ = pre.parse_known_args([a for a in rest if a not in ("-h", "--help")])
    doc = fetch_document(pre_ns.server) or local_document()
    path, op = find_tool(doc, name)
    parser = _base_parser(f"lutra call {name}")
    parser.description = f"{op['summary'].rstrip('.')}. {op.get('description', '')}"
    taken = {"--server", "--api-key", "--timeout", "--quiet", "--output", "--batch", "--settings", "--help"}
    content = op["requestBody"]["content"]
    multipart = content.get("multipart/form-data", {}).get("schema", {}).get("properties", {})
    roles = [k for k, v in multipart.items() if k not in ("file", "files", "settings", "fileId")
             and v.get("format") == "binary"]
    for role in roles:
        parser.add_argument(f"--{role}-file", dest=f"role__{role}", metavar="PATH",
                            help=multipart[role].get("description", f"the {role} input"))
        taken.add(f"--{role}-file")
    if multipart:
        parser.add_argument("files", nargs="*", help="input file(s)")
    dests = add_setting_flags(parser, settings_schema(op, doc), doc, taken)
    ns = parser.parse_intermixed_args(rest)
    settings: dict[str, Any] = dict(ns.settings or {})
    for dest, setting in dests.items():
        if hasattr(ns, dest):
            settings[setting] = getattr(ns, dest)
    files = [Path(f) for f in getattr(ns, "files", [])]
    role_files = {role: Path(getattr(ns, f"role__{role}")) for role in roles if getattr(ns, f"role__{role}", None)}
    for f in [*files, *role_files.values()]:
        if not f.is_file():
            raise CliError(f"no such file: {f}")
    with Client(ns.server, ns.api_key, ns.timeout, quiet=ns.quiet) as client:
        if ns.batch:
            if not files:
                raise CliError("--batch needs input files")
            return client.batch(path + "/batch", files, settings, ns.output)
        if multipart and (files or role_files or "application/json" not in content):
            parts = _parts(multipart, files, role_files)
            response = client.post_multipart(path, parts, {"settings": json.dumps(settings)})
        else:
            if files:
                raise CliError(f"{name} takes no input file")
            response = client.post_json(path, settings)
        return client.finish(response, ns.output)


def _parts(multipart: dict[str, Any], files: list[Path], roles: dict[str, Path]) -> list[tuple[str, Path]]:
    if "files" in multipart:
        parts = [("files", f) for f in files]
    else:
        parts = [("file", f) for f in files[:1]]
        # further positional files fill the named second inputs in order (or go as more `file` parts)
        free = [r for r in multipart if r not in ("file", "files", "settings", "fileId") and r not in roles]
        for extra in files[1:]:
            parts.append((free.pop(0), extra) if free else ("file", extra))
    parts += [(role, path) for role, path in roles.items()]
    return parts


def list_tools(server: str, timeout: float) -> int:
    doc = fetch_document(server, timeout) or local_document()
    rows = sorted((path.removeprefix("/api/v1/tools/"), item["post"].get("summary", ""))
                  for path, item in doc["paths"].items()
                  if "x-tool-id" in item.get("post", {}) and not item["post"].get("x-batch"))
    width = max(len(r[0]) for r in rows)
    for tool, summary in rows:
        print(f"{tool.ljust(width)}  {summary}")
    print("\nlutra call <section/tool> FILES... [--setting value ...] [-o OUT]   (--help after a tool lists its "
          "settings)", file=sys.stderr)
    return 0


# ---- lutra pipeline run ---------------------------------------------------------------------------

def _pipeline_main(args: argparse.Namespace) -> None:
    try:
        sys.exit(run_pipeline(args))
    except CliError as err:
        print(f"lutra: {err}", file=sys.stderr)
        sys.exit(2)


def run_pipeline(args: argparse.Namespace) -> int:
    try:
        steps = json.loads(Path(args.steps).read_text())
    except (OSError, ValueError) as err:
        raise CliError(f"cannot read the steps file {args.steps}: {err}") from None
    if isinstance(steps, list):
        steps = {"steps": steps}
    files = [Path(f) for f in args.files]
    for f in files:
        if not f.is_file():
            raise CliError(f"no such file: {f}")
    with Client(args.server, args.api_key, args.timeout, quiet=args.quiet) as client:
        if len(files) > 1:
            return client.batch("/api/v1/pipeline/batch", files, None, args.output,
                                extra={"pipeline": json.dumps(steps)})
        response = client.post_multipart("/api/v1/pipeline/execute", [("file", files[0])],
                                         {"pipeline": json.dumps(steps)})
        return client.finish(response, args.output)
