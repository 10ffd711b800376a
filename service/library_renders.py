"""What the file library asks of the image and media actors: the dimensions of a file being stored, a
stored file's thumbnail, a browser preview of an upload. Each is an internal job (`@tool(internal=True)`)
with a slot, a deadline and stats like any tool; nothing here decodes a file itself."""

from __future__ import annotations

import logging
from pathlib import Path

import trio

from actors.common.camera_raw import is_camera_raw
from actors.image.library_renders import PreviewSettings, ProbeSettings, ThumbnailSettings
from actors.media.library_renders import VideoThumbnailSettings
from protocols.errors import ApiError, ErrorCode
from service.internal_jobs import InternalJobs, place
from service.sniff import mime_type, sniff_file

log = logging.getLogger("lutra.library")

THUMB_WIDTH = 300


async def probe(internal: InternalJobs, path: Path, name: str) -> tuple[str, int | None, int | None]:
    """(mime type, width, height) of a file about to be stored (still in the workspace, where the image
    workers may read it); dimensions for images and videos only, None where they cannot be read."""
    kind, fmt = await trio.to_thread.run_sync(sniff_file, path, name)
    mime = mime_type(fmt, name)
    job = {"image": "library-probe", "svg": "library-probe", "video": "library-video-probe"}.get(kind)
    if job is None:
        return mime, None, None
    try:
        async with internal.run(job, path, ProbeSettings(), name=name) as result:
            return mime, result.extra.get("width"), result.extra.get("height")
    except ApiError as err:  # unreadable: the file is kept, without dimensions
        log.info("no dimensions for %s: %s", name, err.message)
        return mime, None, None


async def thumbnail(internal: InternalJobs, src: Path, name: str, dest: Path) -> None:
    """A JPEG THUMB_WIDTH px wide of an image, camera RAW, PDF (its first page) or video (its first frame)
    at `dest`; 415 for another kind of file, 422 when no decoder reads it."""
    kind, _fmt = await trio.to_thread.run_sync(sniff_file, src, name)
    if kind != "image" and await trio.to_thread.run_sync(is_camera_raw, src):
        kind = "image"  # CR3 is an ISO media file underneath, RAF/ORF are unknown to the sniffer
    if kind not in ("image", "svg", "pdf", "video"):
        raise ApiError(ErrorCode.UNSUPPORTED_MEDIA_TYPE, "No thumbnail is available for this kind of file.")
    if kind == "video":  # ffmpeg's sandbox reads the stored file where it is
        job, settings, copy = "library-video-thumbnail", VideoThumbnailSettings(width=THUMB_WIDTH), False
    else:  # the image workers may read only the workspace: the file is copied into the job's folder
        job, copy = "library-thumbnail", True
        settings = ThumbnailSettings(kind="pdf" if kind == "pdf" else "image", width=THUMB_WIDTH)
    try:
        async with internal.run(job, src, settings, copy=copy) as result:
            await trio.to_thread.run_sync(place, result.outputs[0], dest)
    except ApiError as err:
        if err.code is not ErrorCode.PROCESSING_FAILED:
            raise
        raise ApiError(ErrorCode.PROCESSING_FAILED, "A thumbnail could not be made from this file.") from None


async def preview(internal: InternalJobs, path: Path, name: str) -> bytes:
    """A browser-friendly WebP inside 1200x1200 of an upload in the workspace (where the image workers may
    read it); 415 when no decoder reads it, 413 over MAX_MEGAPIXELS."""
    try:
        async with internal.run("library-preview", path, PreviewSettings(), name=name) as result:
            return await trio.to_thread.run_sync(result.outputs[0].read_bytes)
    except ApiError as err:
        if err.code is not ErrorCode.PROCESSING_FAILED:
            raise
        raise ApiError(ErrorCode.UNSUPPORTED_MEDIA_TYPE, "The file could not be decoded as an image.") from None
