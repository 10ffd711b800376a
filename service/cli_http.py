"""The HTTP side of `lutra call` and `lutra pipeline run`: a client that sends multipart or JSON, follows a
202's SSE progress stream with a progress bar on stderr, and saves results (one file, or a batch ZIP)."""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

import httpx


class CliError(Exception):
    pass


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
