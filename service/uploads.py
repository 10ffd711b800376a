"""Streaming multipart uploads straight to disk (a compiled parser; no body held in memory), with the
size limit enforced as bytes arrive, safe file names, and magic-byte sniffing of every file."""

from __future__ import annotations

import errno
import math
import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import trio
from quart import current_app, request

from protocols.errors import ApiError, ErrorCode
from service.multipart import MultipartError, MultipartParser, boundary_of, parse_disposition
from service.sniff import HEAD_BYTES, sniff
from service.spool import WRITE_BUFFER, Spool

# file parts: the inputs, the tools' named second inputs, and remove-background/effects' `backgroundImage`
FILE_FIELDS = ("file", "files", "watermark", "overlay", "mask", "subtitle", "audio", "logo", "background",
               "backgroundImage")
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


class _FileSink:
    """Writes one file part to its own new file (a reused scratch file when there is a spool) and records
    it when closed."""

    __slots__ = ("upload", "item", "fh", "reused", "head")

    def __init__(self, upload: Upload, item: UploadedFile, spool: Spool | None) -> None:
        self.upload, self.item = upload, item
        if spool is None:
            self.fh, self.reused = open(item.path, "wb", buffering=WRITE_BUFFER), False  # noqa: SIM115 - closed in close()
        else:
            self.fh, self.reused = spool.open(item.path)
        self.head = bytearray()

    def write(self, chunk: bytes) -> None:
        self.fh.write(chunk)
        self.item.size += len(chunk)
        if len(self.head) < HEAD_BYTES:
            self.head += chunk[: HEAD_BYTES - len(self.head)]

    def close(self) -> None:
        if self.reused:
            self.fh.truncate()  # what a scratch file held past this upload's end
        self.fh.close()
        self.item.kind, self.item.format = sniff(bytes(self.head), self.item.name)
        self.upload.files.append(self.item)

    def abort(self) -> None:
        if not self.fh.closed:
            try:
                self.fh.close()
            except OSError:  # flushing a part that is discarded anyway (the disk is full): keep the first error
                pass


class _ValueSink:
    __slots__ = ("upload", "name", "data")

    def __init__(self, upload: Upload, name: str) -> None:
        self.upload, self.name, self.data = upload, name, bytearray()

    def write(self, chunk: bytes) -> None:
        self.data += chunk
        if len(self.data) > MAX_VALUE_BYTES:
            raise ApiError(ErrorCode.PAYLOAD_TOO_LARGE, f"The '{self.name}' field is too large.")

    def close(self) -> None:
        try:
            self.upload.values[self.name] = self.data.decode("utf-8")
        except UnicodeDecodeError:
            raise ApiError(ErrorCode.VALIDATION_ERROR, f"The '{self.name}' field is not UTF-8 text.") from None


class _Discard:
    __slots__ = ()

    def write(self, chunk: bytes) -> None:
        pass

    def close(self) -> None:
        pass


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


async def body_chunks():
    """The request body chunk by chunk; a body that stalls for READ_TIMEOUT_S between two chunks is a 408.
    (Hypercorn's own read timeout is off: it would also cut responses, such as progress streams, whose
    client stays quiet.)"""
    try:
        timeout = float(current_app.lutra.config.read_timeout_s) or math.inf
    except (AttributeError, RuntimeError):
        timeout = math.inf
    body = request.body.__aiter__()
    while True:
        with trio.move_on_after(timeout) as scope:
            try:
                chunk = await body.__anext__()
            except StopAsyncIteration:
                return
        if scope.cancelled_caught:
            raise ApiError(ErrorCode.TIMEOUT, f"The request body stalled for over {timeout:g} s.", status=408,
                           headers={"Connection": "close"})
        yield chunk


def insufficient_storage() -> ApiError:
    return ApiError(ErrorCode.INSUFFICIENT_STORAGE, "The server ran out of disk space; try again later.",
                    status=507, headers={"Retry-After": "60", "Connection": "close"})


async def receive_multipart(directory: Path, max_bytes: int, spool: Spool | None = None) -> Upload:
    """Parse the request body into files under `directory` (written over the spool's scratch files when
    one is given) and small text values."""
    content_type = request.headers.get("Content-Type", "")
    if not content_type.lower().startswith("multipart/form-data"):
        raise ApiError(ErrorCode.VALIDATION_ERROR, "Send the file as multipart/form-data (a 'file' part).")
    check_declared_size(max_bytes)
    try:
        boundary = boundary_of(content_type)
    except MultipartError:
        raise ApiError(ErrorCode.VALIDATION_ERROR, "The multipart body has no valid boundary.") from None
    try:
        directory.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        if err.errno in (errno.ENOSPC, errno.EDQUOT):
            raise insufficient_storage() from None
        raise
    upload = Upload()
    open_files: list[_FileSink] = []

    def on_part(headers: dict[str, str]):
        params = parse_disposition(headers.get("content-disposition", ""))
        name = params.get("name", "")
        if name in FILE_FIELDS:
            if len(upload.files) + len(open_files) >= MAX_FILES:
                raise ApiError(ErrorCode.VALIDATION_ERROR, f"Too many files in one request (max {MAX_FILES}).")
            index = len(upload.files)
            safe = safe_name(params.get("filename"), f"upload{index}")
            sink = _FileSink(upload, UploadedFile(path=directory / f"{index:04d}_{safe}", name=safe, field=name), spool)
            open_files.append(sink)
            return sink
        if name in VALUE_FIELDS:
            return _ValueSink(upload, name)
        return _Discard()

    parser = MultipartParser(boundary, on_part)
    try:
        async for chunk in body_chunks():
            upload.total_bytes += len(chunk)
            if max_bytes and upload.total_bytes > max_bytes + (1 << 20):
                raise too_large(max_bytes)
            parser.feed(chunk)
        parser.finish()
    except ApiError:
        raise
    except (MultipartError, UnicodeError) as err:
        raise ApiError(ErrorCode.VALIDATION_ERROR, "The multipart body is malformed.") from err
    except OSError as err:
        if err.errno in (errno.ENOSPC, errno.EDQUOT):
            raise insufficient_storage() from None
        raise
    finally:
        for sink in open_files:
            sink.abort()
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
