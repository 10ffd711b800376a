"""Coverage-guided fuzzing (atheris) of the upload sniffer and of settings parsing.

    python -m tests.reliability.fuzz_sniff -runs=50000            # libFuzzer flags: -max_total_time=S ...

Properties: `service.sniff.sniff` never raises and answers a known kind; parsing a `settings` field and
validating it with a tool's model (`service.toolrun.validate_settings`) raises nothing but ApiError, for any
bytes and any tool. `one_input(data)` is the target; without atheris the test drives it with hypothesis.
"""

from __future__ import annotations

import json
import math
import struct
import sys

from protocols.errors import ApiError

SPECS: list = []


class Bytes:
    """A minimal FuzzedDataProvider, so the target runs under atheris or any byte generator."""

    def __init__(self, data: bytes) -> None:
        self.data, self.pos = data, 0

    def take(self, n: int) -> bytes:
        out = self.data[self.pos: self.pos + n]
        self.pos += len(out)
        return out

    def int(self, low: int, high: int) -> int:
        raw = int.from_bytes(self.take(4).ljust(4, b"\0"), "little")
        return low + raw % (high - low + 1)

    def text(self, max_len: int) -> str:
        return self.take(self.int(0, max_len)).decode("utf-8", "replace")

    def rest(self) -> bytes:
        return self.take(len(self.data))


def _value(src: Bytes, keys: list[str], depth: int = 0):
    kind = src.int(0, 11 if depth < 3 else 7)
    if kind == 0:
        return None
    if kind == 1:
        return bool(src.int(0, 1))
    if kind == 2:
        return src.int(-(2**31), 2**31) * (10 ** src.int(0, 30))
    if kind == 3:
        (value,) = struct.unpack("<d", src.take(8).ljust(8, b"\0"))
        return value
    if kind == 4:
        return [math.inf, -math.inf, math.nan, 1e308, -0.0, 0.5][src.int(0, 5)]
    if kind in (5, 6):
        return src.text(40)
    if kind == 7:
        return ["#ffffff", "1-3,5", "50%", "top-left", "png", "jpg", "mp4", "", " ", "0", "-1", "1e9"][src.int(0, 11)]
    if kind in (8, 9):
        return [_value(src, keys, depth + 1) for _ in range(src.int(0, 4))]
    return _settings(src, keys, depth + 1)


def _settings(src: Bytes, keys: list[str], depth: int = 0) -> dict:
    out = {}
    for _ in range(src.int(0, 6)):
        key = keys[src.int(0, len(keys) - 1)] if keys and src.int(0, 3) else src.text(12)
        out[key] = _value(src, keys, depth)
    return out


def one_input(data: bytes) -> None:
    from service.sniff import KIND_NAMES, sniff
    from service.toolrun import validate_settings
    from service.uploads import Upload, parse_json_field

    src = Bytes(data)
    mode = src.int(0, 3)
    if mode == 0:
        name = src.text(24)
        kind, fmt = sniff(src.rest()[:4096], name)
        assert kind in KIND_NAMES and isinstance(fmt, str), (kind, fmt)
        return
    spec = SPECS[src.int(0, len(SPECS) - 1)]
    keys = [k for name, f in spec.settings.model_fields.items() for k in (name, f.alias or name)]
    try:
        if mode == 1:  # structured: the model's own keys with hostile values
            validate_settings(spec, _settings(src, keys))
        elif mode == 2:  # any JSON document at all
            text = json.dumps(_value(src, keys), allow_nan=True)
            validate_settings(spec, parse_json_field(Upload(values={"settings": text}), "settings", {}))
        else:  # raw bytes as the multipart 'settings' field
            raw = src.rest().decode("utf-8", "replace")
            validate_settings(spec, parse_json_field(Upload(values={"settings": raw}), "settings", {}))
    except ApiError as err:
        assert err.status < 500 and err.message, err


MAGICS = [b"\xff\xd8\xff", b"\x89PNG\r\n\x1a\n", b"GIF89a", b"RIFF\0\0\0\0WEBP", b"II*\x00", b"MM\x00*", b"BM",
          b"\x00\x00\x01\x00", b"8BPS", b"\x00\x00\x00\x0cjP  \r\n\x87\n", b"\xff\x0a", b"\x00\x00\x00\x18ftypheic",
          b"\x00\x00\x00\x18ftypisom\x00\x00\x00\x00avif", b"\x00\x00\x00\x18ftypM4A ", b"\x1a\x45\xdf\xa3webm",
          b"RIFF\0\0\0\0AVI ", b"RIFF\0\0\0\0WAVE", b"FLV", b"fLaC", b"OggStheora", b"ID3", b"\xff\xfb", b"\xff\xf1",
          b"#!AM", b"caff", b"%PDF-", b"PK\x03\x04mimetypeapplication/epub+zip", b"PK\x03\x04[Content_Types].xml",
          b"PK\x05\x06", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", b"7z\xbc\xaf\x27\x1c", b"\x1f\x8b\x08", b"{\\rtf",
          b"<?xml version='1.0'?><svg", b"\xef\xbb\xbf<svg", b"<!DOCTYPE html>", b"{\"a\": 1}", b"\xff\xfe<\x00s\x00"]
NAMES = ["a.docx", "b.csv", "c.aac", "d.xlsx", "e.md", "f", ".yml", "g.doc"]


def seeds() -> list[bytes]:
    """Starting inputs: each magic as a sniff input (mode 0) under a few names, and settings documents."""
    out = []
    for i, magic in enumerate(MAGICS):
        name = NAMES[i % len(NAMES)].encode()
        out.append(b"\0\0\0\0" + bytes([len(name), 0, 0, 0]) + name + magic + bytes(range(64)))
    for mode in (1, 2, 3):
        for tool in range(0, 160, 7):
            out.append(bytes([mode, 0, 0, 0, tool, 0, 0, 0]) + b'{"width": 10, "quality": 200, "format": "x"}')
    return out


def load_specs() -> None:
    from actors import catalog

    SPECS[:] = [spec for _, spec in sorted(catalog.load().items())]


def main(argv: list[str]) -> None:
    import atheris

    with atheris.instrument_imports(include=["service", "protocols"]):
        import service.sniff  # noqa: F401
        import service.toolrun  # noqa: F401
        import service.uploads  # noqa: F401
    load_specs()
    if not any(not a.startswith("-") for a in argv[1:]):  # no corpus folder given: start from the seeds
        import tempfile
        from pathlib import Path

        folder = Path(tempfile.mkdtemp(prefix="lutra-fuzz-"))
        for i, seed in enumerate(seeds()):
            (folder / f"seed{i}").write_bytes(seed)
        argv = [*argv, str(folder)]
    atheris.Setup(argv, one_input)
    atheris.Fuzz()


if __name__ == "__main__":
    main(sys.argv)
