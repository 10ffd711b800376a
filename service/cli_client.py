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
from urllib.parse import unquote, urlsplit

import httpx

from service.config import client_defaults

DEFAULT_URL = "http://127.0.0.1:1349"
GLOBAL_VALUE_OPTIONS = {"--server", "--api-key", "-o", "--output", "--settings", "--timeout"}


class CliError(Exception):
    pass


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


# ---- HTTP -----------------------------------------------------------------------------------------

class Client:
    def __init__(self, server: str, api_key: str | None, timeout: float, quiet: bool = False) -> None:
        headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        self.http = httpx.Client(base_url=server.rstrip("/"), headers=headers,
                                 timeout=httpx.Timeout(timeout, connect=30))
        self.quiet = quiet

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.http.close()

    def _send(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        try:
            return self.http.request(method, url, **kwargs)
        except httpx.HTTPError as err:
            raise CliError(f"cannot reach {self.http.base_url}: {err.__class__.__name__}") from None

    def post_multipart(self, url: str, parts: list[tuple[str, Path]], data: dict[str, str]) -> httpx.Response:
        handles = [(field, (path.name, open(path, "rb"))) for field, path in parts]  # noqa: SIM115
        try:
            return self._send("POST", url, files=handles, data=data)
        finally:
            for _, (_, fh) in handles:
                fh.close()

    def post_json(self, url: str, body: dict[str, Any]) -> httpx.Response:
        return self._send("POST", url, json=body)

    def finish(self, response: httpx.Response, output: str | None) -> int:
        """A tool or pipeline answer: 200 (JSON or the file itself), 202 (follow the job), or an error."""
        if response.status_code == 202:
            result = self.follow(response.json()["jobId"])
            if result is None:
                return 1
            return self.save_result(result, output)
        if response.status_code >= 400:
            return self.report_error(response)
        if response.headers.get("content-type", "").startswith("application/json"):
            return self.save_result(response.json(), output)
        name = _filename(response) or "output"
        target = _target(output, name)
        target.write_bytes(response.content)
        print(f"wrote {target} ({len(response.content)} bytes)", file=sys.stderr)
        return 0

    def report_error(self, response: httpx.Response) -> int:
        try:
            body = response.json()
            message, code = body.get("error", response.reason_phrase), body.get("code", "")
            details = body.get("details") or []
            errors = body.get("errors") or []
        except ValueError:
            message, code, details, errors = response.reason_phrase, "", [], []
        print(f"error {response.status_code} {code}: {message}", file=sys.stderr)
        for d in details:
            print(f"  {d.get('path')}: {d.get('message')}", file=sys.stderr)
        for e in errors:
            print(f"  {e.get('filename')}: {e.get('error')}", file=sys.stderr)
        return 1

    def follow(self, job_id: str) -> dict[str, Any] | None:
        """Follow the job's SSE stream to its end, drawing a progress bar; the result body, or None."""
        bar = ProgressBar(enabled=not self.quiet)
        last: dict[str, Any] = {}
        try:
            with self.http.stream("GET", f"/api/v1/jobs/{job_id}/progress",
                                  timeout=httpx.Timeout(None, connect=30)) as stream:
                if stream.status_code != 200:
                    stream.read()
                    self.report_error(stream)
                    return None
                for line in stream.iter_lines():
                    if not line.startswith("data: "):
                        continue
                    last = json.loads(line[6:])
                    bar.update(last)
                    if last.get("status") in ("completed", "failed", "canceled"):
                        break
        except httpx.HTTPError as err:
            bar.close()
            raise CliError(f"lost the progress stream: {err.__class__.__name__}") from None
        bar.close()
        if last.get("status") != "completed":
            print(f"error {last.get('code', '')}: {last.get('error', 'the job did not complete')}", file=sys.stderr)
            return None
        return last.get("result") or {}

    def save_result(self, body: dict[str, Any], output: str | None) -> int:
        extras = {k: v for k, v in body.items() if k not in ("jobId", "downloadUrl", "downloads", "originalSize",
                                                             "processedSize", "async")}
        if extras:
            print(json.dumps(extras, indent=2, ensure_ascii=False))
        url = body.get("downloadUrl")
        if not url:
            return 0
        name = unquote(urlsplit(url).path.rsplit("/", 1)[-1])
        target = _target(output, name)
        with self.http.stream("GET", url) as response:
            if response.status_code != 200:
                response.read()
                return self.report_error(response)
            with open(target, "wb") as fh:
                for chunk in response.iter_bytes():
                    fh.write(chunk)
        size = target.stat().st_size
        before = body.get("originalSize")
        ratio = f", {size / before:.0%} of the input" if before else ""
        print(f"wrote {target} ({size} bytes{ratio})", file=sys.stderr)
        return 0

    def batch(self, url: str, files: list[Path], settings: dict[str, Any] | None, output: str | None,
              extra: dict[str, str] | None = None) -> int:
        data = dict(extra or {})
        if settings is not None:
            data["settings"] = json.dumps(settings)
        if not self.quiet:
            print(f"sending {len(files)} files...", file=sys.stderr)
        response = self.post_multipart(url, [("files", f) for f in files], data)
        if response.status_code >= 400:
            return self.report_error(response)
        target = _target(output, _filename(response) or "batch.zip")
        target.write_bytes(response.content)
        errors = response.headers.get("X-File-Errors")
        if errors:
            for e in json.loads(unquote(errors)):
                print(f"  failed: {e.get('filename')}: {e.get('error')}", file=sys.stderr)
        print(f"wrote {target} ({len(response.content)} bytes, job {response.headers.get('X-Job-Id')})",
              file=sys.stderr)
        return 0


def _filename(response: httpx.Response) -> str | None:
    disposition = response.headers.get("content-disposition", "")
    match = re.search(r"filename\*=UTF-8''([^;]+)", disposition) or re.search(r'filename="?([^";]+)"?', disposition)
    return Path(unquote(match.group(1))).name if match else None


def _target(output: str | None, name: str) -> Path:
    if output is None:
        return Path(Path(name).name)
    path = Path(output)
    if path.is_dir():
        return path / Path(name).name
    return path


class ProgressBar:
    """A one-line bar on stderr (a line per 10 % when stderr is not a terminal)."""

    WIDTH = 30

    def __init__(self, enabled: bool = True) -> None:
        self.enabled = enabled
        self.tty = sys.stderr.isatty()
        self.last_step = -1
        self.drawn = False

    def update(self, frame: dict[str, Any]) -> None:
        if not self.enabled:
            return
        progress = float(frame.get("progress") or 0)
        status = frame.get("status", "")
        message = frame.get("message") or status
        if "totalFiles" in frame:
            message = f"{frame.get('completedFiles', 0)}/{frame['totalFiles']} files " + (message or "")
        filled = int(self.WIDTH * progress / 100)
        line = f"[{'#' * filled}{'.' * (self.WIDTH - filled)}] {progress:5.1f}% {message}"[:100]
        if self.tty:
            sys.stderr.write("\r" + line.ljust(100))
            sys.stderr.flush()
            self.drawn = True
        else:
            step = int(progress // 10)
            if step != self.last_step or status in ("completed", "failed", "canceled"):
                self.last_step = step
                print(line, file=sys.stderr, flush=True)

    def close(self) -> None:
        if self.enabled and self.tty and self.drawn:
            sys.stderr.write("\n")
            sys.stderr.flush()
