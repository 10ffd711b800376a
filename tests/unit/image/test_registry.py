"""Issue #5 acceptance: every non-essential image tool (and sub-route) is registered with the reference's
settings (camelCase names, enums, ranges, defaults), its section, body kind and arity."""

from __future__ import annotations

import typing

import pytest
from pydantic import ValidationError

from actors import catalog

# tool id -> the "Key settings" of /work/shared/spec/api-reference.txt (camelCase, as clients send them)
REFERENCE: dict[str, set[str]] = {
    "optimize-for-web": {"format", "quality", "maxWidth", "maxHeight", "progressive", "stripMetadata"},
    "optimize-for-web/preview": {"format", "quality", "maxWidth", "maxHeight", "progressive", "stripMetadata"},
    "strip-metadata": set(),
    "strip-metadata/inspect": set(),
    "edit-metadata": {"title", "description", "author", "copyright", "keywords", "gps", "dateTime"},
    "edit-metadata/inspect": set(),
    "bulk-rename": {"pattern", "startIndex", "padding"},
    "image-to-pdf": {"pageSize", "orientation", "margin", "targetSize"},
    "favicon": {"padding", "backgroundColor", "borderRadius"},
    "adjust-colors": {"brightness", "contrast", "exposure", "saturation", "temperature", "tint", "hue", "sharpness",
                      "red", "green", "blue", "effect"},
    "sharpening": {"method", "sigma", "m1", "m2", "x1", "y2", "y3", "amount", "radius", "threshold", "strength",
                   "kernelSize", "denoise"},
    "replace-color": {"sourceColor", "targetColor", "makeTransparent", "tolerance"},
    "color-blindness": {"simulationType"},
    "duotone": {"shadow", "highlight", "intensity"},
    "pixelate": {"blockSize", "region"},
    "vignette": {"strength", "color", "radius", "softness", "roundness", "centerX", "centerY"},
    "watermark-text": {"text", "font", "fontSize", "color", "opacity", "position", "rotation", "tile"},
    "watermark-image": {"opacity", "position", "scale"},
    "text-overlay": {"text", "font", "fontSize", "color", "x", "y", "background", "padding", "borderRadius"},
    "compose": {"x", "y", "opacity", "blend"},
    "meme-generator": {"templateId", "textLayout", "textBoxes", "fontFamily", "fontSize", "textColor", "strokeColor",
                       "textAlign", "allCaps"},
    "info": set(),
    "compare": {"mode", "diffThreshold"},
    "find-duplicates": {"threshold"},
    "color-palette": {"count", "format"},
    "qr-generate": {"data", "size", "margin", "colorDark", "colorLight", "errorCorrectionLevel", "dotStyle",
                    "cornerStyle"},
    "barcode-read": set(),
    "barcode-generate": {"text", "type", "scale", "includeText"},
    "image-to-base64": {"format", "mimeType"},
    "html-to-image": {"url", "format", "quality", "fullPage", "devicePreset", "viewportWidth", "viewportHeight"},
    "histogram": {"scale"},
    "lqip-placeholder": {"width", "blur", "strategy", "format", "quality"},
    "collage": {"template", "gap", "backgroundColor", "borderRadius"},
    "stitch": {"direction", "gap", "backgroundColor", "alignment"},
    "split": {"mode", "rows", "cols", "tileWidth", "tileHeight"},
    "border": {"width", "color", "style", "borderRadius", "padding", "shadow"},
    "beautify": {"backgroundType", "gradientStops", "padding", "borderRadius", "shadowPreset", "frame", "socialPreset",
                 "watermarkText", "outputFormat"},
    "circle-crop": {"zoom", "offsetX", "offsetY", "borderWidth", "borderColor", "background", "outputSize"},
    "image-pad": {"target", "ratioW", "ratioH", "background", "color", "padding"},
    "sprite-sheet": {"columns", "padding", "background", "format", "quality"},
    "svg-to-raster": {"format", "width", "height", "scale", "dpi", "background"},
    "vectorize": {"colorMode", "threshold", "colorPrecision", "filterSpeckle", "pathMode"},
    "gif-tools": {"action"},
    "gif-tools/info": set(),
    "gif-webp": {"quality", "lossless", "resizePercent"},
    "pdf-to-image": {"pages", "format", "dpi", "quality"},
    "pdf-to-image/info": set(),
    "pdf-to-image/preview": set(),
}

