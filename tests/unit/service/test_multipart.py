"""The streaming multipart parser: any chunking gives the same parts; malformed bodies are errors."""

from __future__ import annotations

import pytest

from service.multipart import MultipartError, MultipartParser, boundary_of, parse_disposition


class Sink:
    def __init__(self, parts, headers):
        self.parts, self.headers, self.data, self.closed = parts, headers, bytearray(), False
        parts.append(self)

    def write(self, chunk):
        assert not self.closed
        self.data += chunk

    def close(self):
        self.closed = True


def body(boundary: str, parts: list[tuple[str, bytes]]) -> bytes:
    out = b"preamble to ignore\r\n"
    for disposition, data in parts:
        out += f"--{boundary}\r\nContent-Disposition: {disposition}\r\nContent-Type: application/octet-stream\r\n\r\n".encode()
        out += data + b"\r\n"
    return out + f"--{boundary}--\r\nepilogue".encode()


def parse(raw: bytes, boundary: str, step: int):
    parts = []
    parser = MultipartParser(boundary.encode(), lambda headers: Sink(parts, headers))
    for i in range(0, len(raw), step):
        parser.feed(raw[i : i + step])
    parser.finish()
    return parts


PAYLOAD = bytes(range(256)) * 3 + b"\r\n--almost-boundary\r\n--x\r\n-" + b"\r\n--"


@pytest.mark.parametrize("step", [1, 2, 3, 5, 7, 13, 64, 1000, 1 << 20])
def test_any_chunking_gives_the_same_parts(step):
    raw = body("xb", [('form-data; name="settings"', b'{"a": 1}'),
                      ('form-data; name="file"; filename="a b.jpg"', PAYLOAD),
                      ('form-data; name="files"; filename="empty.bin"', b"")])
    parts = parse(raw, "xb", step)
    assert [bytes(p.data) for p in parts] == [b'{"a": 1}', PAYLOAD, b""]
    assert all(p.closed for p in parts)
    assert parse_disposition(parts[1].headers["content-disposition"]) == {"name": "file", "filename": "a b.jpg"}


def test_body_starting_with_the_boundary_and_utf8_names():
    raw = ('--b\r\nContent-Disposition: form-data; name="file"; filename="fötö.png"\r\n\r\nX\r\n--b--\r\n').encode()
    parts = parse(raw, "b", 4)
    assert parse_disposition(parts[0].headers["content-disposition"])["filename"] == "fötö.png"


@pytest.mark.parametrize("step", [1, 2, 5, 1 << 20])
def test_transport_padding_after_a_delimiter(step):
    raw = (b'--b \t \r\nContent-Disposition: form-data; name="a"\r\n\r\none\r\n--b\t\r\n'
           b'Content-Disposition: form-data; name="b"\r\n\r\ntwo\r\n--b--\r\n')
    assert [bytes(p.data) for p in parse(raw, "b", step)] == [b"one", b"two"]
    with pytest.raises(MultipartError):
        parse(raw.replace(b"--b\t\r\n", b"--b\tX\r\n"), "b", step)


def test_disposition_parameters():
    assert parse_disposition('form-data; name="a\\"b"; filename="x;y.jpg"') == {"name": 'a"b', "filename": "x;y.jpg"}
    assert parse_disposition("form-data; name=plain; filename*=UTF-8''%E2%82%AC.txt") == {"name": "plain",
                                                                                        "filename": "€.txt"}


def test_boundary_from_content_type():
    assert boundary_of('multipart/form-data; boundary="a b"') == b"a b"
    assert boundary_of("multipart/form-data; charset=utf-8; boundary=xyz") == b"xyz"
    with pytest.raises(MultipartError):
        boundary_of("multipart/form-data")


@pytest.mark.parametrize("raw", [
    b"--b\r\nContent-Disposition: form-data; name=\"f\"\r\n\r\nno end",  # truncated
    b"just text, no boundary at all",
    b"--b\r\n" + b"X-Long: " + b"a" * 20000,  # endless headers
    b"--b\r\nno colon here\r\n\r\ndata\r\n--b--",
])
def test_malformed_bodies(raw):
    with pytest.raises(MultipartError):
        parse(raw, "b", 7)


def test_random_payloads_and_chunkings_round_trip():
    import random

    rng = random.Random(7)
    boundary = "----WebKitFormBoundary7MA4YWxkTrZu0gW"
    near_miss = b"\r\n--" + boundary.encode()[:-1]
    for _ in range(30):
        payloads = [bytes(rng.getrandbits(8) for _ in range(rng.randint(0, 3000))) + near_miss * rng.randint(0, 2)
                    for _ in range(rng.randint(1, 4))]
        raw = body(boundary, [(f'form-data; name="files"; filename="f{i}.bin"', p) for i, p in enumerate(payloads)])
        step = rng.choice([1, 3, 17, 41, 100, 999, 4096])
        assert [bytes(p.data) for p in parse(raw, boundary, step)] == payloads
