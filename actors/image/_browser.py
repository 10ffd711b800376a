"""One headless-Chromium screenshot, run as its own process by html-to-image:

    python -m actors.image._browser  < job.json  > result.json

This process (with Playwright's driver and Chromium) runs in a sandbox without a network. Chromium's
only way out is its proxy: a relay here, on the sandbox's own loopback, to the egress guard's Unix
socket (job["egress"]), which checks the address of every connection, redirects and sub-requests
included (actors/image/_egress.py). Requests are also pre-checked here by scheme and name (no DNS in
here), and counted. WebSockets are closed, service workers blocked. Page time and full-page height are
capped. The result on stdout is JSON with safe messages only.
"""

from __future__ import annotations

import json
import socket
import sys
import threading
import time

from actors.image import _netguard

# No background traffic: the browser's only connections are the page's own (checked by the egress guard).
# Chromium keeps the last --disable-features it is given, so Playwright's own list is repeated here.
_OFF_FEATURES = (
    # Playwright's own list
    "AvoidUnnecessaryBeforeUnloadCheckSync", "DestroyProfileOnBrowserClose", "HttpsUpgrades",
    "HttpsFirstBalancedModeAutoEnable", "LensOverlay", "MediaRouter", "PaintHolding", "ThirdPartyStoragePartitioning",
    "AvoidCorsURLLoaderRestartOnRedirect", "OptimizationHints", "NetworkTimeServiceQuerying", "AimEnabled",
    "PreconnectToSearch",
    # traffic of our own concern: DNS over HTTPS, prefetching, model and hint downloads, translation,
    # autofill, certificate-transparency lists, feeds, the cast router
    "DnsOverHttps", "NetworkPrediction", "OptimizationHintsFetching", "OptimizationGuideModelDownloading",
    "DialMediaRouteProvider", "Translate", "AutofillServerCommunication", "CertificateTransparencyComponentUpdater",
    "InterestFeedContentSuggestions", "PrivacySandboxSettings4")
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-dev-shm-usage",
                  "--disable-extensions", "--mute-audio", f"--disable-features={','.join(_OFF_FEATURES)}",
                  "--dns-prefetch-disable", "--force-webrtc-ip-handling-policy=disable_non_proxied_udp",
                  "--webrtc-ip-handling-policy=disable_non_proxied_udp", "--disable-client-side-phishing-detection",
                  "--safebrowsing-disable-auto-update", "--disable-domain-reliability", "--metrics-recording-only",
                  "--disable-breakpad", "--no-pings", "--disable-default-apps", "--no-default-browser-check",
                  "--disable-component-extensions-with-background-pages", "--no-service-autorun",
                  "--disable-field-trial-config", "--variations-server-url=http://0.0.0.0/", "--component-updater=url-source=http://0.0.0.0:9/"]
MAX_REQUESTS = 500


