"""html-to-image: real captures through Debian's Chromium of pages served on 127.0.0.1 (allowed by the
setting), and the SSRF guard: schemes, private/loopback/link-local addresses, redirects, sub-requests."""

from __future__ import annotations

import http.server
import socket
import socketserver
import struct
import threading

import pytest
import pyvips

from actors.image import _netguard, html_to_image
from protocols.errors import ToolError
from tests.helpers import run_tool

pytestmark = pytest.mark.skipif(html_to_image.find_chromium() is None, reason="chromium is not installed: run ./run setup (deps/image2.apt)")


class Handler(http.server.BaseHTTPRequestHandler):
    hits: list[str] = []
    release = threading.Event()  # a request for /slow hangs until the module's teardown sets this

    def do_GET(self):  # noqa: N802
        port = self.server.server_address[1]
        Handler.hits.append(self.path)
        if self.path == "/redirect-out":
            self.send_response(302)
            self.send_header("Location", f"http://localhost:{port}/")
            self.end_headers()
            return
        if self.path == "/redirect-in":
            self.send_response(302)
            self.send_header("Location", "/tall")
            self.end_headers()
            return
        if self.path == "/slow":
            Handler.release.wait(60)
            return
        if self.path == "/tall":
            body = "<html><body style='margin:0'><div style='height:3000px;background:#00ff00'></div></body></html>"
        elif self.path == "/leaky":
            body = (f"<html><body style='margin:0;background:#0000ff'><img src='http://localhost:{port}/secret.png'>"
                    "<img src='http://169.254.169.254/latest/meta-data/'></body></html>")
        else:
            body = "<html><body style='margin:0;background:#ff0000'><h1>Lutra</h1></body></html>"
        data = body.encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def site():
    server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    Handler.release.set()
    server.shutdown()
    server.server_close()


@pytest.fixture()
def allow_local(monkeypatch):
    monkeypatch.setattr(_netguard, "ALLOWED_HOSTS", {"127.0.0.1"})


def test_capture_viewport_and_presets(site, tmp_path, allow_local):
    r = run_tool("html-to-image", [], {"url": site + "/"}, tmp_path)
    im = pyvips.Image.new_from_file(str(r.outputs[0]))
    assert r.outputs[0].name == "screenshot.png" and (im.width, im.height) == (1280, 720)
    assert im.getpoint(1000, 600)[:3] == [255, 0, 0] and r.extra["httpStatus"] == 200
    mobile = run_tool("html-to-image", [], {"url": site + "/", "devicePreset": "mobile", "format": "jpg",
                                            "quality": 80}, tmp_path)
    m = pyvips.Image.new_from_file(str(mobile.outputs[0]))
    assert mobile.outputs[0].suffix == ".jpg" and (m.width, m.height) == (390, 844)


def test_full_page_and_internal_redirect(site, tmp_path, allow_local):
    r = run_tool("html-to-image", [], {"url": site + "/redirect-in", "fullPage": True, "devicePreset": "custom",
                                       "viewportWidth": 400, "viewportHeight": 400, "format": "webp"}, tmp_path)
    im = pyvips.Image.new_from_file(str(r.outputs[0]))
    assert (im.width, im.height) == (400, 3000) and r.extra["finalUrl"].endswith("/tall")
    assert im.getpoint(200, 2900)[1] > 240


def test_full_page_height_is_capped(site, tmp_path, allow_local, monkeypatch):
    monkeypatch.setattr(html_to_image, "MAX_FULL_PAGE_HEIGHT", 1000)
    r = run_tool("html-to-image", [], {"url": site + "/tall", "fullPage": True, "devicePreset": "custom",
                                       "viewportWidth": 400, "viewportHeight": 400}, tmp_path)
    im = pyvips.Image.new_from_file(str(r.outputs[0]))
    assert (im.width, im.height) == (400, 1000) and r.extra["truncated"] is True
    whole = run_tool("html-to-image", [], {"url": site + "/", "fullPage": True}, tmp_path)
    assert whole.extra["truncated"] is False


def test_page_time_is_capped(site, tmp_path, allow_local, monkeypatch):
    monkeypatch.setattr(html_to_image, "PAGE_TIMEOUT_S", 3)
    with pytest.raises(ToolError) as err:
        run_tool("html-to-image", [], {"url": site + "/slow"}, tmp_path)
    assert err.value.status == 504 and err.value.code.value == "TIMEOUT"


def test_sub_requests_to_other_hosts_are_blocked(site, tmp_path, allow_local):
    Handler.hits.clear()
    r = run_tool("html-to-image", [], {"url": site + "/leaky"}, tmp_path)
    assert r.extra["blockedRequests"] >= 2 and "/secret.png" not in Handler.hits


def test_redirect_to_a_private_host_is_refused(site, tmp_path, allow_local):
    with pytest.raises(ToolError) as err:
        run_tool("html-to-image", [], {"url": site + "/redirect-out"}, tmp_path)
    assert err.value.status == 400


@pytest.mark.parametrize("url", ["http://127.0.0.1:9/", "http://localhost/", "http://169.254.169.254/latest/",
                                 "http://10.1.2.3/", "http://[::1]/", "http://[::ffff:127.0.0.1]/",
                                 "file:///etc/passwd", "ftp://example.org/", "javascript:alert(1)",
                                 "http://metadata.google.internal/", "http://100.64.0.1/"])
def test_private_and_non_http_urls_are_refused(tmp_path, url):
    with pytest.raises(ToolError) as err:
        run_tool("html-to-image", [], {"url": url}, tmp_path)
    assert err.value.status == 400


