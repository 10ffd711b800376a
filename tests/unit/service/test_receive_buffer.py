"""The pass-through receive buffer: h11 with it produces exactly the events (and errors) of stock h11, for
any split of the bytes into received chunks; whole body chunks reach the reader without a copy."""

from __future__ import annotations

import random

import h11
import pytest

from service import receive_buffer
from service.receive_buffer import PassThroughBuffer


def events(data: bytes, cuts: list[int], passthrough: bool, max_size: int = 16 * 1024) -> list:
    conn = h11.Connection(h11.SERVER, max_incomplete_event_size=max_size)
    if passthrough:
        conn._receive_buffer = PassThroughBuffer()
    out: list = []
    pieces = [data[a:b] for a, b in zip([0, *cuts], [*cuts, len(data)], strict=True)]
    try:
        for piece in [*pieces, b""]:
            conn.receive_data(piece)
            while True:
                event = conn.next_event()
                if event is h11.NEED_DATA:
                    break
                if event is h11.PAUSED:  # a full request read: answer it and go on (keep-alive)
                    break
                if isinstance(event, h11.Data):
                    if out and out[-1][0] == "data":
                        out[-1] = ("data", out[-1][1] + bytes(event.data))
                    else:
                        out.append(("data", bytes(event.data)))
                    continue
                out.append(repr(event))
                if isinstance(event, h11.EndOfMessage):
                    conn.send(h11.Response(status_code=200, headers=[("Content-Length", "0")]))
                    conn.send(h11.EndOfMessage())
                    conn.start_next_cycle()
                if isinstance(event, h11.ConnectionClosed):
                    return out
    except h11.RemoteProtocolError as error:
        out.append(("error", str(error), error.error_status_hint))
    out.append(("trailing", conn.trailing_data))
    return out


def request(body: bytes, chunked: bool = False) -> bytes:
    if chunked:
        framed = b"".join(b"%x\r\n%s\r\n" % (len(part), part) for part in (body[:7], body[7:])) + b"0\r\n\r\n"
        return b"POST /up HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n" + framed
    return b"POST /up HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n" % len(body) + body


CASES = {
    "content-length": request(bytes(range(256)) * 40),
    "pipelined": request(b"a" * 5000) + request(b"b" * 3000) + b"GET / HTTP/1.1\r\nHost: x\r\n\r\n",
    "chunked": request(b"0123456789" * 500, chunked=True),
    "empty body": request(b""),
    "bad request line": b"\x16\x03\x01 junk\r\n\r\n",
    "bad header": b"POST / HTTP/1.1\r\nHost x\r\n\r\n",
    "headers too large": b"GET / HTTP/1.1\r\nX: " + b"a" * 20000 + b"\r\n\r\n",
    "truncated body": request(b"z" * 1000)[:-10],
}


@pytest.mark.parametrize("name", list(CASES))
def test_same_events_as_stock_h11_for_any_split(name):
    data = CASES[name]
    rng = random.Random(name)
    splits = [[], [len(data) // 2], list(range(1, len(data), 997))]
    splits += [sorted(rng.sample(range(1, len(data)), min(len(data) - 1, k))) for k in (1, 3, 9) for _ in range(4)]
    for cuts in splits:
        stock = events(data, cuts, passthrough=False)
        assert events(data, cuts, passthrough=True) == stock, (name, cuts)
        assert stock  # something was parsed or refused


def test_a_whole_body_chunk_is_handed_on_without_a_copy():
    conn = h11.Connection(h11.SERVER)
    conn._receive_buffer = PassThroughBuffer()
    head = b"POST /up HTTP/1.1\r\nHost: x\r\nContent-Length: 300000\r\n\r\n"
    conn.receive_data(head)
    assert isinstance(conn.next_event(), h11.Request)
    chunks = [bytes([i]) * 100000 for i in range(3)]
    for chunk in chunks:
        conn.receive_data(chunk)
        event = conn.next_event()
        assert isinstance(event, h11.Data) and event.data is chunk
    assert isinstance(conn.next_event(), h11.EndOfMessage)


def test_installed_only_for_the_checked_h11(monkeypatch):
    from h11 import _connection

    monkeypatch.setattr(_connection, "ReceiveBuffer", _connection.ReceiveBuffer)
    assert receive_buffer.install() is (h11.__version__ in receive_buffer.CHECKED_H11)
    monkeypatch.setattr(h11, "__version__", "9.9.9")
    monkeypatch.setattr(_connection, "ReceiveBuffer", h11._receivebuffer.ReceiveBuffer)
    assert receive_buffer.install() is False
    assert _connection.ReceiveBuffer is h11._receivebuffer.ReceiveBuffer
