"""Metadata tools: strip-metadata, edit-metadata and their /inspect sub-routes (ExifTool underneath).

- strip-metadata removes EXIF, IPTC, XMP, comments and maker notes without re-encoding the pixels; the
  ICC profile stays (colours would shift without it) and so does the EXIF orientation when it is not
  "normal" (the picture would turn over without it).
- edit-metadata writes title, description, author, copyright, keywords, GPS and date/time into every
  metadata block the format carries: EXIF (IFD0/ExifIFD/GPS, XP* tags), IPTC (JPEG/TIFF only) and XMP
  (dc:, xmp:, exif:). A field left out is left unchanged; an empty string clears it.
- /inspect reads every tag, grouped as exif / iptc / xmp / icc / other, plus a `summary` of the fields
  edit-metadata writes; `fieldCount` counts the EXIF, IPTC, XMP and maker-note tags (not the
  container's structural tags nor the ICC profile). File-system facts of this server (paths, dates, permissions) are never returned.
"""

from __future__ import annotations

import json
import shutil
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from actors import png_text
from actors.common import imageio as v
from actors.image import _exiftool as et
from protocols.tools import Section, ToolCall, ToolResult, ToolSettings, tool

IPTC_FORMATS = {"jpeg", "tiff"}
GROUP_NAMES = {"EXIF": "exif", "IPTC": "iptc", "XMP": "xmp", "ICC_Profile": "icc", "MakerNotes": "makerNotes"}


class NoSettings(ToolSettings):
    pass


class Gps(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)
    lat: float = Field(..., ge=-90, le=90, description="Latitude in decimal degrees (north positive)")
    lon: float = Field(..., ge=-180, le=180, description="Longitude in decimal degrees (east positive)")


class EditMetadataSettings(ToolSettings):
    title: str | None = Field(None, max_length=2000, description="Title ('' clears)")
    description: str | None = Field(None, max_length=10000, description="Description / caption ('' clears)")
    author: str | None = Field(None, max_length=500, description="Author / artist / creator ('' clears)")
    copyright: str | None = Field(None, max_length=2000, description="Copyright notice ('' clears)")
    keywords: list[str] | None = Field(None, max_length=200, description="Keywords (a list, or a comma-separated "
                                                                         "string); [] clears")
    gps: Gps | None = Field(None, description="GPS position {lat, lon}")
    date_time: datetime | None = Field(None, description="Capture date/time (ISO 8601)")

    @field_validator("keywords", mode="before")
    @classmethod
    def _split_keywords(cls, value: Any) -> Any:
        if isinstance(value, str):
            return [k.strip() for k in value.split(",") if k.strip()]
        return value

    @field_validator("keywords")
    @classmethod
    def _clean_keywords(cls, value: list[str] | None) -> list[str] | None:
        if value is None:
            return None
        out = [k.strip()[:64] for k in value if k and k.strip()]
        return list(dict.fromkeys(out))

    @field_validator("date_time", mode="before")
    @classmethod
    def _exif_dates(cls, value: Any) -> Any:
        # also accept EXIF's own "YYYY:MM:DD HH:MM:SS"
        if isinstance(value, str) and len(value) >= 19 and value[4] == ":" and value[7] == ":":
            return value[:10].replace(":", "-") + "T" + value[11:]
        return value


def _checked(call: ToolCall) -> tuple[str, int]:
    """Validate the input as an image; its format and EXIF orientation. (ExifTool inflates a PNG's compressed
    text chunks whole: a zTXt bomb is refused before it sees it.)"""
    header, fmt = v.open_image(call.inputs[0], call.limits)
    png_text.check(call.inputs[0], call.names[0] if call.names else "the image")
    return fmt, v.orientation(header)


def _first(grouped: dict[str, dict[str, Any]], *keys: str) -> Any:
    for key in keys:
        group, _, tag = key.partition(":")
        value = grouped.get(group, {}).get(tag)
        if value not in (None, ""):
            return value
    return None


def _as_list(value: Any) -> list[str]:
    if value is None:
        return []
    if isinstance(value, list):
        return [str(x) for x in value]
    text = str(value)
    sep = ";" if ";" in text else ","
    return [part.strip() for part in text.split(sep) if part.strip()]


def summarise(grouped: dict[str, dict[str, Any]]) -> dict[str, Any]:
    lat = _first(grouped, "Composite:GPSLatitude")
    lon = _first(grouped, "Composite:GPSLongitude")
    gps = None
    try:
        if lat is not None and lon is not None:
            gps = {"lat": float(lat), "lon": float(lon)}
    except (TypeError, ValueError):
        gps = None
    author = _first(grouped, "XMP:Creator", "EXIF:Artist", "IPTC:By-line")
    return {
        "title": _first(grouped, "XMP:Title", "IPTC:ObjectName", "EXIF:XPTitle"),
        "description": _first(grouped, "XMP:Description", "EXIF:ImageDescription", "IPTC:Caption-Abstract"),
        "author": ", ".join(author) if isinstance(author, list) else author,
        "copyright": _first(grouped, "XMP:Rights", "EXIF:Copyright", "IPTC:CopyrightNotice"),
        "keywords": _as_list(_first(grouped, "XMP:Subject", "IPTC:Keywords", "EXIF:XPKeywords")),
        "gps": gps,
        "dateTime": _first(grouped, "EXIF:DateTimeOriginal", "XMP:DateTimeOriginal", "XMP:CreateDate",
                           "EXIF:CreateDate"),
    }


