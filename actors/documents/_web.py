"""HTML and Markdown plumbing: text decoding, Markdown to HTML, WeasyPrint rendering that fetches
nothing (only inline data: URIs load: no network, no local files), and pandoc in its sandbox."""

from __future__ import annotations

import html
import logging
import os
import re
import shutil
from pathlib import Path

from actors.documents import _proc
from actors.processes import child_env
from protocols.errors import ToolError, bad_input

log = logging.getLogger("lutra.documents")

PANDOC_TIMEOUT = 300
DEAD_PROXY = "http://127.0.0.1:9"  # the discard port: nothing listens
# pandoc needs ~235x its input in memory (a 20 MB line: 4.7 GB), WeasyPrint ~120x: 5 MB keeps one job near 1 GB
MAX_TEXT_BYTES = 5 * 1024 * 1024

BASE_CSS = """
@page { size: A4; margin: 2cm; }
body { font-family: "DejaVu Sans", "Liberation Sans", sans-serif; font-size: 11pt; line-height: 1.45; }
h1, h2, h3, h4 { line-height: 1.2; }
pre, code { font-family: "DejaVu Sans Mono", monospace; font-size: 9.5pt; }
pre { background: #f5f5f5; padding: 0.6em; white-space: pre-wrap; word-wrap: break-word; }
table { border-collapse: collapse; } th, td { border: 1px solid #999; padding: 0.25em 0.5em; }
img { max-width: 100%; }
blockquote { border-left: 3px solid #ccc; margin-left: 0; padding-left: 1em; color: #444; }
"""


def read_text(path: Path, what: str = "text file") -> str:
    """UTF-8 (with or without BOM) or, failing that, Windows-1252; binary files are refused."""
    if path.stat().st_size > MAX_TEXT_BYTES:
        raise bad_input(f"The {what} is larger than {MAX_TEXT_BYTES // (1024 * 1024)} MB.")
    data = path.read_bytes()
    if b"\x00" in data[:65536]:
        raise bad_input(f"The file is not a {what}.")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return data.decode("cp1252", errors="replace")


def markdown_to_html(text: str, title: str) -> str:
    """CommonMark (+ tables, strikethrough, smart quotes) with markdown-it-py: linear time, so crafted
    input (deeply nested or unclosed brackets) cannot make it hang, unlike Python-Markdown."""
    from markdown_it import MarkdownIt

    parser = MarkdownIt("commonmark", {"html": True, "typographer": True}).enable(
        ["table", "strikethrough", "replacements", "smartquotes"])
    tokens = parser.parse(text)
    used: set[str] = set()
    for index, token in enumerate(tokens):  # heading anchors (id="second-chapter"), unique per document
        if token.type == "heading_open" and index + 1 < len(tokens):
            slug = re.sub(r"[^\w\- ]", "", tokens[index + 1].content.lower()).strip().replace(" ", "-") or "section"
            candidate, n = slug, 1
            while candidate in used:
                candidate, n = f"{slug}_{n}", n + 1
            used.add(candidate)
            token.attrSet("id", candidate)
    return document(parser.renderer.render(tokens, parser.options, {}), title)


def document(body: str, title: str) -> str:
    return (f'<!DOCTYPE html>\n<html>\n<head>\n<meta charset="utf-8">\n<title>{html.escape(title)}</title>\n'
            f"<style>{BASE_CSS}</style>\n</head>\n<body>\n{body}\n</body>\n</html>\n")


def text_to_html(text: str, title: str) -> str:
    paragraphs = [p.strip("\n") for p in text.replace("\r\n", "\n").split("\n\n") if p.strip()]
    body = "\n".join("<p>" + html.escape(p).replace("\n", "<br>\n") + "</p>" for p in paragraphs)
    return document(f"<h1>{html.escape(title)}</h1>\n{body}", title)


def _offline_fetcher():
    from weasyprint import URLFetcher

    class OfflineFetcher(URLFetcher):
        """Only data: URIs: a document cannot make the server fetch anything, remote or local."""

        def fetch(self, url, headers=None):
            if not url.lower().startswith("data:"):
                log.info("html render: refused to fetch a %s resource", url.split(":", 1)[0][:10])
                raise ValueError("remote and local resources are disabled")
            return super().fetch(url, headers)

    return OfflineFetcher(allowed_protocols={"data"}, allow_redirects=False)


