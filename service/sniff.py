"""Magic-byte sniffing: what an upload really is, whatever its name says.

`sniff(head, name)` -> (kind, format). Kinds: image, video, audio, pdf, zip, office, epub, text, svg,
unknown. The name only breaks ties the bytes cannot (a ZIP that is a .docx, a text file that is CSV).
"""

from __future__ import annotations

import mimetypes
from pathlib import Path, PurePath

HEAD_BYTES = 4096

_FTYP_IMAGE = {b"heic", b"heix", b"hevc", b"hevx", b"heim", b"heis", b"mif1", b"msf1", b"avif", b"avis"}
_FTYP_AUDIO = {b"M4A ", b"M4B ", b"M4P ", b"F4A ", b"F4B "}
_OFFICE_EXT = {".docx", ".xlsx", ".pptx", ".odt", ".ods", ".odp", ".odg"}
_TEXT_EXT = {
    ".txt": "txt", ".csv": "csv", ".tsv": "tsv", ".json": "json", ".xml": "xml", ".yaml": "yaml", ".yml": "yaml",
    ".md": "md", ".markdown": "md", ".html": "html", ".htm": "html", ".srt": "srt", ".vtt": "vtt",
    ".ass": "ass", ".ssa": "ass", ".rtf": "rtf",
}


def _ext(name: str) -> str:
    return PurePath(name or "").suffix.lower()


def sniff(head: bytes, name: str = "") -> tuple[str, str]:
    ext = _ext(name)
    if not head:
        return "empty", ""
    if head.startswith(b"\xff\xd8\xff"):
        return "image", "jpeg"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image", "png"
    if head[:6] in (b"GIF87a", b"GIF89a"):
        return "image", "gif"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "image", "webp"
    if head[:4] in (b"II*\x00", b"MM\x00*"):
        return "image", "tiff"
    if head[:2] == b"BM" and len(head) > 14:
        return "image", "bmp"
    if head[:4] == b"\x00\x00\x01\x00":
        return "image", "ico"
    if head[:4] == b"8BPS":
        return "image", "psd"
    if head[:12] == b"\x00\x00\x00\x0cjP  \r\n\x87\n" or head[:4] == b"\xff\x4f\xff\x51":
        return "image", "jp2"
    if head[:2] == b"\xff\x0a" or head[:12] == b"\x00\x00\x00\x0cJXL \r\n\x87\n":
        return "image", "jxl"
    if head[4:8] == b"ftyp":
        brand = head[8:12]
        compatible = {head[i : i + 4] for i in range(16, min(len(head), 64), 4)}
        if brand in _FTYP_IMAGE or (brand not in (b"isom", b"mp41", b"mp42") and compatible & _FTYP_IMAGE):
            return "image", "avif" if b"avif" in ({brand} | compatible) else "heic"
        if brand in _FTYP_AUDIO:
            return "audio", "m4a"
        if brand == b"qt  ":
            return "video", "mov"
        return "video", "mp4"
    if head[:4] == b"\x1a\x45\xdf\xa3":
        return ("video", "webm") if b"webm" in head[:64] else ("video", "mkv")
    if head[:4] == b"RIFF" and head[8:12] == b"AVI ":
        return "video", "avi"
    if head[:4] == b"RIFF" and head[8:12] == b"WAVE":
        return "audio", "wav"
    if head[:3] == b"FLV":
        return "video", "flv"
    if head[:4] in (b"\x00\x00\x01\xba", b"\x00\x00\x01\xb3"):
        return "video", "mpeg"
    if head[0:1] == b"\x47" and len(head) > 188 and head[188:189] == b"\x47":
        return "video", "ts"
    if head[:4] == b"fLaC":
        return "audio", "flac"
    if head[:4] == b"OggS":
        return ("video", "ogv") if b"theora" in head[:128] else ("audio", "ogg")
    if head[:3] == b"ID3" or (len(head) > 1 and head[0] == 0xFF and head[1] & 0xE0 == 0xE0 and ext != ".aac"):
        return "audio", "mp3"
    if len(head) > 1 and head[0] == 0xFF and head[1] & 0xF6 == 0xF0:
        return "audio", "aac"
    if head[:4] == b"#!AM":
        return "audio", "amr"
    if head[:4] == b"caff":
        return "audio", "caf"
    if head[:5] == b"%PDF-" or b"%PDF-" in head[:1024]:
        return "pdf", "pdf"
    if head[:4] == b"PK\x03\x04" or head[:4] == b"PK\x05\x06":
        if b"mimetypeapplication/epub+zip" in head[:100]:
            return "epub", "epub"
        if ext in _OFFICE_EXT:
            return "office", ext[1:]
        if b"[Content_Types].xml" in head or b"word/" in head or b"xl/" in head or b"ppt/" in head:
            return "office", ext[1:] if ext in _OFFICE_EXT else "ooxml"
        return "zip", "zip"
    if head[:8] == b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1":
        return "office", ext[1:] if ext in (".doc", ".xls", ".ppt") else "ole"
    if head[:6] == b"7z\xbc\xaf\x27\x1c":
        return "archive", "7z"
    if head[:3] == b"\x1f\x8b\x08":
        return "archive", "gz"
    if head[:5] == b"{\\rtf":
        return "text", "rtf"
    text = _as_text(head)
    if text is None:
        return "unknown", ext[1:] if ext else ""
    stripped = text.lstrip("\ufeff \t\r\n")
    lower = stripped[:1024].lower()
    if "<svg" in lower and (lower.startswith("<?xml") or lower.startswith("<svg") or lower.startswith("<!--")
                            or lower.startswith("<!doctype svg")):
        return "svg", "svg"
    if ext in _TEXT_EXT:
        return "text", _TEXT_EXT[ext]
    if lower.startswith("<!doctype html") or lower.startswith("<html"):
        return "text", "html"
    if lower.startswith("<?xml"):
        return "text", "xml"
    if stripped[:1] in ("{", "["):
        return "text", "json"
    return "text", "txt"


def _as_text(head: bytes) -> str | None:
    if b"\x00" in head:
        if head[:2] in (b"\xff\xfe", b"\xfe\xff"):
            try:
                return head.decode("utf-16")
            except UnicodeDecodeError:
                return None
        return None
    for cut in range(0, 4):  # the head may end inside a multi-byte character
        try:
            return head[: len(head) - cut].decode("utf-8")
        except UnicodeDecodeError:
            continue
    try:
        text = head.decode("latin-1")
    except UnicodeDecodeError:
        return None
    printable = sum(ch.isprintable() or ch in "\r\n\t" for ch in text)
    return text if printable / max(1, len(text)) > 0.95 else None


KIND_NAMES = {
    "image": "an image", "video": "a video", "audio": "an audio file", "pdf": "a PDF", "zip": "a ZIP archive",
    "office": "an office document", "epub": "an EPUB", "text": "a text file", "svg": "an SVG image",
    "archive": "an archive", "unknown": "an unrecognised file", "empty": "an empty file",
}


def sniff_file(path: Path, name: str = "") -> tuple[str, str]:
    """`sniff` of a file on disk."""
    with open(path, "rb") as fh:
        return sniff(fh.read(HEAD_BYTES), name or path.name)


# what the library reports as a file's mimeType, by sniffed format
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


def mime_type(fmt: str, name: str) -> str:
    return MIME_BY_FORMAT.get(fmt) or mimetypes.guess_type(name)[0] or "application/octet-stream"