class Failure(Exception):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def capture(job: dict) -> dict:
    from playwright.sync_api import Error as PlaywrightError
    from playwright.sync_api import sync_playwright

    allowed = set(job.get("allowed_hosts") or [])
    deadline = time.monotonic() + float(job["timeout_s"])
    blocked: list[str] = []
    counter = {"requests": 0}

    def remaining_ms() -> float:
        return max(1000.0, (deadline - time.monotonic()) * 1000)

    def allowed_url(url: str) -> bool:
        try:
            _netguard.check_url(url, allowed, resolve_names=False)
            return True
        except _netguard.Blocked:
            blocked.append(url[:200])
            return False

    def handler(route):
        request = route.request
        url = request.url
        counter["requests"] += 1
        if counter["requests"] > MAX_REQUESTS or time.monotonic() > deadline or not allowed_url(url):
            route.abort("blockedbyclient")
            return
        try:
            route.continue_()  # through the proxy: the egress guard checks where it connects
        except PlaywrightError:
            try:
                route.abort("failed")
            except PlaywrightError:
                pass

    proxy_port = relay_to(job["egress"])
    with sync_playwright() as pw:
        try:
            browser = pw.chromium.launch(executable_path=job["chromium"], args=CHROMIUM_FLAGS,
                                         timeout=remaining_ms(), chromium_sandbox=False,
                                         proxy={"server": f"http://127.0.0.1:{proxy_port}"})
        except PlaywrightError:
            if time.monotonic() >= deadline - 1:  # the page's time ran out while the browser started
                raise Failure("TIMEOUT", "The page did not finish loading in time.") from None
            raise Failure("BROWSER_UNAVAILABLE", "The headless browser could not be started.") from None
        try:
            context = browser.new_context(
                viewport={"width": job["width"], "height": job["height"]},
                device_scale_factor=job.get("scale", 1), is_mobile=job.get("mobile", False),
                has_touch=job.get("mobile", False), user_agent=job.get("user_agent") or None,
                service_workers="block", accept_downloads=False, java_script_enabled=True,
            )
            page = context.new_page()
            page.route("**/*", handler)
            try:
                page.route_web_socket("**/*", lambda ws: ws.close())
            except (AttributeError, PlaywrightError):
                pass
            try:  # Chromium follows redirects itself (at most 20); each hop is a connection the guard checks
                response = page.goto(job["url"], wait_until="load", timeout=remaining_ms())
                status = response.status if response else None
            except PlaywrightError as err:
                # a sub-request cut at the deadline fails the navigation: that is a timeout too
                timed_out = "Timeout" in type(err).__name__ or "Timeout" in str(err)[:40]
                if timed_out or time.monotonic() >= deadline:
                    raise Failure("TIMEOUT", "The page did not finish loading in time.") from None
                if blocked:
                    raise Failure("BLOCKED", "The page (or a redirect) points at an address that is not "
                                             "reachable from this server.") from None
                raise Failure("NAVIGATION", "The page could not be loaded.") from None
            try:
                page.wait_for_load_state("networkidle", timeout=min(3000, remaining_ms()))
            except PlaywrightError:
                pass  # a page that keeps polling: capture what is there
            options: dict = {"path": job["output"], "type": "png", "timeout": remaining_ms()}
            height = job["height"]
            if job.get("full_page"):
                try:
                    height = int(page.evaluate("Math.max(document.documentElement.scrollHeight, "
                                               "document.body ? document.body.scrollHeight : 0)"))
                except PlaywrightError:
                    height = job["height"]
                height = max(job["height"], min(height, job["max_height"]))
                if height > job["height"]:
                    options.update(full_page=True, clip={"x": 0, "y": 0, "width": job["width"], "height": height})
            page.screenshot(**options)
            return {"ok": True, "status": status, "finalUrl": page.url, "height": height,
                    "truncated": bool(job.get("full_page")) and height >= job["max_height"],
                    "blockedRequests": len(blocked), "title": (page.title() or "")[:200]}
        finally:
            browser.close()


def relay_to(egress: str) -> int:
    """A TCP port on this sandbox's loopback whose every connection is joined to the egress guard's Unix
    socket (Chromium cannot use a Unix-socket proxy). Daemon threads: they end with the process."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(64)

    def pipe(source: socket.socket, sink: socket.socket) -> None:
        try:
            while chunk := source.recv(65536):
                sink.sendall(chunk)
        except OSError:
            pass
        finally:
            for s in (source, sink):
                try:
                    s.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass

    def accept() -> None:
        while True:
            client, _ = listener.accept()
            upstream = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            try:
                upstream.connect(egress)
            except OSError:
                client.close()
                upstream.close()
                continue
            threading.Thread(target=pipe, args=(client, upstream), daemon=True).start()
            threading.Thread(target=pipe, args=(upstream, client), daemon=True).start()

    threading.Thread(target=accept, daemon=True).start()
    return listener.getsockname()[1]


def main() -> None:
    job = json.loads(sys.stdin.read())
    try:
        result = capture(job)
    except Failure as failure:
        result = {"ok": False, "code": failure.code, "error": failure.message}
    except Exception:
        result = {"ok": False, "code": "FAILED", "error": "The page could not be captured."}
    sys.stdout.write(json.dumps(result))
    sys.stdout.flush()


if __name__ == "__main__":
    main()
