"""Meme generator: template mode (JSON body with templateId) or custom-image mode (multipart with a file).

Text is fitted into each box (largest size that fits, unless fontSize is given), word-wrapped, drawn with
a stroke (width ≈ size/14) in the chosen family. Font families map to free fonts (see `_fonts`).
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from actors.common import imageio as v
from actors.image import _draw as d
from actors.image import meme_templates
from protocols.errors import bad_input
from protocols.tools import Section, ToolCall, ToolResult, ToolSettings, tool

Layout = Literal["top-bottom", "top-only", "bottom-only", "center", "side-by-side"]
FontFamily = Literal["anton", "arial-black", "comic-sans", "montserrat", "bebas-neue", "permanent-marker", "roboto"]


class TextBox(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)
    id: str | None = Field(None, max_length=40, description="Text box id (template box or layout slot)")
    text: str = Field("", max_length=500, description="Text for the box")


class MemeSettings(ToolSettings):
    template_id: str | None = Field(None, max_length=80, description="Template id (template mode)")
    text_layout: Layout = Field("top-bottom", description="Text layout on a custom image")
    text_boxes: list[TextBox] = Field(default_factory=list, max_length=20, description="[{id, text}]")
    font_family: FontFamily = Field("anton", description="Font family (free equivalents, see docs)")
    font_size: int | None = Field(None, ge=8, le=400, description="Font size in px; default fits each box")
    text_color: str = Field("#ffffff", pattern=d.HEX, description="Text colour (hex)")
    stroke_color: str = Field("#000000", pattern=d.HEX, description="Outline colour (hex)")
    text_align: Literal["left", "center", "right"] = Field("center", description="Horizontal alignment")
    all_caps: bool = Field(True, description="Upper-case the text")


def assign(boxes: list[dict], given: list[TextBox]) -> list[tuple[dict, str]]:
    """Match texts to boxes by id; texts without an id fill the remaining boxes in order."""
    by_id = {b["id"]: b for b in boxes}
    used: dict[str, str] = {}
    loose: list[str] = []
    for item in given:
        if item.id is None or item.id == "":
            loose.append(item.text)
        elif item.id in by_id:
            used[item.id] = item.text
        else:
            raise bad_input(f"Unknown text box '{item.id}'. This layout has: {', '.join(by_id)}.")
    for box in boxes:
        if box["id"] not in used and loose:
            used[box["id"]] = loose.pop(0)
    if loose:
        raise bad_input(f"Too many text boxes: this layout has {len(boxes)}.")
    return [(box, used[box["id"]]) for box in boxes if used.get(box["id"], "").strip()]


@tool("meme-generator", section=Section.IMAGE, settings=MemeSettings, accepts={"image", "svg"},
      inputs=(0, 1), body="either")
def run(call: ToolCall[MemeSettings]) -> ToolResult:
    """Make a meme from a template or your own image."""
    s = call.settings
    if call.inputs:
        image, fmt = v.load_upright(call.inputs[0], call.limits)
        canvas = d.to_pil(image)
        boxes = meme_templates.custom_boxes(s.text_layout, canvas.width, canvas.height)
        stem = f"{call.stem()}-meme"
    else:
        if not s.template_id:
            raise bad_input("Give a templateId (JSON body), or upload an image as 'file' (multipart).")
        templates = meme_templates.templates()
        if s.template_id not in templates:
            raise bad_input(f"Unknown meme template '{s.template_id}'.")
        # drawn here, not read from the shared assets folder: a confined worker's temporary folder is the job's
        canvas = meme_templates.draw_template(s.template_id).convert("RGB")
        boxes = templates[s.template_id]["textBoxes"]
        fmt, stem = "jpeg", f"{s.template_id}-meme"
    if canvas.mode not in ("RGB", "RGBA"):
        canvas = canvas.convert("RGBA" if "A" in canvas.mode else "RGB")
    placed = []
    for box, text in assign(boxes, s.text_boxes):
        text = text.upper() if s.all_caps else text
        fill = d.rgba(box.get("color", s.text_color) if s.text_color == "#ffffff" else s.text_color)
        stroke = d.rgba(box.get("stroke", s.stroke_color) if s.stroke_color == "#000000" else s.stroke_color)
        used = meme_templates.draw_box_text(canvas, box, text, family=s.font_family, size=s.font_size, fill=fill,
                                    stroke_fill=stroke, align=s.text_align, vertical=box.get("vertical", "middle"))
        placed.append({"id": box["id"], **used})
    out_image = d.from_pil(canvas)
    out = v.save(out_image, call.workdir, stem, fmt)
    return ToolResult([out], {"width": out_image.width, "height": out_image.height, "textBoxes": placed})
