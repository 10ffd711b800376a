"""The file library: files kept under DATA_DIR/files/<id>/ (never swept), rows in the `files` table,
version chains (root_id = first version), per-user quota, cached thumbnails, the browser preview,
and the auto-save of a tool result into a chain.

Decoding untrusted files (thumbnails, previews) runs in worker processes, never on the event loop.
"""

from __future__ import annotations

import json
import logging
import mimetypes
import os
import struct
import subprocess
import threading
import time
import uuid
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import trio
import trio_parallel

from actors import sandbox
from actors.store.repos import files as stored_files
from protocols.errors import ApiError, ErrorCode, ToolError
from protocols.jobs import JobState
from service.sniff import HEAD_BYTES, sniff
from service.storage import LocalStorage
from service.uploads import Upload, safe_name

log = logging.getLogger("lutra.library")

THUMB_WIDTH = 300
THUMB_NAME = ".thumbnail.jpg"
PREVIEW_BOX = 1200

MIME_BY_FORMAT = {
    "jpeg": "image/jpeg", "png": "image/png", "gif": "image/gif", "webp": "image/webp", "tiff": "image/tiff",
    "bmp": "image/bmp", "ico": "image/x-icon", "psd": "image/vnd.adobe.photoshop", "jp2": "image/jp2",
    "jxl": "image/jxl", "heic": "image/heic", "avif": "image/avif", "svg": "image/svg+xml",
    "mp4": "video/mp4", "mov": "video/quicktime", "webm": "video/webm", "mkv": "video/x-matroska",
    "avi": "video/x-msvideo", "flv": "video/x-flv", "mpeg": "video/mpeg", "ts": "video/mp2t", "ogv": "video/ogg",
    "m4a": "audio/mp4", "wav": "audio/wav", "flac": "audio/flac", "ogg": "audio/ogg", "mp3": "audio/mpeg",
    "aac": "audio/aac", "amr": "audio/amr", "caf": "audio/x-caf",
    "pdf": "application/pdf", "zip": "application/zip", "epub": "application/epub+zip",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "pptx": "application/vnd.openxmlformats-officedocument.presentationml.presentation",
    "csv": "text/csv", "json": "application/json", "txt": "text/plain", "xml": "application/xml",
    "md": "text/markdown", "html": "text/html",
}


# ---- who sees what ----------------------------------------------------------------------------

def sees_all(principal) -> bool:
    return principal.is_admin or principal.can("files:all")


def can_see(principal, owner_id: str | None) -> bool:
    return sees_all(principal) or owner_id == principal.user_id


def iso(ts: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(ts)) + f".{int(ts * 1000) % 1000:03d}Z"


def file_json(row: Any) -> dict[str, Any]:
    return {
        "id": row.id,
        "originalName": row.original_name,
        "mimeType": row.mime_type,
        "size": row.size,
        "width": row.width,
        "height": row.height,
        "version": row.version,
        "parentId": row.parent_id,
        "toolChain": list(row.tool_chain or []),
        "createdAt": iso(row.created_at),
    }


# ---- probing and rendering (in worker processes) -------------------------------------------------

def kind_of(path: Path, name: str = "") -> tuple[str, str]:
    with open(path, "rb") as fh:
        return sniff(fh.read(HEAD_BYTES), name or path.name)


def probe(path: str, name: str) -> tuple[str, int | None, int | None]:
    """(mime type, width, height) of a stored file; dimensions for images and videos only."""
    kind, fmt = kind_of(Path(path), name)
    mime = MIME_BY_FORMAT.get(fmt) or mimetypes.guess_type(name)[0] or "application/octet-stream"
    width = height = None
    if kind in ("image", "svg"):
        try:
            import pyvips

            image = pyvips.Image.new_from_file(path)  # header only: pixels are decoded lazily
            width, height = image.width, image.height
        except Exception:
            try:
                img = _pil_open(path)
                width, height = img.size
            except Exception:
                pass
    elif kind == "video":
        try:
            done = sandbox.run(
                ["ffprobe", "-v", "error", "-select_streams", "v:0", "-show_entries", "stream=width,height",
                 "-of", "json", path], timeout=30, readable=[Path(path)])
            streams = json.loads(done.stdout or b"{}").get("streams") or []
            if streams:
                width, height = streams[0].get("width"), streams[0].get("height")
        except (subprocess.TimeoutExpired, ValueError, OSError):
            pass
    return mime, width, height


