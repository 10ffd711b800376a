"""Cleaning a pandoc JSON tree before a writer sees it (also usable as a pandoc JSON filter): removes every reference that would make
pandoc's writers fetch something: images by URL, absolute path or '..', and raw HTML/TeX that loads
resources. Images embedded in the input itself (docx/epub media, relative paths) are kept. Prints how
many references it dropped on stderr ('LUTRA-DROPPED n')."""

from __future__ import annotations

import json
import sys

RAW_FETCHING = ("<img", "<link", "<script", "<iframe", "<object", "<embed", "<video", "<audio", "<source",
                "<image", "<svg", "<frame", "<input", "<style", "src=", "srcset=", "url(", "@import",
                "\\include", "\\input", "\\includegraphics")


def safe_target(target: str) -> bool:
    if not target or target.startswith(("/", "\\", "~")):
        return False
    head = target.split("/", 1)[0]
    if ":" in head:  # a URL scheme: http:, https:, file:, data:, ftp: ...
        return False
    parts = target.replace("\\", "/").split("/")
    return ".." not in parts


def sanitize(node, dropped: list[int]):
    if isinstance(node, list):
        return [sanitize(item, dropped) for item in node]
    if not isinstance(node, dict):
        return node
    kind = node.get("t")
    if kind == "Image":
        attr, alt, (target, _title) = node["c"]
        if not safe_target(target):
            dropped[0] += 1
            return {"t": "Span", "c": [attr, sanitize(alt, dropped)]}
    if kind in ("RawInline", "RawBlock"):
        _fmt, text = node["c"]
        lowered = text.lower()
        if any(marker in lowered for marker in RAW_FETCHING):
            dropped[0] += 1
            return {"t": "Plain", "c": []} if kind == "RawBlock" else {"t": "Str", "c": ""}
    return {k: (sanitize(v, dropped) if k == "c" else v) for k, v in node.items()}


def main() -> None:
    document = json.load(sys.stdin)
    dropped = [0]
    document["blocks"] = sanitize(document.get("blocks", []), dropped)
    document["meta"] = sanitize(document.get("meta", {}), dropped)
    json.dump(document, sys.stdout)
    print(f"LUTRA-DROPPED {dropped[0]}", file=sys.stderr)


if __name__ == "__main__":
    main()
