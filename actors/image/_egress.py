"""The capture browser's only way out: an HTTP proxy that checks the address of every connection.

The browser runs in a sandbox without a network (actors/sandbox/); its one door is a Unix socket in
the job's folder, served here, in the server process. For each connection (a CONNECT for https, an
absolute-URI request for http) the host is resolved once, every address is checked by _netguard
(public only, unless the admin's allowed_fetch_hosts names the host), and the proxy connects to that
very address: there is no second lookup a rebinding DNS server could answer differently. Redirects
and sub-requests are new connections, so each is checked the same way. Plain-http requests go one per
connection (Connection: close), so a reused proxy connection cannot carry a request to another host.
A refused connection is closed without an answer: the browser sees a failed load, never a page.
"""

from __future__ import annotations

import contextlib
import logging
from pathlib import Path
from urllib.parse import urlsplit

import trio

from actors.image import _netguard

log = logging.getLogger("lutra.image")

MAX_HEAD = 64 * 1024
MAX_CONNECTIONS = 64
CONNECT_TIMEOUT_S = 15
_HOP_HEADERS = {b"connection", b"proxy-connection", b"keep-alive", b"proxy-authorization", b"te", b"upgrade"}


class EgressGuard:
    def __init__(self, socket_path: Path, allowed_hosts: set[str]) -> None:
        self.socket_path = socket_path
        self.allowed = set(allowed_hosts)
        self.blocked: list[str] = []
        self.asked: list[str] = []  # every host:port the browser asked for, allowed or not
        self.connections = 0
        self._slots = trio.CapacityLimiter(MAX_CONNECTIONS)

    async def serve(self, *, task_status=trio.TASK_STATUS_IGNORED) -> None:
        listener = trio.socket.socket(trio.socket.AF_UNIX, trio.socket.SOCK_STREAM)
        with listener:
            await listener.bind(str(self.socket_path))
            listener.listen(MAX_CONNECTIONS)
            task_status.started()
            async with trio.open_nursery() as nursery:
                while True:
                    sock, _ = await listener.accept()
                    nursery.start_soon(self._serve_one, trio.SocketStream(sock))

    async def _serve_one(self, client: trio.SocketStream) -> None:
        async with client, self._slots:
            try:
                await self._relay(client)
            except (trio.BrokenResourceError, trio.ClosedResourceError, OSError, trio.TooSlowError, ValueError):
                pass

    async def _relay(self, client: trio.SocketStream) -> None:
        head, rest = await _read_head(client)
        if head is None:
            return
        lines = head.split(b"\r\n")
        method, target, _version = lines[0].decode("latin-1").split(" ", 2)
        if method == "CONNECT":
            host, _, port_text = target.rpartition(":")
            port, forward = int(port_text), None
        else:
            parts = urlsplit(target)
            if parts.scheme != "http" or not parts.hostname:
                self._refuse(target)
                return
            host, port = parts.hostname, parts.port or 80
            path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
            headers = [h for h in lines[1:] if h and h.split(b":", 1)[0].strip().lower() not in _HOP_HEADERS]
            forward = b"\r\n".join([f"{method} {path} HTTP/1.1".encode("latin-1"), *headers,
                                    b"Connection: close", b"", b""]) + rest
        self.asked.append(f"{host}:{port}"[:200])
        try:
            addresses = await trio.to_thread.run_sync(_netguard.checked_addresses, host, port, self.allowed)
        except _netguard.Blocked:
            self._refuse(f"{host}:{port}")
            return
        upstream = None
        with trio.move_on_after(CONNECT_TIMEOUT_S):
            for address in addresses:  # the checked addresses themselves: no second lookup
                with contextlib.suppress(OSError):
                    upstream = await trio.open_tcp_stream(str(address), port)
                    break
        if upstream is None:
            return
        self.connections += 1
        async with upstream:
            if forward is None:
                await client.send_all(b"HTTP/1.1 200 Connection established\r\n\r\n")
                if rest:
                    await upstream.send_all(rest)
            else:
                await upstream.send_all(forward)
            async with trio.open_nursery() as nursery:
                nursery.start_soon(_pipe, client, upstream, nursery.cancel_scope)
                nursery.start_soon(_pipe, upstream, client, nursery.cancel_scope)

    def _refuse(self, what: str) -> None:
        self.blocked.append(what[:200])
        log.info("capture: refused a connection to %s", what[:200])


async def _read_head(stream: trio.SocketStream) -> tuple[bytes | None, bytes]:
    data = b""
    with trio.fail_after(CONNECT_TIMEOUT_S):
        while b"\r\n\r\n" not in data:
            chunk = await stream.receive_some(16384)
            if not chunk:
                return None, b""
            data += chunk
            if len(data) > MAX_HEAD:
                return None, b""
    head, _, rest = data.partition(b"\r\n\r\n")
    return head, rest


async def _pipe(source: trio.SocketStream, sink: trio.SocketStream, scope: trio.CancelScope) -> None:
    try:
        while chunk := await source.receive_some(65536):
            await sink.send_all(chunk)
    except (trio.BrokenResourceError, trio.ClosedResourceError, OSError):
        pass
    finally:
        scope.cancel()