def render_pdf(markup: str, out: Path, *, stylesheet: bool = False) -> Path:
    """HTML -> PDF with WeasyPrint, offline."""
    import weasyprint

    try:
        document = weasyprint.HTML(string=markup, base_url=None, url_fetcher=_offline_fetcher())
        stylesheets = [weasyprint.CSS(string=BASE_CSS)] if stylesheet else None
        document.write_pdf(out, stylesheets=stylesheets)
    except (ValueError, TypeError, AssertionError, RecursionError):
        raise ToolError("The HTML could not be rendered to PDF.") from None
    return out


ARCHIVE_READERS = {"docx", "epub"}
MAX_ARCHIVE_ENTRIES = 10_000
MAX_ARCHIVE_BYTES = 1024 * 1024 * 1024


def _unpack_media(archive: Path, target: Path) -> list[Path]:
    """Unzip a docx/epub (names checked, sizes capped) so the writer finds the input's own images; returns
    the folders pandoc's image paths are relative to."""
    import zipfile
    import zlib

    roots = [target]
    total = 0
    try:
        with zipfile.ZipFile(archive) as zf:
            infos = zf.infolist()
            if len(infos) > MAX_ARCHIVE_ENTRIES:
                raise bad_input("The document has too many parts.")
            for info in infos:
                name = info.filename.replace("\\", "/")
                parts = [p for p in name.split("/") if p not in ("", ".")]
                if info.is_dir() or not parts or ".." in parts or name.startswith("/") or ":" in parts[0]:
                    continue
                total += info.file_size
                if total > MAX_ARCHIVE_BYTES or (info.compress_size and info.file_size / info.compress_size > 200
                                                 and info.file_size > 10 * 1024 * 1024):
                    raise bad_input("The document unpacks to too much data.")
                dest = target.joinpath(*parts)
                dest.parent.mkdir(parents=True, exist_ok=True)
                with zf.open(info) as src, open(dest, "wb") as out:
                    shutil.copyfileobj(src, out, 1 << 20)
                if name.endswith(".opf") and dest.parent not in roots:
                    roots.append(dest.parent)
    except (zipfile.BadZipFile, zlib.error, EOFError, OSError, RuntimeError, ValueError, NotImplementedError):
        raise bad_input("The document is corrupt or not a valid archive.") from None
    if (target / "word").is_dir():
        roots.append(target / "word")
    return roots


def pandoc_convert(source: Path, reader: str, writer: str, out: Path, *, extra: list[str] | None = None,
                   what: str) -> int:
    """pandoc without network or disk reach: read to a JSON tree (readers fetch nothing), strip every
    image by URL, absolute path or '..' and raw HTML/TeX that loads resources, then write (writers are
    what fetch images) with only the job folder as resource path. Images embedded in a docx/epub input
    are unpacked here so that they survive. Returns how many references were dropped.
    (pandoc 2.17's --sandbox cannot read its own data files; a filter runs too late: the docx writer
    fetches images before filters run.)"""
    import json

    from actors.documents import _pandoc_filter

    cwd = source.parent
    tree = cwd / "_tree.json"
    # belt and braces: any HTTP(S) request pandoc might still make goes to a closed port
    env = child_env("pandoc", HOME=str(cwd), http_proxy=DEAD_PROXY, https_proxy=DEAD_PROXY,
                    HTTP_PROXY=DEAD_PROXY, HTTPS_PROXY=DEAD_PROXY, no_proxy="", NO_PROXY="")
    if reader == "markdown":  # pandoc's own markdown reader is exponential on nested brackets
        reader = "commonmark_x"
    _proc.run(["pandoc", "-f", reader, "-t", "json", "-o", tree.name, source.name], timeout=PANDOC_TIMEOUT,
              what=what, cwd=cwd, env=env)
    dropped = [0]
    document = json.loads(tree.read_text("utf-8"))
    document["blocks"] = _pandoc_filter.sanitize(document.get("blocks", []), dropped)
    document["meta"] = _pandoc_filter.sanitize(document.get("meta", {}), dropped)
    tree.write_text(json.dumps(document), encoding="utf-8")
    unpacked = cwd / "_unpacked"
    roots = _unpack_media(source, unpacked) if reader in ARCHIVE_READERS else [cwd / "_no_resources"]
    resource_path = os.pathsep.join(str(r.relative_to(cwd)) for r in roots)
    try:
        _proc.run(["pandoc", "-f", "json", "-t", writer, "--resource-path", resource_path, *(extra or []),
                   "-o", out.name, tree.name], timeout=PANDOC_TIMEOUT, what=what, cwd=cwd, env=env)
    finally:
        tree.unlink(missing_ok=True)
        shutil.rmtree(unpacked, ignore_errors=True)
    return dropped[0]
