"""ExifTool (Debian `libimage-exiftool-perl`) for reading and writing EXIF, IPTC and XMP.

Always an argument list with a timeout; its stderr never reaches a client. Values are passed as single
`-TAG=VALUE` arguments, which exiftool never interpolates.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

from actors import sandbox
from protocols.errors import ErrorCode, ToolError

TIMEOUT_S = 60
# groups that describe the file on this server, not the image: never returned
HIDDEN_GROUPS = {"ExifTool", "System", "SourceFile"}
HIDDEN_FILE_TAGS = {"FileName", "Directory", "FileModifyDate", "FileAccessDate", "FileInodeChangeDate",
                    "FilePermissions", "FileSize"}


def available() -> bool:
    return shutil.which("exiftool") is not None


def _exe() -> str:
    exe = shutil.which("exiftool")
    if exe is None:
        raise ToolError("Metadata tools need ExifTool, which is not installed on this server.",
                        ErrorCode.FEATURE_NOT_INSTALLED, 501)
    return exe


def run(args: list[str], action: str) -> subprocess.CompletedProcess:
    try:
        proc = sandbox.run([_exe(), *args], timeout=TIMEOUT_S)
    except subprocess.TimeoutExpired:
        raise ToolError(f"Metadata {action} took too long.", ErrorCode.TIMEOUT, 504) from None
    return proc


def read(path: Path) -> dict[str, dict[str, Any]]:
    """Every tag, grouped by family-0 group (EXIF, IPTC, XMP, ICC_Profile, File, Composite...)."""
    proc = run(["-j", "-G0", "-s", "-c", "%+.6f", "-charset", "filename=utf8", str(path)], "reading")
    try:
        records = json.loads(proc.stdout.decode("utf-8", "replace") or "[]")
    except ValueError:
        records = []
    if not records:
        raise ToolError("The image's metadata could not be read.")
    grouped: dict[str, dict[str, Any]] = {}
    for key, value in records[0].items():
        group, _, tag = key.partition(":")
        if group in HIDDEN_GROUPS or not tag or (group == "File" and tag in HIDDEN_FILE_TAGS):
            continue
        grouped.setdefault(group, {})[tag] = value
    return grouped


def write(path: Path, assignments: list[str]) -> None:
    """Apply `-TAG=VALUE` assignments in place."""
    proc = run(["-overwrite_original", "-m", "-charset", "utf8", "-charset", "iptc=utf8", *assignments, str(path)],
               "writing")
    if proc.returncode != 0:
        raise ToolError("The metadata could not be written to this image format.")


def strip(path: Path, keep_orientation: bool) -> None:
    """Remove EXIF, IPTC, XMP, comments and maker notes in place (pixels untouched); keep the ICC profile."""
    args = ["-all=", "-tagsfromfile", "@", "-ICC_Profile"]
    if keep_orientation:
        args.append("-Orientation")
    proc = run(["-overwrite_original", "-m", *args, str(path)], "removal")
    if proc.returncode != 0:
        raise ToolError("The metadata could not be removed from this image.")
