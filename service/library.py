"""The file library: files kept under DATA_DIR/files/<id>/ (never swept), rows in the `files` table,
version chains (root_id = first version), per-user quota, cached thumbnails,
and the auto-save of a tool result into a chain.

Decoding untrusted files (thumbnails, probes) is the image and media actors' work (library_renders).
"""

from __future__ import annotations

import json
import logging
import time
import uuid
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import trio

from actors.store.repos import files as stored_files
from protocols.errors import ApiError, ErrorCode
from protocols.jobs import JobState
from service import library_renders as renders
from service.internal_jobs import InternalJobs
from service.storage import LocalStorage
from service.uploads import Upload, safe_name

log = logging.getLogger("lutra.library")

THUMB_NAME = ".thumbnail.jpg"


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


# ---- the library ----------------------------------------------------------------------------------

@dataclass(slots=True)
class NewFile:
    path: Path  # where the bytes are now
    name: str  # the name to keep (made safe)
    copy: bool = False  # copy (a job result that stays downloadable) or move (a fresh upload)


class Library:
    def __init__(self, config, store, internal: InternalJobs) -> None:
        self.config = config
        self.store = store
        self.internal = internal  # thumbnails and probes: internal jobs of the image and media actors
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
                mime, width, height = await renders.probe(self.internal, item.path, name)
                size = await trio.to_thread.run_sync(partial(self.files.put, key, item.path, move=not item.copy))
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
        """The cached thumbnail, made once by the image actor (images, RAW, PDFs) or the media actor (videos)."""
        dest = self.dir_for(row.id) / THUMB_NAME
        if dest.is_file():
            return dest
        src = self.path_of(row)
        if not src.is_file():
            raise ApiError(ErrorCode.INPUT_MISSING, "The stored file is missing.")
        await renders.thumbnail(self.internal, src, row.original_name, dest)
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
        lib = Library(services.config, services.store, InternalJobs(services.jobs))
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
