"""SVG sanitising: no scripts, no event handlers, no external references (http, file, ...), no entities.

A standard DOCTYPE is accepted and dropped. Only same-document references (#id) and inline raster data URIs survive. The result is re-serialised
from the parsed tree, so nothing the parser did not understand reaches the renderer.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

from defusedxml import ElementTree as SafeET
from defusedxml.common import DefusedXmlException

from protocols.errors import bad_input

SVG_NS = "http://www.w3.org/2000/svg"
XLINK_NS = "http://www.w3.org/1999/xlink"
FORBIDDEN_TAGS = {"script", "foreignobject", "iframe", "embed", "object", "audio", "video", "handler", "listener",
                  "set", "animate", "animatemotion", "animatetransform"}
SAFE_DATA = re.compile(r"^\s*data:image/(png|jpe?g|gif|webp);base64,[a-z0-9+/=\s]*$", re.I)
CSS_URL = re.compile(r"url\(\s*(['\"]?)(.*?)\1\s*\)", re.I | re.S)
CSS_IMPORT = re.compile(r"@import[^;]*;?", re.I)
MAX_BYTES = 20 * 1024 * 1024


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1].lower() if isinstance(tag, str) else ""


def _safe_ref(value: str) -> bool:
    value = value.strip()
    return value.startswith("#") or bool(SAFE_DATA.match(value))


def _clean_css(text: str) -> str:
    text = CSS_IMPORT.sub("", text)
    return CSS_URL.sub(lambda m: m.group(0) if m.group(2).strip().startswith("#") else "none", text)


def sanitize(data: bytes) -> tuple[bytes, int]:
    """Return a clean SVG document and how many things were removed. Bad XML is a 400."""
    if len(data) > MAX_BYTES:
        raise bad_input("The SVG is too large (over 20 MB).")
    try:
        # A DOCTYPE alone is harmless (expat never fetches the external DTD) and potrace, Inkscape and
        # Illustrator write the standard one; it is dropped on re-serialisation. Entity declarations
        # (billion laughs) and external references are what a DTD can do harm with, and are refused.
        root = SafeET.fromstring(data, forbid_dtd=False, forbid_entities=True, forbid_external=True)
    except DefusedXmlException:
        raise bad_input("The SVG declares entities or external references, which are not allowed.") from None
    except ET.ParseError:
        raise bad_input("The file is not a well-formed SVG document.") from None
    if _local(root.tag) != "svg":
        raise bad_input("The file is not an SVG image (its root element is not <svg>).")
    removed = 0
    for parent in list(root.iter()):
        for child in list(parent):
            if not isinstance(child.tag, str) or _local(child.tag) in FORBIDDEN_TAGS:
                parent.remove(child)
                removed += 1
    for element in root.iter():
        for name in list(element.attrib):
            local = _local(name)
            value = element.attrib[name]
            if local.startswith("on") or local in ("href", "src") and not _safe_ref(value):
                del element.attrib[name]
                removed += 1
            elif local == "style" or "url(" in value.lower():
                cleaned = _clean_css(value)
                if cleaned != value:
                    element.attrib[name] = cleaned
                    removed += 1
        if _local(element.tag) == "style" and element.text:
            cleaned = _clean_css(element.text)
            if cleaned != element.text:
                element.text = cleaned
                removed += 1
    ET.register_namespace("", SVG_NS)
    ET.register_namespace("xlink", XLINK_NS)
    return ET.tostring(root, encoding="utf-8", xml_declaration=True), removed
