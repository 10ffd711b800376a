"""What an office tool checks before LibreOffice sees a file: that it is of the tool's family (document,
spreadsheet, presentation) and really the format its name claims, and a copy named so that LibreOffice
picks the right import filter."""

from __future__ import annotations

import os
import shutil
import zipfile
import zlib
from pathlib import Path

from protocols.errors import bad_input

OOXML_MAIN = {"docx": "word/document.xml", "xlsx": "xl/workbook.xml", "pptx": "ppt/presentation.xml"}
ODF_MIME = {"odt": "application/vnd.oasis.opendocument.text",
            "ods": "application/vnd.oasis.opendocument.spreadsheet",
            "odp": "application/vnd.oasis.opendocument.presentation"}
OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
FAMILIES = {
    "document": ("docx", "doc", "odt", "rtf", "txt"),
    "spreadsheet": ("xlsx", "xls", "ods", "csv"),
    "presentation": ("pptx", "ppt", "odp"),
}
FAMILY_NAMES = {"document": "a word-processing document", "spreadsheet": "a spreadsheet",
                "presentation": "a presentation"}


def detect(path: Path) -> str | None:
    """What the bytes are: docx/xlsx/pptx/odt/ods/odp, 'ole' (doc/xls/ppt), rtf, text, or None."""
    with open(path, "rb") as f:
        head = f.read(8192)
    if head.startswith(b"PK\x03\x04"):
        try:
            with zipfile.ZipFile(path) as zf:
                names = set(zf.namelist())
                if "mimetype" in names:
                    mime = zf.read("mimetype")[:100].decode("ascii", "replace").strip()
                    for ext, wanted in ODF_MIME.items():
                        if mime == wanted:
                            return ext
                if "[Content_Types].xml" in names:
                    for ext, part in OOXML_MAIN.items():
                        if part in names:
                            return ext
        except (zipfile.BadZipFile, zlib.error, EOFError, OSError, ValueError, NotImplementedError):
            return None
        return None
    if head.startswith(OLE_MAGIC):
        return "ole"
    if head.lstrip(b"\xef\xbb\xbf").startswith(b"{\\rtf"):
        return "rtf"
    if b"\x00" not in head:
        try:
            head.decode("utf-8")
        except UnicodeDecodeError as err:
            if err.start < len(head) - 4:  # not just a character cut at the end of the sample
                try:
                    head.decode("cp1252")
                except UnicodeDecodeError:
                    return None
        return "text"
    return None


def check_input(path: Path, name: str, family: str) -> str:
    """Refuse files that are not of the family, or not the format their name claims. Returns the
    extension LibreOffice should see."""
    ext = Path(name or "").suffix.lower().lstrip(".")
    actual = detect(path)
    allowed = FAMILIES[family]
    wanted = f"{FAMILY_NAMES[family]} ({', '.join(allowed)})"
    if actual is None:
        raise bad_input(f"The file is not {wanted}, or it is corrupt.")
    if actual == "ole":
        ole_ext = {"document": "doc", "spreadsheet": "xls", "presentation": "ppt"}[family]
        if ext and ext != ole_ext:
            raise bad_input(f"The file is not a valid .{ext} file.")
        return ole_ext
    if actual == "text":
        text_exts = [e for e in allowed if e in ("txt", "csv")]
        if not text_exts:
            raise bad_input(f"The file is plain text, not {wanted}.")
        if ext and ext not in text_exts:
            raise bad_input(f"The file is not a valid .{ext} file.")
        return ext or text_exts[0]
    if actual not in allowed:
        raise bad_input(f"The file is a .{actual} file, not {wanted}.")
    if ext and ext != actual and ext in sum(FAMILIES.values(), ()):
        raise bad_input(f"The file is not a valid .{ext} file (its content is .{actual}).")
    return actual


def staged_input(path: Path, workdir: Path, ext: str) -> Path:
    """LibreOffice picks its import filter partly by extension: give it a copy with the right one."""
    if path.suffix.lower() == f".{ext}":
        return path
    staged = workdir / f"_input.{ext}"
    try:
        os.link(path, staged)
    except OSError:
        shutil.copyfile(path, staged)
    return staged
