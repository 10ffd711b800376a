"""Hardened XML in (defusedxml: no entity declarations, no external entities or DTD fetches) and the
JSON <-> XML mapping.

JSON -> XML writes `<root type="object|array">`; objects become child elements named after their keys
(a key that is not a valid XML name is written as `<_ name="the key">`), arrays become `<item>`
children, and non-string scalars carry `type="number|boolean|null"`, so XML -> JSON gives back exactly
the same data. Any other XML is mapped the usual way: attributes as "@name", text as "#text" when
the element also has attributes or children, repeated children as arrays.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET  # noqa: S405 - only used to build trees; parsing goes through defusedxml
from pathlib import Path
from typing import Any

from defusedxml import DefusedXmlException
from defusedxml import ElementTree as SafeET

from actors.data import _tabular as t
from protocols.errors import bad_input

TYPES = {"object", "array", "string", "number", "boolean", "null"}
_NAME = re.compile(r"[A-Za-z_][\w.\-]*")
_BAD_XML_CHARS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
MAX_DEPTH = 500


def parse(path: Path) -> ET.Element:
    """Parse an XML file, refusing entity declarations and external references (billion laughs, XXE)."""
    if path.stat().st_size == 0:
        raise bad_input("The file is empty.")
    if path.stat().st_size > t.MAX_TEXT_BYTES:
        raise bad_input("The file is too large for this tool.")
    try:
        return SafeET.parse(str(path), forbid_dtd=False, forbid_entities=True, forbid_external=True).getroot()
    except DefusedXmlException:
        raise bad_input("XML with entity declarations or external references is refused.") from None
    except ET.ParseError as err:
        line = getattr(err, "position", (0, 0))[0]
        raise bad_input(f"The file is not well-formed XML (line {line}).") from None
    except RecursionError:
        raise bad_input("The XML is nested too deeply.") from None


def local(tag: Any) -> str:
    """'{namespace}name' -> 'name' (comments and processing instructions have no string tag)."""
    if not isinstance(tag, str):
        return ""
    return tag.rsplit("}", 1)[-1]


# ---- JSON -> XML ----------------------------------------------------------------------------------

def _text(value: str) -> str:
    if _BAD_XML_CHARS.search(value):
        raise bad_input("The data holds control characters that XML cannot store.")
    return value


def _element(tag: str, value: Any, depth: int) -> ET.Element:
    if depth > MAX_DEPTH:
        raise bad_input("The data is nested too deeply.")
    name = tag if _NAME.fullmatch(tag) and not tag.lower().startswith("xml") else "_"
    el = ET.Element(name)
    if name != tag:
        el.set("name", _text(tag))
    if isinstance(value, dict):
        el.set("type", "object")
        for key, inner in value.items():
            el.append(_element(str(key), inner, depth + 1))
    elif isinstance(value, list):
        el.set("type", "array")
        for inner in value:
            el.append(_element("item", inner, depth + 1))
    elif value is None:
        el.set("type", "null")
    elif isinstance(value, bool):
        el.set("type", "boolean")
        el.text = "true" if value else "false"
    elif isinstance(value, (int, float)):
        el.set("type", "number")
        el.text = t.cell_text(value) if isinstance(value, int) else repr(value)
    else:
        el.text = _text(str(value))
    return el


def json_to_xml(data: Any, out: Path, pretty: bool) -> None:
    root = _element("root", data, 0)
    root.tag = "root"
    root.attrib.pop("name", None)
    if root.get("type") not in ("object", "array"):  # a bare scalar document
        root.set("type", root.get("type", "string"))
    tree = ET.ElementTree(root)
    if pretty:
        ET.indent(tree, space="  ")
    tree.write(out, encoding="utf-8", xml_declaration=True)


# ---- XML -> JSON ----------------------------------------------------------------------------------

def _typed_value(el: ET.Element, depth: int) -> Any:
    if depth > MAX_DEPTH:
        raise bad_input("The XML is nested too deeply.")
    kind = el.get("type", "string")
    children = [c for c in el if isinstance(c.tag, str)]
    if kind == "object":
        return {c.get("name", local(c.tag)): _typed_value(c, depth + 1) for c in children}
    if kind == "array":
        return [_typed_value(c, depth + 1) for c in children]
    text = el.text or ""
    if kind == "null":
        return None
    if kind == "boolean":
        return text.strip() == "true"
    if kind == "number":
        raw = text.strip()
        try:
            return int(raw)
        except ValueError:
            try:
                return float(raw)
            except ValueError:
                raise bad_input(f"'{raw[:40]}' is marked as a number but is not one.") from None
    return text


def is_typed(root: ET.Element) -> bool:
    """True for documents this tool wrote (typed mapping); any other XML gets the generic mapping."""
    if local(root.tag) != "root" or root.get("type") not in TYPES:
        return False
    for el in root.iter():
        if isinstance(el.tag, str) and (set(el.attrib) - {"type", "name"} or el.get("type", "string") not in TYPES):
            return False
    return True


def _generic_value(el: ET.Element, depth: int) -> Any:
    if depth > MAX_DEPTH:
        raise bad_input("The XML is nested too deeply.")
    children = [c for c in el if isinstance(c.tag, str)]
    text = (el.text or "").strip()
    if not children and not el.attrib:
        return text if text else None
    out: dict[str, Any] = {f"@{local(k)}": v for k, v in el.attrib.items()}
    for child in children:
        key, value = local(child.tag), _generic_value(child, depth + 1)
        if key not in out:
            out[key] = value
        elif isinstance(out[key], list):  # child values are never lists, so this is a repeat
            out[key].append(value)
        else:
            out[key] = [out[key], value]
    if text:
        out["#text"] = text
    return out


def xml_to_json(root: ET.Element) -> Any:
    if is_typed(root):
        return _typed_value(root, 0)
    return {local(root.tag): _generic_value(root, 0)}


# ---- XML -> rows -----------------------------------------------------------------------------------

def find_records(root: ET.Element) -> list[ET.Element]:
    """The repeating element: the tag that occurs most often among one parent's children (ties: the
    shallowest). A document with no repeats is one record (the root)."""
    best: list[ET.Element] = []
    best_key = (1, 0)
    stack = [(root, 0)]
    while stack:
        parent, depth = stack.pop()
        groups: dict[str, list[ET.Element]] = {}
        for child in parent:
            if isinstance(child.tag, str):
                groups.setdefault(local(child.tag), []).append(child)
                stack.append((child, depth + 1))
        for members in groups.values():
            key = (len(members), -depth)
            if key > best_key:
                best, best_key = members, key
    return best or [root]


def record_fields(el: ET.Element) -> dict[str, str]:
    """One record -> flat columns: attributes and leaf children by name, nested ones as 'parent.child'
    (an element's own text under its own name); a repeated field gets _2, _3..."""
    out: dict[str, str] = {}

    def put(key: str, value: str) -> None:
        candidate, n = key, 1
        while candidate in out:
            n += 1
            candidate = f"{key}_{n}"
        out[candidate] = value

    def walk(node: ET.Element, prefix: str, depth: int) -> None:
        if depth > MAX_DEPTH:
            raise bad_input("The XML is nested too deeply.")
        for k, v in node.attrib.items():
            put(f"{prefix}{local(k)}", v)
        children = [c for c in node if isinstance(c.tag, str)]
        text = (node.text or "").strip()
        if text or not (children or node.attrib):
            put(prefix.rstrip(".") or local(node.tag), text)
        for child in children:
            walk(child, f"{prefix}{local(child.tag)}.", depth + 1)

    walk(el, "", 0)
    return out