# enums whose every reference value must be accepted (extra aliases such as "jpg" are allowed)
ENUMS: dict[tuple[str, str], set] = {
    ("optimize-for-web", "format"): {"webp", "jpeg", "avif", "png"},
    ("adjust-colors", "effect"): {"none", "grayscale", "sepia", "invert"},
    ("sharpening", "method"): {"adaptive", "unsharp-mask", "high-pass"},
    ("sharpening", "kernelSize"): {3, 5},
    ("sharpening", "denoise"): {"off", "light", "medium", "strong"},
    ("color-blindness", "simulationType"): {"protanopia", "deuteranopia", "tritanopia", "protanomaly", "deuteranomaly",
                                            "tritanomaly", "achromatopsia", "blueConeMonochromacy"},
    ("meme-generator", "textLayout"): {"top-bottom", "top-only", "bottom-only", "center", "side-by-side"},
    ("meme-generator", "fontFamily"): {"anton", "arial-black", "comic-sans", "montserrat", "bebas-neue",
                                       "permanent-marker", "roboto"},
    ("compare", "mode"): {"side-by-side", "overlay", "diff"},
    ("color-palette", "format"): {"hex", "rgb"},
    ("barcode-generate", "type"): {"code128", "ean13", "upca", "code39", "itf14", "datamatrix"},
    ("image-to-base64", "format"): {"data-uri", "plain"},
    ("html-to-image", "format"): {"jpg", "png", "webp"},
    ("html-to-image", "devicePreset"): {"desktop", "tablet", "mobile", "custom"},
    ("histogram", "scale"): {"linear", "log"},
    ("lqip-placeholder", "strategy"): {"blur", "pixelate", "solid"},
    ("lqip-placeholder", "format"): {"webp", "png", "jpeg"},
    ("stitch", "direction"): {"horizontal", "vertical", "grid"},
    ("split", "mode"): {"grid", "rows", "cols"},
    ("border", "style"): {"solid", "gradient", "pattern"},
    ("beautify", "backgroundType"): {"solid", "linear-gradient", "radial-gradient", "image", "transparent"},
    ("beautify", "frame"): {"none", "macos-light", "macos-dark", "windows-light", "windows-dark", "browser-light",
                            "browser-dark", "iphone", "macbook", "ipad"},
    ("beautify", "socialPreset"): {"none", "twitter", "linkedin", "instagram-square", "instagram-story", "facebook",
                                   "producthunt"},
    ("image-pad", "target"): {"16:9", "9:16", "1:1", "4:3", "3:4", "custom"},
    ("image-pad", "background"): {"color", "transparent", "blur"},
    ("sprite-sheet", "format"): {"png", "webp", "jpeg"},
    ("svg-to-raster", "format"): {"png", "jpeg", "webp", "avif", "tiff", "gif", "heif"},
    ("vectorize", "colorMode"): {"bw", "color"},
    ("vectorize", "pathMode"): {"none", "polygon", "spline"},
    ("gif-tools", "action"): {"resize", "optimize", "reverse", "speed", "extract-frames", "rotate", "add-text"},
}

# (tool, setting) -> (lowest accepted, highest accepted) from the reference's ranges
RANGES: dict[tuple[str, str], tuple[float, float]] = {
    ("duotone", "intensity"): (0, 100),
    ("pixelate", "blockSize"): (2, 128),
    ("vignette", "strength"): (0.1, 1),
    ("barcode-generate", "scale"): (1, 8),
    ("html-to-image", "quality"): (1, 100),
    ("html-to-image", "viewportWidth"): (320, 3840),
    ("html-to-image", "viewportHeight"): (320, 2160),
    ("lqip-placeholder", "width"): (4, 64),
    ("circle-crop", "zoom"): (1, 5),
    ("image-pad", "padding"): (0, 50),
    ("sprite-sheet", "columns"): (1, 16),
    ("gif-webp", "quality"): (1, 100),
    ("gif-webp", "resizePercent"): (10, 100),
}