def inspect_body(grouped: dict[str, dict[str, Any]]) -> dict[str, Any]:
    body: dict[str, Any] = {"exif": {}, "iptc": {}, "xmp": {}, "icc": {}, "other": {}}
    count = 0
    for group, tags in grouped.items():
        if group in ("File", "Composite"):
            continue
        name = GROUP_NAMES.get(group)
        if name is None:
            body["other"].update({f"{group}:{k}": val for k, val in tags.items()})
        else:
            body.setdefault(name, {}).update(tags)
            if name != "icc":
                count += len(tags)
    body["file"] = {k: grouped.get("File", {}).get(k) for k in ("FileType", "MIMEType", "ImageWidth", "ImageHeight")
                    if k in grouped.get("File", {})}
    body["summary"] = summarise(grouped)
    body["fieldCount"] = count
    body["hasMetadata"] = count > 0
    return body


def _inspect(call: ToolCall) -> ToolResult:
    _checked(call)
    body = inspect_body(et.read(call.inputs[0]))
    out = call.workdir / f"{call.stem()}-metadata.json"
    out.write_text(json.dumps(body, indent=2, ensure_ascii=False, default=str))
    return ToolResult([out], body)


def _copy_input(call: ToolCall, fmt: str):
    out = call.workdir / f"{call.stem()}.{v.EXTENSIONS.get(v.output_format(fmt), 'png')}"
    if fmt not in v.EXTENSIONS:  # a format exiftool cannot rewrite safely (e.g. PPM): re-encode as PNG
        image, _ = v.load_upright(call.inputs[0], call.limits)
        out.write_bytes(v.encode(image, "png"))
    else:
        shutil.copyfile(call.inputs[0], out)
    return out


@tool("strip-metadata", section=Section.IMAGE, settings=NoSettings, accepts={"image", "svg"})
def strip(call: ToolCall) -> ToolResult:
    """Remove EXIF, IPTC and XMP metadata."""
    fmt, orientation = _checked(call)
    before = inspect_body(et.read(call.inputs[0]))["fieldCount"]
    out = _copy_input(call, fmt)
    et.strip(out, keep_orientation=orientation != 1)
    after = inspect_body(et.read(out))["fieldCount"]
    return ToolResult([out], {"fieldsRemoved": max(0, before - after), "fieldsKept": after})


@tool("strip-metadata/inspect", section=Section.IMAGE, settings=NoSettings, accepts={"image", "svg"},
      pipeline=False)
def strip_inspect(call: ToolCall) -> ToolResult:
    """Inspect the metadata fields that strip-metadata would remove."""
    return _inspect(call)


def assignments(s: EditMetadataSettings, fmt: str) -> list[str]:
    iptc = fmt in IPTC_FORMATS
    exif = fmt != "gif"
    out: list[str] = []

    def put(value: str | None, exif_tags: tuple[str, ...], xmp_tags: tuple[str, ...], iptc_tags: tuple[str, ...]):
        if value is None:
            return
        tags = (exif_tags if exif else ()) + xmp_tags + (iptc_tags if iptc else ())
        out.extend(f"-{tag}={value}" for tag in tags)

    put(s.title, ("EXIF:XPTitle",), ("XMP-dc:Title",), ("IPTC:ObjectName",))
    put(s.description, ("EXIF:ImageDescription",), ("XMP-dc:Description",), ("IPTC:Caption-Abstract",))
    put(s.author, ("EXIF:Artist", "EXIF:XPAuthor"), ("XMP-dc:Creator",), ("IPTC:By-line",))
    put(s.copyright, ("EXIF:Copyright",), ("XMP-dc:Rights",), ("IPTC:CopyrightNotice",))
    if s.keywords is not None:
        out.append("-XMP-dc:Subject=")
        out.extend(f"-XMP-dc:Subject={k}" for k in s.keywords)
        if iptc:
            out.append("-IPTC:Keywords=")
            out.extend(f"-IPTC:Keywords={k}" for k in s.keywords)
        if exif:
            out.append(f"-EXIF:XPKeywords={';'.join(s.keywords)}")
    if s.gps is not None:
        lat, lon = s.gps.lat, s.gps.lon
        if exif:
            out += [f"-EXIF:GPSLatitude={abs(lat)}", f"-EXIF:GPSLatitudeRef={'N' if lat >= 0 else 'S'}",
                    f"-EXIF:GPSLongitude={abs(lon)}", f"-EXIF:GPSLongitudeRef={'E' if lon >= 0 else 'W'}"]
        out += [f"-XMP-exif:GPSLatitude={lat}", f"-XMP-exif:GPSLongitude={lon}"]
    if s.date_time is not None:
        stamp = s.date_time.strftime("%Y:%m:%d %H:%M:%S")
        if exif:
            out += [f"-EXIF:DateTimeOriginal={stamp}", f"-EXIF:CreateDate={stamp}"]
        out += [f"-XMP-exif:DateTimeOriginal={stamp}", f"-XMP-xmp:CreateDate={stamp}"]
    return out


@tool("edit-metadata", section=Section.IMAGE, settings=EditMetadataSettings, accepts={"image", "svg"})
def edit(call: ToolCall[EditMetadataSettings]) -> ToolResult:
    """Write title, description, author, copyright, keywords, GPS and date into the image's metadata."""
    s = call.settings
    fmt, _ = _checked(call)
    out = _copy_input(call, fmt)
    changes = assignments(s, v.output_format(fmt))
    if changes:
        et.write(out, changes)
    summary = summarise(et.read(out))
    return ToolResult([out], {"metadata": summary, "fieldsWritten": len(changes)})


@tool("edit-metadata/inspect", section=Section.IMAGE, settings=NoSettings, accepts={"image", "svg"},
      pipeline=False)
def edit_inspect(call: ToolCall) -> ToolResult:
    """Read existing EXIF/IPTC/XMP metadata from an image."""
    return _inspect(call)
