"""ZIP archives read defensively (COMPATIBILITY.md, extract-zip): at most 1000 entries, 200 MiB per
entry, 500 MiB in all, compression ratio at most 100, no absolute or '..' paths; symlinks skipped.
The ratio applies to entries of 1 MiB and more: a small file of repeated text (a blank form, a log of
identical lines) easily compresses past 100:1 and is no bomb; the size limits bound those anyway.

The sizes checked are the ones the archive declares; extraction then reads at most that many bytes
per entry (zipfile stops at the declared size and verifies the CRC), so a lying header cannot write
more than was allowed.
"""

from __future__ import annotations

import stat
import zipfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from protocols.errors import ErrorCode, ToolError, bad_input

MAX_ENTRIES = 1000
MAX_ENTRY_BYTES = 200 * 1024 * 1024
MAX_TOTAL_BYTES = 500 * 1024 * 1024
MAX_RATIO = 100
RATIO_FROM_BYTES = 1024 * 1024  # entries smaller than this are never refused for their ratio alone
MiB = 1024 * 1024


@dataclass(slots=True)
class Entry:
    info: zipfile.ZipInfo
    path: str  # normalised relative path inside the archive
    kind: str  # file, dir, symlink


def too_large(message: str) -> ToolError:
    return ToolError(message, ErrorCode.PAYLOAD_TOO_LARGE, 413)


def open_zip(path: Path) -> zipfile.ZipFile:
    try:
        return zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError, ValueError, EOFError):
        raise bad_input("The file is not a valid ZIP archive.") from None
    except NotImplementedError:  # e.g. a newer format version than Python's zipfile reads
        raise bad_input("The ZIP archive uses a format version that is not supported.") from None


def entry_kind(info: zipfile.ZipInfo) -> str:
    mode = info.external_attr >> 16
    if info.create_system == 3 and stat.S_ISLNK(mode):  # unix symlink
        return "symlink"
    if info.is_dir():
        return "dir"
    return "file"


def safe_path(name: str) -> str:
    """The entry's path with / separators; absolute, drive-letter or '..' paths are refused."""
    cleaned = name.replace("\\", "/")
    if cleaned.startswith("/") or (len(cleaned) > 1 and cleaned[1] == ":") or "\x00" in cleaned:
        raise bad_input("The archive holds an entry with an absolute path; it is refused.")
    parts = [p for p in PurePosixPath(cleaned).parts if p not in ("", ".")]
    if ".." in parts:
        raise bad_input("The archive holds an entry whose path leaves the archive ('..'); it is refused.")
    return "/".join(parts)


def check(zf: zipfile.ZipFile, *, ratio: bool = True) -> list[Entry]:
    """Every limit, before a single byte is extracted. Returns the entries with their clean paths."""
    infos = zf.infolist()
    if len(infos) > MAX_ENTRIES:
        raise too_large(f"The archive has {len(infos)} entries; at most {MAX_ENTRIES} are allowed.")
    central = getattr(zf, "start_dir", None)  # local headers all come before the central directory
    total = 0
    entries = []
    for info in infos:
        if info.header_offset < 0 or (central is not None and info.header_offset >= central):
            raise bad_input("The archive is corrupt: an entry points outside the archive.")
        if not info.filename:
            raise bad_input("The archive is corrupt: an entry has no name.")
        path = safe_path(info.filename)
        kind = entry_kind(info)
        if kind == "file":
            if info.file_size > MAX_ENTRY_BYTES:
                raise too_large(f"An entry unpacks to {info.file_size // MiB} MiB; at most "
                                f"{MAX_ENTRY_BYTES // MiB} MiB per entry are allowed.")
            total += info.file_size
            if total > MAX_TOTAL_BYTES:
                raise too_large(f"The archive unpacks to more than {MAX_TOTAL_BYTES // MiB} MiB in all.")
            if ratio and info.file_size >= RATIO_FROM_BYTES and info.file_size > MAX_RATIO * max(info.compress_size, 1):
                raise too_large(f"An entry is compressed more than {MAX_RATIO}:1 (a likely ZIP bomb); it is refused.")
            if info.flag_bits & 0x1:
                raise bad_input("The archive is password-protected; it cannot be extracted.")
        entries.append(Entry(info, path, kind))
    return entries