def _pil_open(path: str):
    from PIL import Image

    try:
        import pillow_heif

        pillow_heif.register_heif_opener()
    except ImportError:  # pragma: no cover - pillow-heif is a core dependency
        pass
    return Image.open(path)


# Camera RAW files by name. Most are TIFF underneath, so libvips would "decode" them as the undemosaiced
# sensor mosaic (or a tiny embedded thumbnail): rawpy (LibRaw) goes first for these.
RAW_SUFFIXES = frozenset({".dng", ".cr2", ".cr3", ".crw", ".nef", ".nrw", ".arw", ".srf", ".sr2", ".raf", ".orf",
                          ".rw2", ".rwl", ".pef", ".srw", ".x3f", ".3fr", ".erf", ".kdc", ".dcr", ".mrw", ".mos",
                          ".iiq", ".mef"})
_DNG_VERSION_TAG = 50706


def is_camera_raw(path: str) -> bool:
    """A camera RAW: by its name, or a DNG under any name (a TIFF whose first IFD carries DNGVersion)."""
    if Path(path).suffix.lower() in RAW_SUFFIXES:
        return True
    try:
        with open(path, "rb") as fh:
            head = fh.read(8)
            if head[:4] not in (b"II*\x00", b"MM\x00*"):
                return False
            order = "<" if head[:2] == b"II" else ">"
            fh.seek(struct.unpack(order + "I", head[4:8])[0])
            (count,) = struct.unpack(order + "H", fh.read(2))
            entries = fh.read(12 * min(count, 1000))
        return any(struct.unpack_from(order + "H", entries, i)[0] == _DNG_VERSION_TAG
                   for i in range(0, len(entries) - 11, 12))
    except (OSError, struct.error):
        return False


def _tiff_based(path: str) -> bool:
    try:
        with open(path, "rb") as fh:
            return fh.read(4) in (b"II*\x00", b"MM\x00*")
    except OSError:
        return False


def _has_rawpy() -> bool:
    import importlib.util

    return importlib.util.find_spec("rawpy") is not None


def _load_camera_raw(path: str, width: int, height: int, size: str, max_pixels: float):
    """A demosaiced, white-balanced camera RAW (rawpy, half size: plenty for a preview), or None."""
    try:
        import numpy
        import pyvips
        import rawpy
    except ImportError:  # pragma: no cover - rawpy comes with deps/preview.pip
        return None
    try:
        with rawpy.imread(path) as raw:
            if max_pixels and raw.sizes.raw_width * raw.sizes.raw_height > max_pixels:
                raise ToolError("The image is too large to preview.", ErrorCode.PAYLOAD_TOO_LARGE, 413)
            rgb = numpy.ascontiguousarray(raw.postprocess(use_camera_wb=True, half_size=True, output_bps=8))
    except ApiError:
        raise
    except Exception:  # not a RAW LibRaw can read (rawpy.LibRawError and friends)
        return None
    image = pyvips.Image.new_from_memory(rgb.tobytes(), rgb.shape[1], rgb.shape[0], rgb.shape[2], "uchar")
    return image.copy(interpretation="srgb").thumbnail_image(width, height=height, size=size)


