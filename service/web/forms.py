"""A tool's settings form, derived from its pydantic model's JSON schema (the one validation and OpenAPI use).

Each property becomes a `FormField` saying which control to show: bounded numbers a slider with a number
field, enums a select or segmented buttons, booleans a toggle, colours a colour picker (`protocols.fields`),
anything structured a JSON text area. `x-when` (protocols.fields.when) says when a field applies."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from functools import cache
from typing import Any

from protocols.fields import PAGES_KEY, WHEN_KEY, is_colour
from protocols.tools import ToolSpec

SEGMENTED_MAX = 4  # enums with at most this many short options show as buttons, longer ones as a select
SLIDER_MAX_SPAN = 10_000  # a slider over more values than this is no use: number field only


@dataclass
class FormField:
    name: str  # the camelCase key sent in `settings`
    label: str
    help: str
    widget: str  # range | number | select | segmented | toggle | colour | text | textarea | json
    kind: str  # how the browser converts the control's value: integer | number | boolean | string | json
    default: Any = None
    required: bool = False
    nullable: bool = False
    minimum: float | None = None
    maximum: float | None = None
    step: float | str = "any"
    options: list[Any] = field(default_factory=list)
    max_length: int | None = None
    when: dict[str, list[Any]] = field(default_factory=dict)
    pages: str = ""  # "select" | "order": a PDF page list the form can pick from thumbnails

    @property
    def default_text(self) -> str:
        """The default as the control's value attribute."""
        if self.default is None:
            return ""
        if self.kind == "json":
            return json.dumps(self.default)
        if isinstance(self.default, bool):
            return "true" if self.default else "false"
        return str(self.default)

    @property
    def when_json(self) -> str:
        return json.dumps(self.when) if self.when else ""


def label_for(name: str) -> str:
    """camelCase -> 'Camel case' ('targetSizeKb' -> 'Target size KB')."""
    words = re.findall(r"[A-Z]?[a-z0-9]+|[A-Z]+(?![a-z])", name) or [name]
    text = " ".join(w if w.isupper() and len(w) > 1 else w.lower() for w in words)
    text = re.sub(r"\b(kb|mb|px|fps|dpi|url|id|ms|pdf|csv|json|xml|gps|crf)\b", lambda m: m.group(1).upper(), text)
    text = text.replace("PX", "px")
    return text[:1].upper() + text[1:]


def _branches(prop: dict[str, Any]) -> tuple[dict[str, Any], bool]:
    """(the non-null schema, nullable) of a property that may be `anyOf [X, null]`."""
    options = prop.get("anyOf")
    if not options:
        return prop, False
    non_null = [o for o in options if o.get("type") != "null"]
    nullable = len(non_null) < len(options)
    if len(non_null) == 1:
        return non_null[0], nullable
    return {"anyOf": non_null}, nullable


def field_for(name: str, prop: dict[str, Any], required: bool) -> FormField:
    schema, nullable = _branches(prop)
    common = {
        "name": name,
        "label": label_for(name),
        "help": prop.get("description", ""),
        "default": prop.get("default"),
        "required": required,
        "nullable": nullable,
        "when": prop.get(WHEN_KEY) or schema.get(WHEN_KEY) or {},
        "pages": prop.get(PAGES_KEY) or schema.get(PAGES_KEY) or "",
    }
    kind = schema.get("type")
    if "enum" in schema or "const" in schema:
        options = list(schema.get("enum") or [schema.get("const")])
        short = len(options) <= SEGMENTED_MAX and all(len(str(o)) <= 12 for o in options) and not nullable
        value_kind = "integer" if all(isinstance(o, int) for o in options) else "string"
        return FormField(widget="segmented" if short else "select", kind=value_kind, options=options, **common)
    if kind == "boolean":
        return FormField(widget="toggle", kind="boolean", **common)
    if kind in ("integer", "number"):
        low = schema.get("minimum", schema.get("exclusiveMinimum"))
        high = schema.get("maximum", schema.get("exclusiveMaximum"))
        step: float | str = 1 if kind == "integer" else "any"
        if kind == "number" and low is not None and high is not None and high - low <= 10:
            step = 0.01 if high - low <= 1 else 0.1
        bounded = low is not None and high is not None and high - low <= SLIDER_MAX_SPAN
        widget = "range" if bounded and not nullable else "number"
        return FormField(widget=widget, kind=kind, minimum=low, maximum=high, step=step, **common)
    if kind == "string":
        if is_colour(schema):
            return FormField(widget="colour", kind="string", **common)
        max_length = schema.get("maxLength")
        widget = "textarea" if max_length is None or max_length > 300 else "text"
        return FormField(widget=widget, kind="string", max_length=max_length, **common)
    return FormField(widget="json", kind="json", **common)


@cache
def settings_form(spec: ToolSpec) -> list[FormField]:
    """The form of a tool, built once per process (the registry does not change while it runs); read-only."""
    schema = spec.settings.model_json_schema(by_alias=True)
    required = set(schema.get("required", ()))
    return [field_for(name, prop, name in required) for name, prop in schema.get("properties", {}).items()]


def needs_extra_input(spec: ToolSpec) -> bool:
    """Whether the form as it opens cannot run: a setting without a default, a rule of the model that the
    defaults break (e.g. 'give width, height or percentage'), or a named second input the tool requires."""
    from pydantic import ValidationError

    if spec.roles and spec.inputs[0] > 1:
        return True
    try:
        spec.settings.model_validate({})
    except ValidationError:
        return True
    return False


# what the file picker offers for each kind the upload sniffer knows (a hint: the server decides)
ACCEPT_BY_KIND = {
    "image": "image/*,.heic,.heif,.avif,.jxl,.dng,.cr2,.nef,.arw",
    "svg": ".svg,image/svg+xml",
    "video": "video/*,.mkv",
    "audio": "audio/*",
    "pdf": ".pdf,application/pdf",
    "zip": ".zip",
    "archive": ".zip,.tar,.gz,.tgz,.7z",
    "office": ".doc,.docx,.odt,.rtf,.xls,.xlsx,.ods,.ppt,.pptx,.odp",
    "epub": ".epub",
    "text": ".txt,.csv,.tsv,.json,.xml,.yaml,.yml,.md,.html,.htm,.srt,.vtt,.ass",
}


def accept_attribute(spec: ToolSpec) -> str:
    if not spec.accepts:
        return ""
    parts = [ACCEPT_BY_KIND[k] for k in sorted(spec.accepts) if k in ACCEPT_BY_KIND]
    return ",".join(dict.fromkeys(",".join(parts).split(","))) if parts else ""
