"""Extract a ZIP archive, bomb-protected (see _zipsafe): the extracted files are the outputs (several
are zipped again by the foundation, flat, with a `downloads` link each); `entries` maps every archive
path to its output name. Symlinks and macOS resource forks are skipped, never followed."""

from __future__ import annotations

import errno
import zipfile
import zlib

from actors.data import _zipsafe as z
from actors.workers import unique_path
from protocols.errors import bad_input
from protocols.tools import Section, ToolCall, ToolResult, ToolSettings, tool

CHUNK = 1024 * 1024


class ExtractZipSettings(ToolSettings):
    pass


def _output_name(path: str) -> str:
    leaf = path.rsplit("/", 1)[-1]
    leaf = leaf.lstrip(".") or "file"  # hidden names cannot be downloaded one by one
    raw = leaf.encode("utf-8", "surrogateescape")
    if len(raw) > 200:  # file systems allow 255 bytes; leave room for _1 and the like
        stem, dot, ext = leaf.rpartition(".")
        ext = ext if dot and len(ext) <= 16 else ""
        budget = 200 - len(ext.encode()) - (1 if ext else 0)
        leaf = raw[:budget].decode("utf-8", "ignore") + (f".{ext}" if ext else "")
    return leaf


@tool("extract-zip", section=Section.FILES, settings=ExtractZipSettings,
      accepts={"zip", "office", "epub"})
def run(call: ToolCall) -> ToolResult:
    """Extract the files of a ZIP archive (bomb-protected)."""
    outputs, entries, skipped = [], [], []
    with z.open_zip(call.inputs[0]) as zf:
        checked = z.check(zf)
        folder = call.workdir
        written = 0
        for entry in checked:
            if entry.kind == "dir":
                continue
            if entry.kind == "symlink":
                skipped.append({"path": entry.path, "reason": "symlink"})
                continue
            if entry.path.startswith("__MACOSX/") or entry.path.endswith("/.DS_Store") or entry.path == ".DS_Store":
                skipped.append({"path": entry.path, "reason": "metadata"})
                continue
            target = unique_path(folder / _output_name(entry.path))
            try:
                with zf.open(entry.info) as src, open(target, "wb") as dst:
                    left = entry.info.file_size
                    while chunk := src.read(CHUNK):
                        left -= len(chunk)
                        written += len(chunk)
                        if left < 0 or written > z.MAX_TOTAL_BYTES:
                            raise z.too_large("The archive unpacks to more than it declares; it is refused.")
                        dst.write(chunk)
            except (zipfile.BadZipFile, zlib.error, EOFError, NotImplementedError, RuntimeError, ValueError,
                    OSError) as err:
                target.unlink(missing_ok=True)
                if isinstance(err, OSError) and err.errno in (errno.ENOSPC, errno.EDQUOT, errno.EMFILE):
                    raise  # the server's trouble (disk full), not the archive's
                if isinstance(err, NotImplementedError):
                    raise bad_input("The archive uses a compression method that is not supported.") from None
                raise bad_input("The archive is corrupt (an entry fails to decompress or its checksum "
                                "does not match).") from None
            outputs.append(target)
            entries.append({"path": entry.path, "filename": target.name, "size": entry.info.file_size})
    if not outputs:
        raise bad_input("The archive holds no files to extract.")
    extra = {"entries": entries, "count": len(entries)}
    if skipped:
        extra["skipped"] = skipped
    return ToolResult(outputs, extra)
