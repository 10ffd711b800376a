"""HTML to image: capture a web page with headless Chromium (Debian's, driven by Playwright).

JSON body. The URL is checked here (http/https, public addresses only unless the server's
allowed_fetch_hosts names the host), and again at every connection — redirects and sub-requests
included — by the egress guard (actors/image/_egress.py), the only network the sandboxed browser
(actors/image/_browser.py, in bubblewrap without a network) has. A hard time limit; cancelling the job
kills the browser and everything under it.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
import tempfile
from pathlib import Path
from typing import Literal

import trio
from pydantic import Field

from actors import sandbox
from actors.common import imageio as v
from actors.image import _egress, _netguard
from actors.processes import FAST_NICE, child_env, lowered
from protocols.errors import ErrorCode, ToolError, bad_input
from protocols.tools import Runs, Section, ToolCall, ToolResult, ToolSettings, tool

# the browser itself before Debian's wrapper script, which adds flags from /etc/chromium.d (remote extensions:
# a fetch from clients2.google.com at every start)
CHROMIUM_CANDIDATES = ["/usr/lib/chromium/chromium", "/usr/bin/chromium", "/usr/bin/chromium-browser"]
PAGE_TIMEOUT_S = 30
MAX_FULL_PAGE_HEIGHT = 16384
PRESETS = {  # width, height, device scale, mobile
    "desktop": (1280, 720, 1, False),
    "tablet": (768, 1024, 1, True),
    "mobile": (390, 844, 1, True),
}
MOBILE_UA = ("Mozilla/5.0 (Linux; Android 14) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Mobile "
             "Safari/537.36")


class HtmlToImageSettings(ToolSettings):
    url: str = Field(..., min_length=1, max_length=4096, description="Page to capture (http/https only)")
    format: Literal["png", "jpg", "jpeg", "webp"] = Field("png", description="Output format")
    quality: int = Field(90, ge=1, le=100, description="Quality (jpg/webp)")
    full_page: bool = Field(False, description="Capture the whole scrollable page (capped in height)")
    device_preset: Literal["desktop", "tablet", "mobile", "custom"] = Field("desktop", description="Viewport preset")
    viewport_width: int = Field(1280, ge=320, le=3840, description="Viewport width (custom preset)")
    viewport_height: int = Field(720, ge=320, le=2160, description="Viewport height (custom preset)")


def find_chromium() -> str | None:
    for candidate in CHROMIUM_CANDIDATES:
        if os.path.isfile(candidate) and os.access(candidate, os.X_OK):
            return candidate
    return shutil.which("chromium")


def browser_missing() -> ToolError:
    return ToolError("html-to-image needs Chromium, which is not installed on this server "
                     "(install Debian's 'chromium' package).", ErrorCode.FEATURE_NOT_INSTALLED, 503)


@tool("html-to-image", section=Section.IMAGE, settings=HtmlToImageSettings, body="json",
      inputs=(0, 0), runs=Runs.LOOP)
async def run(call: ToolCall[HtmlToImageSettings]) -> ToolResult:
    """Capture a web page as an image."""
    s = call.settings
    chromium = find_chromium()
    try:
        import playwright  # noqa: F401
    except ImportError:
        chromium = None
    if chromium is None:
        raise browser_missing()
    allowed = set(_netguard.ALLOWED_HOSTS)
    try:
        await trio.to_thread.run_sync(_netguard.check_url, s.url, allowed)
    except _netguard.Blocked as blocked:
        raise bad_input(str(blocked)) from None
    if call.progress:
        call.progress(10, "Loading the page")
    width, height, scale, mobile = PRESETS.get(s.device_preset, (s.viewport_width, s.viewport_height, 1, False))
    shot = call.workdir / "capture.png"
    job = {"url": s.url, "chromium": chromium, "width": width, "height": height, "scale": scale, "mobile": mobile,
           "user_agent": MOBILE_UA if mobile else None, "full_page": s.full_page,
           "max_height": MAX_FULL_PAGE_HEIGHT, "timeout_s": PAGE_TIMEOUT_S, "output": str(shot),
           "allowed_hosts": sorted(allowed)}
    root = Path(__file__).resolve().parents[2]
    door = Path(tempfile.mkdtemp(prefix="lutra-egress-"))  # short: a Unix socket path has ~100 bytes
    guard = _egress.EgressGuard(door / "proxy", allowed)
    job["egress"] = str(guard.socket_path)
    launch = sandbox.prepare(lowered([sys.executable, "-m", "actors.image._browser"], FAST_NICE),
                             env=child_env(chromium, HOME="/tmp", PYTHONPATH=str(root)), cwd=root,
                             readable=[root, Path(sys.base_prefix)], writable=[call.workdir, door],
                             timeout_s=PAGE_TIMEOUT_S + 20)
    try:
        async with trio.open_nursery() as nursery:
            await nursery.start(guard.serve)
            with trio.move_on_after(PAGE_TIMEOUT_S + 20) as scope:
                done = await trio.run_process(launch.argv, env=launch.env, stdin=json.dumps(job).encode(),
                                              capture_stdout=True, capture_stderr=True, check=False, cwd=str(root),
                                              start_new_session=True, deliver_cancel=sandbox.kill)
            nursery.cancel_scope.cancel()
    finally:
        shutil.rmtree(door, ignore_errors=True)
    if scope.cancelled_caught:
        raise ToolError("The page took too long to capture.", ErrorCode.TIMEOUT, 504)
    try:
        result = json.loads(done.stdout.decode("utf-8", "replace") or "{}")
    except json.JSONDecodeError:
        result = {}
    if not result.get("ok"):
        code = result.get("code")
        if code == "NAVIGATION" and guard.blocked:  # the guard refused the page or a redirect hop
            code, result["error"] = "BLOCKED", ("The page (or a redirect) points at an address that is not "
                                                "reachable from this server.")
        message = result.get("error") or "The page could not be captured."
        if code == "BROWSER_UNAVAILABLE":
            raise browser_missing()
        if code == "BLOCKED":
            raise bad_input(message)
        if code == "TIMEOUT":
            raise ToolError(message, ErrorCode.TIMEOUT, 504)
        raise ToolError(message)
    if not shot.is_file():
        raise ToolError("The page could not be captured.")
    if call.progress:
        call.progress(90, "Encoding")
    fmt = {"jpg": "jpeg"}.get(s.format, s.format)

    def encode() -> tuple[Path, int, int]:
        image = v.load_upright(shot, call.limits)[0]
        if fmt == "png":
            out = call.workdir / "screenshot.png"
            shot.rename(out)
        else:
            out = v.save(image, call.workdir, "screenshot", fmt, s.quality)
            shot.unlink()
        return out, image.width, image.height

    out, out_w, out_h = await trio.to_thread.run_sync(encode)
    return ToolResult([out], {"width": out_w, "height": out_h, "finalUrl": result.get("finalUrl"),
                              "httpStatus": result.get("status"), "truncated": result.get("truncated", False),
                              "blockedRequests": result.get("blockedRequests", 0) + len(guard.blocked),
                              "title": result.get("title")})