def test_loopback_refused_without_the_allowance(site, tmp_path):
    with pytest.raises(ToolError) as err:
        run_tool("html-to-image", [], {"url": site + "/"}, tmp_path)
    assert err.value.status == 400 and "not reachable" in err.value.message


def test_names_resolving_to_private_addresses_are_refused():
    def fake(addr):
        return lambda host, port, type=0: [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (addr, port))]

    with pytest.raises(_netguard.Blocked):
        _netguard.check_url("http://rebind.example/", set(), resolve=fake("192.168.1.5"))
    assert _netguard.check_url("https://ok.example/x", set(), resolve=fake("93.184.215.14")) == "ok.example"
    assert _netguard.check_url("http://127.0.0.1:8080/", {"127.0.0.1"}) == "127.0.0.1"
    with pytest.raises(_netguard.Blocked):  # the allowance names hosts, not addresses for other names
        _netguard.check_url("http://evil.example/", {"127.0.0.1"}, resolve=fake("127.0.0.1"))


def test_missing_chromium_is_a_503(tmp_path, monkeypatch):
    monkeypatch.setattr(html_to_image, "CHROMIUM_CANDIDATES", ["/nonexistent/chromium"])
    monkeypatch.setattr(html_to_image.shutil, "which", lambda name: None)
    with pytest.raises(ToolError) as err:
        run_tool("html-to-image", [], {"url": "https://example.org/"}, tmp_path)
    assert err.value.status == 503 and err.value.code.value == "FEATURE_NOT_INSTALLED"


class FlipDns:
    """A tiny DNS server on loopback (UDP): the first answer for a name is a public address, every later
    one 127.0.0.1 — a rebinding attack between the URL check and the browser's connection."""

    def __init__(self, first: str = "93.184.215.14", then: str = "127.0.0.1") -> None:
        self.answers = [first, then]
        self.queries: list[str] = []
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        while True:
            try:
                query, peer = self.sock.recvfrom(512)
            except OSError:
                return
            end = 12
            labels = []
            while query[end]:
                labels.append(query[end + 1:end + 1 + query[end]].decode())
                end += 1 + query[end]
            question = query[12:end + 5]
            self.queries.append(".".join(labels))
            address = self.answers[0] if self.queries.count(self.queries[-1]) == 1 else self.answers[1]
            answer = b"\xc0\x0c" + struct.pack(">HHIH", 1, 1, 0, 4) + socket.inet_aton(address)
            self.sock.sendto(query[:2] + b"\x81\x80" + struct.pack(">HHHH", 1, 1, 0, 0) + question + answer, peer)

    def resolve(self, host, port, type=0, **_):
        """What the server's resolver does, asking this DNS server (one A record)."""
        name = b"".join(bytes([len(p)]) + p.encode() for p in host.rstrip(".").split(".")) + b"\x00"
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            s.settimeout(5)
            s.sendto(b"\x12\x34\x01\x00" + struct.pack(">HHHH", 1, 0, 0, 0) + name + struct.pack(">HH", 1, 1),
                     ("127.0.0.1", self.port))
            reply = s.recv(512)
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (socket.inet_ntoa(reply[-4:]), port))]


def test_a_dns_answer_that_changes_after_the_check_is_caught_at_connection_time(site, tmp_path, monkeypatch):
    dns = FlipDns()
    monkeypatch.setattr(_netguard, "RESOLVE", dns.resolve)
    port = site.rsplit(":", 1)[1]
    Handler.hits.clear()
    with pytest.raises(ToolError) as err:
        run_tool("html-to-image", [], {"url": f"http://rebind.example:{port}/"}, tmp_path)
    assert err.value.status == 400 and "not reachable" in err.value.message
    # checked once (public), then the connection itself resolved again, got 127.0.0.1 and was refused
    assert dns.queries.count("rebind.example") >= 2
    assert Handler.hits == []  # the site on 127.0.0.1 was never reached


def test_the_egress_guard_connects_only_to_checked_addresses(site, tmp_path, monkeypatch):
    """A name the admin allows goes through the guard to exactly the address it resolved to."""
    monkeypatch.setattr(_netguard, "ALLOWED_HOSTS", {"pinned.example"})
    monkeypatch.setattr(_netguard, "RESOLVE", lambda host, port, type=0, **_: [
        (socket.AF_INET, socket.SOCK_STREAM, 6, "", ("127.0.0.1", port))])
    port = site.rsplit(":", 1)[1]
    Handler.hits.clear()
    result = run_tool("html-to-image", [], {"url": f"http://pinned.example:{port}/"}, tmp_path)
    assert result.extra["httpStatus"] == 200 and Handler.hits == ["/"]
    assert pyvips.Image.new_from_file(str(result.outputs[0])).getpoint(5, 5)[:3] == [255, 0, 0]


def test_a_capture_connects_only_to_the_pages_origin(site, tmp_path, allow_local, monkeypatch):
    """The browser makes no connection of its own (component updates, network time, safe browsing,
    metrics...): every host it asks the egress guard for is the page's. With Chromium's default
    background networking it asked for update.googleapis.com and clients2.google.com in every capture."""
    from actors.image import _egress

    guards: list[_egress.EgressGuard] = []
    real_init = _egress.EgressGuard.__init__

    def recording_init(self, *args, **kwargs):
        real_init(self, *args, **kwargs)
        guards.append(self)

    monkeypatch.setattr(_egress.EgressGuard, "__init__", recording_init)
    origin = site.removeprefix("http://")
    for path in ("/", "/redirect-in"):
        result = run_tool("html-to-image", [], {"url": site + path}, tmp_path)
        assert result.extra["httpStatus"] == 200
    assert len(guards) == 2 and all(guard.asked for guard in guards)
    assert {host for guard in guards for host in guard.asked} == {origin}
