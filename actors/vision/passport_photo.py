"""Passport photo: find the face, replace the background, crop and scale so the head (chin to crown) has the
country's height, then optionally tile on a 4x6 in or A4 sheet at 300 dpi.

`/analyze` runs the AI part once (face + subject mask, cached with the job); `/generate` takes the JSON
that /analyze returned plus layout options and only crops, scales and tiles."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Literal

import pyvips
from pydantic import BeforeValidator, Field

from actors._lazy import cv2, np
from actors.vision import _faces, _img, segmentation
from actors.vision._passport import DPI, LAYOUTS, SPECS, PhotoSpec, mm_to_px
from actors.vision.remove_background import CACHE, JOB_ID
from protocols.errors import ErrorCode, ToolError, bad_input
from protocols.tools import Mode, Runs, Section, ToolCall, ToolResult, ToolSettings, tool

# ISO codes are written upper-case ("US"); the table's keys are lower-case, so any case is accepted
Country = Annotated[Literal[tuple(SPECS)],  # type: ignore[valid-type]
                    BeforeValidator(lambda v: v.strip().lower() if isinstance(v, str) else v)]
NEEDS = (_faces.BUNDLE, segmentation.BUNDLE)


class PassportSettings(ToolSettings):
    country: Country = Field("us", description="Country whose photo rules apply (ISO code in any case, 37 countries)")
    print_layout: Literal["4x6", "A4", "none"] = Field("none", description="Also tile the photo on a print sheet")
    background_color: str | None = Field(None, pattern=_img.HEX, description="Override the country's background")


class AnalyzeSettings(ToolSettings):
    country: Country = Field("us", description="Country whose photo rules apply (ISO code in any case)")


class GenerateSettings(PassportSettings):
    job_id: str = Field(..., pattern=JOB_ID, description="jobId returned by /analyze")
    crown_y: float | None = Field(None, ge=0, description="Adjusted top of the head (px), from /analyze")
    chin_y: float | None = Field(None, ge=0, description="Adjusted chin (px), from /analyze")


def analyze(rgb: np.ndarray) -> tuple[dict, np.ndarray]:
    faces = _faces.detect_faces(rgb, 0.4)
    if not faces:
        raise bad_input("No face was found: use a front-facing photo with the whole head visible.")
    if len(faces) > 1:
        faces.sort(key=lambda f: -f[2] * f[3])
        if faces[1][2] * faces[1][3] > 0.5 * faces[0][2] * faces[0][3]:
            raise bad_input("More than one face was found; a passport photo shows one person.")
    x, y, w, h = faces[0]
    mask = segmentation.subject_mask(rgb)
    # crown: the highest subject pixel above the face, within the face's columns
    cols = mask[:, x + w // 4: x + 3 * w // 4] > 0.5
    rows = np.nonzero(cols.any(axis=1))[0]
    above = rows[rows < y + h // 2]
    crown = float(above.min()) if len(above) else max(0.0, y - 0.45 * h)
    chin = float(min(rgb.shape[0] - 1, y + 1.05 * h))
    eyes = _faces.detect_eyes(rgb, faces[0])
    info = {"face": _faces.as_json([faces[0]])[0], "eyes": _faces.as_json(eyes), "crownY": round(crown, 1),
            "chinY": round(chin, 1), "imageWidth": int(rgb.shape[1]), "imageHeight": int(rgb.shape[0])}
    return info, mask


def compose(rgb: np.ndarray, mask: np.ndarray, info: dict, spec: PhotoSpec, background: str) -> np.ndarray:
    bg = segmentation.solid(rgb.shape[0], rgb.shape[1], _img.hex_rgb(background))
    flat = segmentation.composite(rgb, segmentation.feather(mask, 1.5), bg)
    out_w, out_h = mm_to_px(spec.width_mm), mm_to_px(spec.height_mm)
    head_px = mm_to_px((spec.head_min_mm + spec.head_max_mm) / 2)
    head_src = max(1.0, info["chinY"] - info["crownY"])
    scale = head_px / head_src
    face = info["face"]
    cx = (face["x"] + face["width"] / 2) * scale
    top_margin = (out_h - head_px) * 0.42  # slightly more room under the chin than above the crown
    x0 = round(cx - out_w / 2)
    y0 = round(info["crownY"] * scale - top_margin)
    scaled = cv2.resize(flat.astype(np.float32), (max(1, round(rgb.shape[1] * scale)), max(1, round(rgb.shape[0] * scale))),
                        interpolation=cv2.INTER_AREA if scale < 1 else cv2.INTER_CUBIC)
    canvas = segmentation.solid(out_h, out_w, _img.hex_rgb(background))
    sx0, sy0 = max(0, x0), max(0, y0)
    sx1, sy1 = min(scaled.shape[1], x0 + out_w), min(scaled.shape[0], y0 + out_h)
    if sx1 > sx0 and sy1 > sy0:
        canvas[sy0 - y0: sy1 - y0, sx0 - x0: sx1 - x0] = scaled[sy0:sy1, sx0:sx1]
    return np.clip(canvas, 0, 255).astype(np.uint8)


def sheet(photo: np.ndarray, layout: str) -> tuple[np.ndarray, int]:
    width, height = LAYOUTS[layout]
    ph, pw = photo.shape[:2]

    def grid(g: int) -> tuple[int, int]:
        return max(1, (width + g) // (pw + g)), max(1, (height + g) // (ph + g))

    # a 2 mm gap between copies unless butting them edge to edge fits more (2x2 in on 4x6 in: 6 copies)
    gap = max((mm_to_px(2), 0), key=lambda g: (grid(g)[0] * grid(g)[1], g))
    cols, rows = grid(gap)
    canvas = np.full((height, width, 3), 255, np.uint8)
    ox = (width - cols * pw - (cols - 1) * gap) // 2
    oy = (height - rows * ph - (rows - 1) * gap) // 2
    for r in range(rows):
        for c in range(cols):
            x, y = ox + c * (pw + gap), oy + r * (ph + gap)
            if x + pw <= width and y + ph <= height:
                canvas[y: y + ph, x: x + pw] = photo
                cv2.rectangle(canvas, (x - 1, y - 1), (x + pw, y + ph), (200, 200, 200), 1)  # cut guides
    return canvas, rows * cols


def _save_jpeg(array: np.ndarray, path: Path) -> Path:
    image = pyvips.Image.new_from_array(np.ascontiguousarray(array), interpretation="srgb")
    image = image.copy(xres=DPI / 25.4, yres=DPI / 25.4)
    path.write_bytes(image.jpegsave_buffer(Q=95, keep="exif"))  # "exif" keeps the 300 dpi density
    return path


def _outputs(call: ToolCall, rgb, mask, info, s: PassportSettings) -> ToolResult:
    spec = SPECS[s.country]
    photo = compose(rgb, mask, info, spec, s.background_color or spec.background)
    outputs = [_save_jpeg(photo, call.workdir / f"{call.stem()}_passport_{spec.code}.jpg")]
    extra = {"country": spec.as_json(), "widthPx": int(photo.shape[1]), "heightPx": int(photo.shape[0]), "dpi": DPI,
             "analysis": info}
    if s.print_layout != "none":
        page, copies = sheet(photo, s.print_layout)
        outputs.append(_save_jpeg(page, call.workdir / f"{call.stem()}_sheet_{s.print_layout}.jpg"))
        extra["copies"] = copies
    return ToolResult(outputs, extra)


def _cache(call: ToolCall, rgb, mask, info) -> None:
    folder = call.workdir.parent / CACHE
    segmentation.save_mask(mask, folder / "mask.png")
    cv2.imwrite(str(folder / "source.png"), cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_PNG_COMPRESSION, 1])
    (folder / "passport.json").write_text(json.dumps(info))


@tool("passport-photo", section=Section.IMAGE, settings=PassportSettings, mode=Mode.LONG,
      accepts={"image", "svg"}, requires=NEEDS, runs=Runs.THREAD)
def run(call: ToolCall[PassportSettings]) -> ToolResult:
    """Make a passport photo for a country's rules (size, head height, background), optionally on a print sheet."""
    s = call.settings
    rgb = _img.load_rgb(call.inputs[0], call.limits)
    info, mask = analyze(rgb)
    _cache(call, rgb, mask, info)
    return _outputs(call, rgb, mask, info, s)


