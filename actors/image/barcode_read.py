"""Barcode reader: every QR, Micro QR, DataMatrix, PDF417, Aztec, EAN/UPC, Code128/39/93, ITF... in an image."""

from __future__ import annotations

from pydantic import Field

from actors.common import imageio as v
from actors.image import _layout as lay
from protocols.tools import Section, ToolCall, ToolResult, ToolSettings, tool

# zxing-cpp's format names -> the ids we report
FORMAT_IDS = {
    "QR Code": "qrcode", "Micro QR Code": "microqr", "rMQR Code": "rmqr", "Data Matrix": "datamatrix",
    "PDF417": "pdf417", "Aztec": "aztec", "EAN-13": "ean13", "EAN-8": "ean8", "UPC-A": "upca", "UPC-E": "upce",
    "Code 128": "code128", "Code 39": "code39", "Code 93": "code93", "ITF": "itf", "ITF-14": "itf14",
    "Codabar": "codabar", "DataBar": "databar", "MaxiCode": "maxicode",
}


class BarcodeReadSettings(ToolSettings):
    try_harder: bool = Field(True, description="Also try rotated, inverted and downscaled versions")


@tool("barcode-read", section=Section.IMAGE, settings=BarcodeReadSettings, accepts={"image", "svg"})
def run(call: ToolCall[BarcodeReadSettings]) -> ToolResult:
    """Find and decode every barcode in an image."""
    import zxingcpp

    s = call.settings
    image, _ = lay.load_rgb(call.inputs[0], call.limits)
    if image.hasalpha():
        image = image.flatten(background=[255, 255, 255]).cast("uchar")
    grey = v.run_vips("read", lambda: image.colourspace("b-w")[0].copy_memory())
    pixels = lay.to_numpy(grey)[:, :, 0]
    found = zxingcpp.read_barcodes(pixels, try_rotate=s.try_harder, try_downscale=s.try_harder,
                                   try_invert=s.try_harder)
    barcodes = []
    for code in found:
        pos = code.position
        points = [[p.x, p.y] for p in (pos.top_left, pos.top_right, pos.bottom_right, pos.bottom_left)]
        xs, ys = [p[0] for p in points], [p[1] for p in points]
        name = str(code.format)
        barcodes.append({
            "type": FORMAT_IDS.get(name, name.lower().replace(" ", "").replace("-", "")),
            "format": name,
            "text": code.text,
            "bounds": {"left": min(xs), "top": min(ys), "width": max(xs) - min(xs), "height": max(ys) - min(ys)},
            "points": points,
            "orientation": code.orientation,
        })
    data = {"count": len(barcodes), "barcodes": barcodes, "text": barcodes[0]["text"] if barcodes else None}
    out = lay.write_json(call.workdir / f"{call.stem()}-barcodes.json", data)
    return ToolResult([out], data)