def _load_any_image(path: str, width: int, height: int, size: str, max_pixels: float):
    """A pyvips image scaled into width x height (`size` as pyvips.thumbnail), from whatever decoder works:
    rawpy for camera RAW, libvips (shrink-on-load), Pillow with pillow-heif."""
    import pyvips

    if is_camera_raw(path):
        image = _load_camera_raw(path, width, height, size, max_pixels)
        if image is not None:
            return image
        if _tiff_based(path) and _has_rawpy():
            return None  # a RAW LibRaw cannot read (cut short...): libvips would show the bare sensor mosaic
    try:
        header = pyvips.Image.new_from_file(path)
        if max_pixels and header.width * header.height > max_pixels:
            raise ToolError("The image is too large to preview.", ErrorCode.PAYLOAD_TOO_LARGE, 413)
        # decode now (pixels are lazy): a codec libvips lacks (HEVC) fails here, not at save time
        return pyvips.Image.thumbnail(path, width, height=height, size=size).copy_memory()
    except pyvips.Error:
        pass
    pil = None
    try:
        img = _pil_open(path)
        if max_pixels and img.size[0] * img.size[1] > max_pixels:
            raise ToolError("The image is too large to preview.", ErrorCode.PAYLOAD_TOO_LARGE, 413)
        img.draft("RGB", (width, min(height, 65535)))
        pil = img.convert("RGBA" if "A" in img.getbands() else "RGB")
    except ApiError:
        raise
    except Exception:
        pil = None
    if pil is None:  # a RAW under a name that does not say so (CR3, RAF ... are not TIFF)
        return _load_camera_raw(path, width, height, size, max_pixels)
    image = pyvips.Image.new_from_memory(pil.tobytes(), pil.size[0], pil.size[1], len(pil.getbands()), "uchar")
    image = image.copy(interpretation="srgb")
    return image.thumbnail_image(width, height=height, size=size)


def _normalise(image, flatten: bool):
    if image.interpretation not in ("srgb", "b-w"):
        try:
            image = image.colourspace("srgb")
        except Exception:
            pass
    if flatten and image.hasalpha():
        image = image.flatten(background=[255, 255, 255])
    if image.format != "uchar":
        image = image.cast("uchar")
    return image


def render_thumbnail(src: str, kind: str, dest: str, max_pixels: float) -> bool:
    """A 300 px wide JPEG of an image, the first page of a PDF or the first frame of a video."""
    # a temp name of its own: a page asks for the same thumbnail twice at once (the card and the version
    # list), and two renders into one temp file lost the race on the rename (422)
    tmp = f"{dest}.{os.getpid()}-{threading.get_ident()}.tmp"
    if kind in ("image", "svg"):
        image = _load_any_image(src, THUMB_WIDTH, 1_000_000, "both", max_pixels)
        if image is None:
            return False
        image = _normalise(image, flatten=True)
        if image.width != THUMB_WIDTH:
            image = image.resize(THUMB_WIDTH / image.width)
        image.jpegsave(tmp, Q=80, keep="none")
    elif kind == "pdf":
        if not _pdf_first_page(src, tmp):
            return False
    elif kind == "video":
        try:
            done = sandbox.run(
                ["ffmpeg", "-nostdin", "-v", "error", "-y", "-i", src, "-frames:v", "1",
                 "-vf", f"scale={THUMB_WIDTH}:-2", "-f", "image2", "-c:v", "mjpeg", "-q:v", "4", tmp],
                timeout=60, readable=[Path(src)], writable=[Path(tmp).parent])
        except subprocess.TimeoutExpired:
            return False
        if done.returncode != 0 or not os.path.exists(tmp):
            return False
    else:
        return False
    os.replace(tmp, dest)
    return True


def _pdf_first_page(src: str, tmp: str) -> bool:
    try:
        import pypdfium2 as pdfium

        pdf = pdfium.PdfDocument(src)
        try:
            page = pdf[0]
            width, _height = page.get_size()
            pil = page.render(scale=THUMB_WIDTH / max(1.0, width)).to_pil().convert("RGB")
        finally:
            pdf.close()
        if pil.size[0] != THUMB_WIDTH:
            pil = pil.resize((THUMB_WIDTH, max(1, round(pil.size[1] * THUMB_WIDTH / pil.size[0]))))
        pil.save(tmp, "JPEG", quality=80)
        return True
    except Exception:
        pass
    try:  # poppler as a fallback
        stem = tmp + ".pdftoppm"
        done = sandbox.run(
            ["pdftoppm", "-f", "1", "-l", "1", "-singlefile", "-jpeg", "-scale-to-x", str(THUMB_WIDTH),
             "-scale-to-y", "-1", src, stem], timeout=60, readable=[Path(src)], writable=[Path(stem).parent])
        if done.returncode == 0 and os.path.exists(stem + ".jpg"):
            os.replace(stem + ".jpg", tmp)
            return True
    except subprocess.TimeoutExpired:
        pass
    return False


