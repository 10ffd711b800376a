"""Color blindness simulation with published matrices, applied in linear sRGB.

- protanopia, deuteranopia, tritanopia (severity 1.0) and protanomaly, deuteranomaly, tritanomaly
  (severity 0.6): G. M. Machado, M. M. Oliveira, L. A. F. Fernandes, "A Physiologically-based Model for
  Simulation of Color Vision Deficiency", IEEE TVCG 15(6), 2009 — the matrices of its published table
  (the ones Chrome and Firefox DevTools use).
- achromatopsia (rod monochromacy): relative luminance Y = 0.2126 R + 0.7152 G + 0.0722 B (ITU-R BT.709),
  the same grey on all three channels.
- blueConeMonochromacy: no single published matrix exists; we render the S-cone response alone
  (Smith & Pokorny 1975 cone fundamentals on sRGB primaries, as used by DaltonLens / Viénot 1999),
  normalised so that white stays white — an achromatic image driven by what the blue cones see.
"""

from __future__ import annotations

from typing import Literal

import pyvips
from pydantic import Field

from actors.common import imageio as v
from actors.image import _draw as d
from protocols.tools import Section, ToolCall, ToolResult, ToolSettings, tool

_S = (0.00031087, 0.00191661, 0.01528089)  # Smith–Pokorny S-cone row on linear sRGB
_S_ROW = [c / sum(_S) for c in _S]
_Y_ROW = [0.2126, 0.7152, 0.0722]

MATRICES: dict[str, list[list[float]]] = {
    "protanopia": [[0.152286, 1.052583, -0.204868], [0.114503, 0.786281, 0.099216], [-0.003882, -0.048116, 1.051998]],
    "deuteranopia": [[0.367322, 0.860646, -0.227968], [0.280085, 0.672501, 0.047413],
                     [-0.011820, 0.042940, 0.968881]],
    "tritanopia": [[1.255528, -0.076749, -0.178779], [-0.078411, 0.930809, 0.147602], [0.004733, 0.691367, 0.303900]],
    "protanomaly": [[0.458064, 0.679578, -0.137642], [0.092785, 0.846313, 0.060902], [-0.007494, -0.016807, 1.024301]],
    "deuteranomaly": [[0.547494, 0.607765, -0.155259], [0.181692, 0.781742, 0.036566],
                      [-0.010410, 0.027275, 0.983136]],
    "tritanomaly": [[1.104996, -0.046633, -0.058363], [-0.032137, 0.971635, 0.060503], [0.001336, 0.317922, 0.680742]],
    "achromatopsia": [_Y_ROW, _Y_ROW, _Y_ROW],
    "blueConeMonochromacy": [_S_ROW, _S_ROW, _S_ROW],
}

Simulation = Literal["protanopia", "deuteranopia", "tritanopia", "protanomaly", "deuteranomaly", "tritanomaly",
                     "achromatopsia", "blueConeMonochromacy"]


class ColorBlindnessSettings(ToolSettings):
    simulation_type: Simulation = Field("deuteranomaly", description="Which colour vision deficiency to simulate")


def to_linear(x: pyvips.Image) -> pyvips.Image:
    """sRGB 0..255 -> linear 0..1 (the IEC 61966-2-1 transfer curve)."""
    c = x / 255
    return (c <= 0.04045).ifthenelse(c / 12.92, ((c + 0.055) / 1.055) ** 2.4)


def to_srgb(linear: pyvips.Image) -> pyvips.Image:
    c = linear.clamp(min=0, max=1)
    return (c <= 0.0031308).ifthenelse(c * 12.92, 1.055 * c ** (1 / 2.4) - 0.055) * 255 + 0.5


def simulate(rgb: pyvips.Image, kind: str) -> pyvips.Image:
    return to_srgb(to_linear(rgb).recomb(pyvips.Image.new_from_array(MATRICES[kind])))


@tool("color-blindness", section=Section.IMAGE, settings=ColorBlindnessSettings,
      accepts={"image", "svg"})
def run(call: ToolCall[ColorBlindnessSettings]) -> ToolResult:
    """Simulate how an image looks with a colour vision deficiency."""
    s = call.settings
    image, fmt = v.load_upright(call.inputs[0], call.limits)
    rgb, alpha = d.split_alpha(image)
    out_image = v.run_vips("simulated", lambda: d.join_alpha(simulate(rgb, s.simulation_type), alpha))
    out = v.save(out_image, call.workdir, call.stem(), fmt)
    return ToolResult([out], {"simulationType": s.simulation_type})
