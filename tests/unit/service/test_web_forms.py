"""Forms generated from tool settings models, and the field hints of protocols/fields."""

from __future__ import annotations

from typing import Literal

import pytest
from pydantic import Field, ValidationError

from actors import catalog
from protocols.fields import Colour, Quality, is_colour, when
from protocols.tools import ToolSettings
from service.web import catalogue
from service.web.forms import field_for, label_for, needs_extra_input, settings_form

catalog.load()
from protocols.tools import REGISTRY  # noqa: E402


class Demo(ToolSettings):
    mode: Literal["a", "b"] = "a"
    level: int = Field(5, ge=0, le=10, json_schema_extra=when("mode", "b"))
    tint: Colour = Field("#ff0000", description="Tint")
    quality: Quality = 80
    width: int | None = Field(None, ge=1, le=65535)
    flag: bool = False
    codec: Literal["h264", "h265", "vp9", "av1", "prores"] = "h264"
    stops: list[str] = Field(default_factory=lambda: ["#000"])


def widgets(model) -> dict[str, tuple[str, str]]:
    schema = model.model_json_schema(by_alias=True)
    return {n: (f.widget, f.kind) for n, f in ((n, field_for(n, p, False)) for n, p in schema["properties"].items())}


def test_controls_follow_the_schema():
    assert widgets(Demo) == {
        "mode": ("segmented", "string"), "level": ("range", "integer"), "tint": ("colour", "string"),
        "quality": ("range", "integer"), "width": ("number", "integer"), "flag": ("toggle", "boolean"),
        "codec": ("select", "string"), "stops": ("json", "json"),
    }


def test_colour_type_validates_and_marks_the_schema():
    assert Demo(tint="#0a0b0c").tint == "#0a0b0c"
    with pytest.raises(ValidationError):
        Demo(tint="red; drop")
    schema = Demo.model_json_schema(by_alias=True)["properties"]["tint"]
    assert schema["format"] == "color" and is_colour(schema)
    # colours declared before the type existed: a hex-only pattern
    assert is_colour({"type": "string", "pattern": r"^#?([0-9a-fA-F]{3}|[0-9a-fA-F]{6})$"})
    assert not is_colour({"type": "string", "pattern": r"^[a-z]+$"})


def test_when_names_the_camel_case_field_and_reaches_the_form():
    assert when("kernel_size", 3) == {"x-when": {"kernelSize": [3]}}
    with pytest.raises(ValueError):
        when("mode")
    fields = {f.name: f for f in settings_form(REGISTRY["sharpening"])}
    assert fields["amount"].when == {"method": ["unsharp-mask"]}
    assert fields["sigma"].when == {"method": ["adaptive"]}
    assert fields["kernelSize"].when == {"method": ["high-pass"]} and fields["kernelSize"].widget == "segmented"
    assert fields["denoise"].when == {}
    compress = {f.name: f for f in settings_form(REGISTRY["compress"])}
    assert compress["targetSizeKb"].when == {"mode": ["targetSize"]}


def test_labels_and_forms_that_cannot_run_as_they_open():
    assert label_for("targetSizeKb") == "Target size KB"
    assert label_for("withoutEnlargement") == "Without enlargement"
    assert needs_extra_input(REGISTRY["resize"])  # a model rule: width, height, percentage or preset
    assert needs_extra_input(REGISTRY["watermark-image"])  # the watermark is a required second input
    assert needs_extra_input(REGISTRY["barcode-generate"])  # text has no default
    assert not needs_extra_input(REGISTRY["sharpening"])
    assert not needs_extra_input(REGISTRY["remove-background"])  # its background image is optional


def test_catalogue_places_every_tool_once_in_its_section():
    sections = catalogue.sections(set())
    placed = [t.id for s in sections for g in s.groups for t in g.tools]
    assert sorted(placed) == sorted(s.id for s in REGISTRY.values() if not s.is_subroute)
    for s in sections:
        assert all(t.section == s.id for g in s.groups for t in g.tools)
    assert "resize" not in [t.id for s in catalogue.sections({"resize"}) for g in s.groups for t in g.tools]
    assert catalogue.name("rotate") == "Rotate & Flip" and catalogue.name("brand-new-tool") == "Brand new tool"