def render_preview(src: str, dest: str, max_pixels: float) -> bool:
    """A browser-friendly WebP inside 1200x1200 (HEIC/HEIF, RAW, TIFF, PSD ... anything we can decode)."""
    image = _load_any_image(src, PREVIEW_BOX, PREVIEW_BOX, "down", max_pixels)
    if image is None:
        return False
    _normalise(image, flatten=False).webpsave(dest, Q=82, keep="none")
    return True


_decode_limiter = trio.CapacityLimiter(2)


async def in_worker(fn, *args):
    """Run an untrusted decode in a worker process (a native crash fails the request, not the server)."""
    return await trio_parallel.run_sync(fn, *args, kill_on_cancel=True, limiter=_decode_limiter)


# ---- the library ----------------------------------------------------------------------------------

@dataclass(slots=True)
class NewFile:
    path: Path  # where the bytes are now
    name: str  # the name to keep (made safe)
    copy: bool = False  # copy (a job result that stays downloadable) or move (a fresh upload)


class Library:
    def __init__(self, config, store) -> None:
        self.config = config
        self.store = store
        self.root = config.storage / "files"  # shared by every node (STORAGE_ROOT)
        self.files = LocalStorage(self.root)  # keys: <fileId>/<stored name>

    def dir_for(self, file_id: str) -> Path:
        return self.files.local_path(file_id)

    def path_of(self, row: Any) -> Path:
        return self.dir_for(row.id) / row.stored_name

    @property
    def quota_bytes(self) -> int:
        return int(self.config.max_storage_per_user_mb * 1048576)

    async def used_bytes(self, owner_id: str | None) -> int:
        return await self.store.call(stored_files.used_bytes, owner_id)

    async def add(self, owner_id: str | None, items: list[NewFile], *, parent: Any = None,
                  tools: list[str] | None = None) -> list[Any]:
        """Store the files and their rows, all or nothing, within the owner's quota. With `parent`, each
        becomes the next version of the parent's chain; `tools` are appended to its toolChain."""
        placed: list[str] = []
        rows: list[dict[str, Any]] = []
        try:
            now = time.time()
            for item in items:
                file_id = str(uuid.uuid4())
                placed.append(file_id)
                name = safe_name(item.name, "file")
                key = f"{file_id}/{name}"
                size = await trio.to_thread.run_sync(partial(self.files.put, key, item.path, move=not item.copy))
                target = self.files.local_path(key)
                mime, width, height = await in_worker(probe, str(target), name)
                chain = list(parent.tool_chain or []) if parent is not None else []
                chain.extend(t for t in (tools or []) if t)
                rows.append({
                    "id": file_id, "owner_id": parent.owner_id if parent is not None else owner_id,
                    "root_id": parent.root_id if parent is not None else file_id,
                    "parent_id": parent.id if parent is not None else None, "version": 1,
                    "original_name": name, "stored_name": name, "mime_type": mime, "size": size,
                    "width": width, "height": height, "tool_chain": chain, "created_at": now,
                })
            try:
                return await self.store.call(stored_files.add_within_quota, rows, self.quota_bytes)
            except stored_files.OverQuota as over:
                raise quota_error(over.used, over.adding, over.quota) from None
        except BaseException:
            for file_id in placed:
                self.files.delete_prefix(f"{file_id}/")
            raise

    async def check_quota(self, owner_id: str | None, adding: int) -> None:
        """An early refusal (before bytes are moved); the insert re-checks inside its transaction."""
        quota = self.quota_bytes
        if quota > 0:
            used = await self.used_bytes(owner_id)
            if used + adding > quota:
                raise quota_error(used, adding, quota)

    async def remove_orphans(self) -> int:
        """At start-up: folders under files/ without a row (an upload cut short by a crash between moving
        the bytes and committing the row) are unreachable; remove them. Rows are never touched."""
        if not self.root.is_dir():
            return 0
        known = await self.store.call(stored_files.all_ids)

        # with several nodes on one storage, another node may be between moving a file and committing its
        # row right now: only folders untouched for an hour are orphans there
        settled = time.time() - 3600 if self.config.clustered else None

        def sweep() -> int:
            orphans = {obj.key.split("/", 1)[0] for obj in self.files.list()} - known
            removed = 0
            for file_id in orphans:
                try:
                    if settled is not None and self.dir_for(file_id).stat().st_mtime > settled:
                        continue
                except FileNotFoundError:
                    continue
                self.files.delete_prefix(f"{file_id}/")
                removed += 1
            return removed

        removed = await trio.to_thread.run_sync(sweep)
        if removed:
            log.warning("removed %d library folders left without a database row", removed)
        return removed

    async def get(self, file_id: str) -> Any:
        return await self.store.call(stored_files.by_id, file_id)

    async def visible(self, principal, file_id: Any) -> Any:
        """The file row, or 404 for an unknown or foreign id (foreign files are not revealed)."""
        row = await self.get(file_id) if isinstance(file_id, str) and 0 < len(file_id) <= 64 else None
        if row is None or not can_see(principal, row.owner_id):
            raise ApiError(ErrorCode.NOT_FOUND, "No such file in the library.")
        return row

    async def list(self, principal, search: str, limit: int, offset: int) -> tuple[list[Any], int]:
        everyone = sees_all(principal)
        return await self.store.call(stored_files.latest, principal.user_id, everyone, search, limit, offset)

    async def versions(self, root_id: str) -> list[Any]:
        return await self.store.call(stored_files.chain, root_id)

    async def delete(self, principal, ids: list[str]) -> int:
        """Delete the whole chains of the given files. Any unknown or foreign id: 404, nothing deleted."""
        roots: set[str] = set()
        for file_id in ids:
            roots.add((await self.visible(principal, file_id)).root_id)
        removed = await self.store.call(stored_files.delete_chains, sorted(roots))
        for file_id in removed:
            await trio.to_thread.run_sync(self.files.delete_prefix, f"{file_id}/")
        return len(removed)

    async def thumbnail(self, row: Any) -> Path:
        folder = self.dir_for(row.id)
        dest = folder / THUMB_NAME
        if dest.is_file():
            return dest
        src = self.path_of(row)
        if not src.is_file():
            raise ApiError(ErrorCode.INPUT_MISSING, "The stored file is missing.")
        kind, _fmt = await trio.to_thread.run_sync(kind_of, src, row.original_name)
        if kind != "image" and await trio.to_thread.run_sync(is_camera_raw, str(src)):
            kind = "image"  # CR3 is an ISO media file underneath, RAF/ORF are unknown to the sniffer
        if kind not in ("image", "svg", "pdf", "video"):
            raise ApiError(ErrorCode.UNSUPPORTED_MEDIA_TYPE, "No thumbnail is available for this kind of file.")
        max_pixels = self.config.max_megapixels * 1e6
        try:
            ok = await in_worker(render_thumbnail, str(src), kind, str(dest), max_pixels)
        except ApiError:
            raise
        except Exception:
            log.exception("thumbnail of %s failed", row.id)
            ok = False
        if not ok:
            raise ApiError(ErrorCode.PROCESSING_FAILED, "A thumbnail could not be made from this file.")
        return dest

    # ---- tool results into chains ---------------------------------------------------------------
    async def save_result_file(self, principal, source: Path, parent: Any, tools: list[str], *,
                               name: str | None = None) -> Any:
        """Copy a job's output (or an uploaded result) into the library: a new version of `parent`, or a
        new chain. `name` is the file's name when it is not the source's own."""
        if not source.is_file():
            raise ApiError(ErrorCode.INPUT_MISSING, "That result has expired and was removed.")
        owner = parent.owner_id if parent is not None else principal.user_id
        await self.check_quota(owner, source.stat().st_size)
        rows = await self.add(principal.user_id, [NewFile(source, name or source.name, copy=True)], parent=parent,
                              tools=tools)
        return rows[0]

    async def save_job_result(self, principal, job_rec, parent: Any, *, filename: str | None = None,
                              tool_id: str | None = None) -> Any:
        """`POST /files/save-result`: a finished job's result (or one of its files) into the library."""
        if job_rec.status is not JobState.COMPLETED or not job_rec.result:
            raise ApiError(ErrorCode.CONFLICT, "That job has not completed, so there is no result to save.")
        name = filename or unquote(str(job_rec.result.get("downloadUrl", "")).rsplit("/", 1)[-1])
        if not name or name != safe_name(name) or name.startswith("."):
            raise ApiError(ErrorCode.VALIDATION_ERROR, "Invalid result file name.")
        steps = job_rec.result.get("steps")
        if tool_id:
            tools = [tool_id]
        elif isinstance(steps, list) and steps:  # a pipeline: every step joins the chain
            tools = [str(s["toolId"]) if isinstance(s, dict) else str(s) for s in steps]
        else:
            tools = [job_rec.tool_id]
        return await self.save_result_file(principal, self.config.workspace / job_rec.id / "out" / name, parent,
                                           tools)