@tool("passport-photo/analyze", section=Section.IMAGE, settings=AnalyzeSettings,
      mode=Mode.LONG, accepts={"image", "svg"}, pipeline=False, requires=NEEDS, runs=Runs.THREAD)
def analyze_route(call: ToolCall[AnalyzeSettings]) -> ToolResult:
    """Phase 1: face detection and background removal; returns the landmarks and caches the work."""
    s = call.settings
    rgb = _img.load_rgb(call.inputs[0], call.limits)
    info, mask = analyze(rgb)
    _cache(call, rgb, mask, info)
    out = call.workdir / f"{call.stem()}-analysis.json"
    # the landmarks in the answer itself (the reference's shape), flat as /generate takes them back
    landmarks = {"face": info["face"], "eyes": info["eyes"], "crownY": info["crownY"], "chinY": info["chinY"]}
    body = {**info, "landmarks": landmarks, "country": SPECS[s.country].as_json()}
    out.write_text(json.dumps(body, indent=1))
    return ToolResult([out], body)


@tool("passport-photo/generate", section=Section.IMAGE, settings=GenerateSettings,
      mode=Mode.FAST, inputs=(0, 0), body="either", pipeline=False, runs=Runs.THREAD)
def generate(call: ToolCall[GenerateSettings]) -> ToolResult:
    """Phase 2: crop, scale and tile from the cached analysis (no AI run)."""
    s = call.settings
    folder = call.workdir.parent.parent / s.job_id / CACHE
    try:
        info = json.loads((folder / "passport.json").read_text())
        mask = segmentation.load_mask(folder / "mask.png")
        bgr = cv2.imread(str(folder / "source.png"), cv2.IMREAD_COLOR)
        if bgr is None:
            raise FileNotFoundError
    except (OSError, ValueError):
        raise ToolError("No cached analysis for that jobId: run passport-photo/analyze first (results expire).",
                        ErrorCode.NOT_FOUND, 404) from None
    if s.crown_y is not None:
        info["crownY"] = s.crown_y
    if s.chin_y is not None:
        info["chinY"] = s.chin_y
    if info["chinY"] - info["crownY"] < 10:
        raise bad_input("chinY must be below crownY.")
    call.names = [f"passport-{s.job_id[:8]}"]
    return _outputs(call, cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB), mask, info, s)
