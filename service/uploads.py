"""Streaming multipart uploads straight to disk (a compiled parser; no body held in memory), with the
size limit enforced as bytes arrive, safe file names, and magic-byte sniffing of every file."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from quart import request
from streaming_form_data import StreamingFormDataParser
from streaming_form_data.targets import BaseTarget

from protocols.errors import ApiError, ErrorCode
from service.sniff import HEAD_BYTES, sniff

FILE_FIELDS = ("file", "files", "watermark", "overlay", "mask", "subtitle", "audio", "logo", "background")
VALUE_FIELDS = ("settings", "pipeline", "fileId", "toolId", "parentId", "jobId", "filename", "name")
MAX_VALUE_BYTES = 1 << 20
MAX_FILES = 1000


@dataclass(slots=True)
class UploadedFile:
    path: Path
    name: str  # the client's name, made safe
    field: str
    size: int = 0
    kind: str = ""
    format: str = ""


@dataclass(slots=True)
class Upload:
    files: list[UploadedFile] = field(default_factory=list)
    values: dict[str, str] = field(default_factory=dict)
    total_bytes: int = 0

    def files_named(self, *fields: str) -> list[UploadedFile]:
        return [f for f in self.files if f.field in fields]


_UNSAFE = re.compile(r"[^\w.\- ()+,@=]+", re.UNICODE)


def safe_name(name: str | None, fallback: str = "upload") -> str:
    """A file name with no directory parts, control characters or leading dots; at most 180 chars."""
    text = unicodedata.normalize("NFC", name or "")
    text = text.replace("\\", "/").rsplit("/", 1)[-1]
    text = _UNSAFE.sub("_", text).strip(" .")
    if not text or text in (".", ".."):
        return fallback
    if len(text) > 180:
        stem, dot, ext = text.rpartition(".")
        text = (stem[: 170] + dot + ext[:9]) if dot else text[:180]
    return text


class _SpoolTarget(BaseTarget):
    """Writes each part it receives to its own new file."""

    def __init__(self, upload: Upload, directory: Path, field_name: str) -> None:
        super().__init__()
        self.upload, self.directory, self.field_name = upload, directory, field_name
        self._fh = None
        self._current: UploadedFile | None = None
        self._head = bytearray()

    def on_start(self) -> None:
        if len(self.upload.files) >= MAX_FILES:
            raise ApiError(ErrorCode.VALIDATION_ERROR, f"Too many files in one request (max {MAX_FILES}).")
        index = len(self.upload.files)
        name = safe_name(self.multipart_filename, f"upload{index}")
        path = self.directory / f"{index:04d}_{name}"
        self._current = UploadedFile(path=path, name=name, field=self.field_name)
        self._head = bytearray()
        self._fh = open(path, "wb", buffering=1 << 20)  # noqa: SIM115 - closed in on_finish

    def on_data_received(self, chunk: bytes) -> None:
        assert self._fh is not None and self._current is not None
        self._fh.write(chunk)
        self._current.size += len(chunk)
        if len(self._head) < HEAD_BYTES:
            self._head += chunk[: HEAD_BYTES - len(self._head)]

    def on_finish(self) -> None:
        assert self._fh is not None and self._current is not None
        self._fh.close()
        self._fh = None
        kind, fmt = sniff(bytes(self._head), self._current.name)
        self._current.kind, self._current.format = kind, fmt
        self.upload.files.append(self._current)
        self._current = None

    def abort(self) -> None:
        if self._fh is not None:
            self._fh.close()
            self._fh = None


class _ValueTarget(BaseTarget):
    def __init__(self, upload: Upload, field_name: str) -> None:
        super().__init__()
        self.upload, self.field_name = upload, field_name
        self._data = bytearray()

    def on_start(self) -> None:
        self._data = bytearray()

    def on_data_received(self, chunk: bytes) -> None:
        self._data += chunk
        if len(self._data) > MAX_VALUE_BYTES:
            raise ApiError(ErrorCode.PAYLOAD_TOO_LARGE, f"The '{self.field_name}' field is too large.")

    def on_finish(self) -> None:
        try:
            self.upload.values[self.field_name] = self._data.decode("utf-8")
        except UnicodeDecodeError:
            raise ApiError(ErrorCode.VALIDATION_ERROR, f"The '{self.field_name}' field is not UTF-8 text.") from None


def check_declared_size(max_bytes: int) -> None:
    """Refuse an oversized body from its Content-Length, before reading a byte of it."""
    length = request.headers.get("Content-Length")
    if max_bytes and length and length.isdigit() and int(length) > max_bytes + (1 << 20):
        raise too_large(max_bytes)


def too_large(max_bytes: int) -> ApiError:
    # the rest of the body is never read, so the connection cannot be reused: tell the client
    return ApiError(
        ErrorCode.PAYLOAD_TOO_LARGE, f"The upload is larger than this server's limit of {max_bytes / 1048576:g} MB.",
        headers={"Connection": "close"},
    )


async def receive_multipart(directory: Path, max_bytes: int) -> Upload:
    """Parse the request body into files under `directory` and small text values."""
    content_type = request.headers.get("Content-Type", "")
    if not content_type.lower().startswith("multipart/form-data"):
        raise ApiError(ErrorCode.VALIDATION_ERROR, "Send the file as multipart/form-data (a 'file' part).")
    check_declared_size(max_bytes)
    directory.mkdir(parents=True, exist_ok=True)
    upload = Upload()
    try:
        parser = StreamingFormDataParser(headers={"Content-Type": content_type})
    except Exception:
        raise ApiError(ErrorCode.VALIDATION_ERROR, "The multipart body has no valid boundary.") from None
    spools = [_SpoolTarget(upload, directory, name) for name in FILE_FIELDS]
    for target in spools:
        parser.register(target.field_name, target)
    for name in VALUE_FIELDS:
        parser.register(name, _ValueTarget(upload, name))
    try:
        async for chunk in request.body:
            upload.total_bytes += len(chunk)
            if max_bytes and upload.total_bytes > max_bytes + (1 << 20):
                raise too_large(max_bytes)
            parser.data_received(chunk)
    except ApiError:
        raise
    except Exception as err:
        raise ApiError(ErrorCode.VALIDATION_ERROR, "The multipart body is malformed.") from err
    finally:
        for target in spools:
            target.abort()
    if max_bytes and any(f.size > max_bytes for f in upload.files):
        raise too_large(max_bytes)
    return upload


def parse_json_field(upload: Upload, name: str, default: Any = None) -> Any:
    import json

    raw = upload.values.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        return json.loads(raw)
    except ValueError:
        raise ApiError(ErrorCode.VALIDATION_ERROR, f"The '{name}' field is not valid JSON.") from None