def quota_error(used: int, adding: int, quota: int) -> ApiError:
    return ApiError(
        ErrorCode.PAYLOAD_TOO_LARGE,
        f"Storage quota exceeded: {used / 1048576:.1f} MB used of {quota / 1048576:g} MB; "
        f"this needs {adding / 1048576:.1f} MB more.")


def get_library(services) -> Library:
    lib = getattr(services, "library", None)
    if lib is None:
        lib = Library(services.config, services.store)
        services.library = lib
    return lib


# ---- the auto-save hook of the tool route --------------------------------------------------------------

class AutoSave:
    """`fileId` on a tool or pipeline request: when the job completes, and before it is reported finished,
    its result becomes the next version of that library file and the body gains `savedFileId` (or
    `saveError` when it could not be saved, e.g. over quota); the job itself still succeeds."""

    def __init__(self, services, principal, target: Any) -> None:
        self.services, self.principal, self.target = services, principal, target
        self.rec = None
        self.saved = trio.Event()

    def watch(self, rec) -> None:
        """Tool jobs: run the save between the actor's Done and the job's completion."""
        self.rec = rec
        self.services.jobs.before_finish[rec.id] = self._before_finish

    async def _before_finish(self, rec, body: dict[str, Any]) -> None:
        name = unquote(str(body.get("downloadUrl", "")).rsplit("/", 1)[-1])
        await self.save(self.services.jobs.out_dir(rec.id) / name, [rec.tool_id], body)

    async def save(self, source: Path, tools: list[str], body: dict[str, Any]) -> None:
        """Save `source` and note the outcome in `body`. Never raises."""
        try:
            row = await get_library(self.services).save_result_file(self.principal, source, self.target, tools)
            body["savedFileId"] = row.id
        except ApiError as err:
            body["saveError"] = err.message
        except Exception:
            log.exception("auto-save into %s failed", self.target.id)
            body["saveError"] = "The result could not be saved to the library."
        finally:
            self.saved.set()

    async def wait(self) -> None:
        """After the job ended: a completed job's save has already happened (it runs before completion)."""
        if self.rec is not None and self.rec.status is JobState.COMPLETED:
            await self.saved.wait()


async def autosave_request(services, principal, upload: Upload | None, raw_settings: Any = None) -> AutoSave | None:
    """Read `fileId` from the multipart field or from the settings; None when there is none. An unknown
    or foreign id is a 404 before any work starts."""
    file_id = upload.values.get("fileId") if upload is not None else None
    if not file_id and upload is not None and raw_settings is None:
        raw = upload.values.get("settings")
        try:
            raw_settings = json.loads(raw) if raw else None
        except ValueError:
            raw_settings = None
    if not file_id and isinstance(raw_settings, dict):
        file_id = raw_settings.get("fileId")
    if file_id in (None, ""):
        return None
    if not (principal.can("files:own") or sees_all(principal)):
        raise ApiError(ErrorCode.FORBIDDEN, "Missing permission: files:own.")
    target = await get_library(services).visible(principal, str(file_id).strip())
    return AutoSave(services, principal, target)