DEFAULTS: dict[tuple[str, str], object] = {
    ("color-blindness", "simulationType"): "deuteranomaly",
    ("find-duplicates", "threshold"): 8,
    ("html-to-image", "format"): "png",
    ("html-to-image", "quality"): 90,
    ("html-to-image", "fullPage"): False,
    ("html-to-image", "devicePreset"): "desktop",
    ("html-to-image", "viewportWidth"): 1280,
    ("html-to-image", "viewportHeight"): 720,
}

# multi-file tools: (min, max) files. collage and bulk-rename take one file too (the "1-single" collage
# template, renaming one file); the others need their second file.
ARITY = {
    "collage": (1, 64), "stitch": (2, 64), "sprite-sheet": (2, 64), "compare": (2, 2), "compose": (2, 2),
    "watermark-image": (2, 2), "find-duplicates": (2, 500), "bulk-rename": (1, 1000),
}

SPECS = catalog.load()


def aliases(tool_id: str) -> dict[str, str]:
    return {(f.alias or name): name for name, f in SPECS[tool_id].settings.model_fields.items()}


def literal_values(tool_id: str, alias: str) -> set:
    field = SPECS[tool_id].settings.model_fields[aliases(tool_id)[alias]]
    ann = field.annotation
    args = typing.get_args(ann)
    if typing.get_origin(ann) is typing.Union:  # Optional[Literal[...]]
        ann = next(a for a in args if a is not type(None))
        args = typing.get_args(ann)
    return set(args)


@pytest.mark.parametrize("tool_id", sorted(REFERENCE))
def test_tool_registered_with_the_reference_settings(tool_id):
    assert tool_id in SPECS, tool_id
    spec = SPECS[tool_id]
    assert spec.section.value == ("pdf" if tool_id.startswith("pdf-to-image") else "image")
    missing = REFERENCE[tool_id] - set(aliases(tool_id))
    assert not missing, (tool_id, missing)
    for name, field in spec.settings.model_fields.items():
        assert field.description, (tool_id, name)  # documented in the OpenAPI doc


@pytest.mark.parametrize("key", sorted(ENUMS))
def test_reference_enums_are_accepted(key):
    tool_id, alias = key
    assert ENUMS[key] <= literal_values(tool_id, alias), key


@pytest.mark.parametrize("key", sorted(RANGES))
def test_reference_ranges(key):
    tool_id, alias = key
    low, high = RANGES[key]
    model = SPECS[tool_id].settings
    base = {"url": "https://example.org/", "text": "x"} if tool_id in ("html-to-image", "barcode-generate") else {}
    for value in (low, high):
        assert getattr(model.model_validate({**base, alias: value}), aliases(tool_id)[alias]) == value
    step = 0.01 if isinstance(low, float) or isinstance(high, float) else 1
    for value in (low - step, high + step):
        with pytest.raises(ValidationError):
            model.model_validate({**base, alias: value})


@pytest.mark.parametrize("key", sorted(DEFAULTS))
def test_reference_defaults(key):
    tool_id, alias = key
    field = SPECS[tool_id].settings.model_fields[aliases(tool_id)[alias]]
    assert field.default == DEFAULTS[key]


def test_multi_file_tools_declare_their_arity():
    for tool_id, arity in ARITY.items():
        assert SPECS[tool_id].inputs == arity, tool_id
    assert SPECS["watermark-image"].roles == ("watermark",) and SPECS["compose"].roles == ("overlay",)
    assert SPECS["qr-generate"].roles == ("logo",) and SPECS["qr-generate"].inputs == (0, 1)


def test_json_body_tools_and_subroutes():
    assert SPECS["barcode-generate"].body == "json" and SPECS["html-to-image"].body == "json"
    assert SPECS["meme-generator"].body == "either" and SPECS["meme-generator"].inputs == (0, 1)
    for sub in ("optimize-for-web/preview", "pdf-to-image/preview"):
        assert SPECS[sub].response == "file"
    assert SPECS["pdf-to-image"].accepts == frozenset({"pdf"}) and SPECS["svg-to-raster"].accepts == frozenset({"svg"})
