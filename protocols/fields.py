"""Shared settings field types, and the hints a form needs that a type alone does not say.

A tool declares them once, in its settings model, and they travel in the model's JSON schema: validation,
OpenAPI and the web app's generated form all read the same declaration.

- `Colour`: a hex colour (`#rgb`, `#rgba`, `#rrggbb`, `#rrggbbaa`, `#` optional); the schema says
  `format: color`, so a form shows a colour picker.
- `Quality`: an encoder quality 1..100.
- `when(field, *values)`: this field applies only while `field` has one of `values` (schema key `x-when`):
  `amount: float = Field(100, json_schema_extra=when("method", "unsharp-mask"))`.
- `page_list("select" | "order")`: a string of PDF pages in qpdf syntax ('1-3,5'), chosen by selecting pages
  or by putting them in order (schema key `x-pages`); a form shows the pages as thumbnails.
  `page_list("rotate")`: an object {page number: clockwise angle}, set by turning each page's thumbnail.
"""

from __future__ import annotations

import re
from typing import Annotated, Any

from pydantic import Field
from pydantic.alias_generators import to_camel

HEX_COLOUR = r"^#?([0-9a-fA-F]{3,4}|[0-9a-fA-F]{6}|[0-9a-fA-F]{8})$"
COLOUR_FORMAT = "color"  # JSON Schema has no colour format; "color" is what OpenAPI tools and forms look for
WHEN_KEY = "x-when"

Colour = Annotated[str, Field(pattern=HEX_COLOUR, json_schema_extra={"format": COLOUR_FORMAT})]
Quality = Annotated[int, Field(ge=1, le=100)]


def when(field: str, *values: Any) -> dict[str, Any]:
    """`json_schema_extra` saying that a field applies only while `field` (its Python or camelCase name) is one
    of `values`."""
    if not values:
        raise ValueError("when() needs at least one value")
    return {WHEN_KEY: {to_camel(field): list(values)}}


PAGES_KEY = "x-pages"


def page_list(mode: str) -> dict[str, Any]:
    """`json_schema_extra` of a page-list field: pages are picked ("select"), ordered ("order") or each turned
    by its own angle ("rotate")."""
    if mode not in ("select", "order", "rotate"):
        raise ValueError("page_list mode is 'select', 'order' or 'rotate'")
    return {PAGES_KEY: mode}


# colours declared before `Colour` existed: a string whose only allowed values are hex colours
_HEX_ONLY = re.compile(r"^\^#\??\((?:\[0-9a-fA-F\]\{\d(?:,\d)?\}\|?)+\)\$$")


def is_colour(schema: dict[str, Any]) -> bool:
    """Whether a property's JSON schema (or a branch of it) holds a colour."""
    if schema.get("format") == COLOUR_FORMAT:
        return True
    pattern = schema.get("pattern")
    return schema.get("type") == "string" and isinstance(pattern, str) and bool(_HEX_ONLY.match(pattern))
