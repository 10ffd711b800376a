"""Content-aware resize by seam carving: remove (or duplicate) the lowest-energy paths, so that objects keep
their shape while empty areas shrink. Faces can be protected (face-detection bundle)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from actors._lazy import cv2, np
from actors.vision import _faces, _img
from protocols.errors import bad_input
from protocols.tools import Mode, Section, ToolCall, ToolResult, ToolSettings, tool

MAX_SEAMS = 1200


class ContentAwareResizeSettings(ToolSettings):
    width: int | None = Field(None, ge=1, le=8192, description="Target width in px")
    height: int | None = Field(None, ge=1, le=8192, description="Target height in px")
    protect_faces: bool = Field(False, description="Keep seams out of detected faces")
    blur_radius: int = Field(1, ge=0, le=20, description="Blur before computing energy (ignores fine texture)")
    sobel_threshold: int = Field(0, ge=0, le=255, description="Energy below this counts as empty")
    square: bool = Field(False, description="Make the image square by shrinking its longer side")
    format: Literal["png", "jpeg", "webp"] | None = Field(None, description="Output format (default: as input)")

    @model_validator(mode="after")
    def _target(self):
        if not (self.width or self.height or self.square):
            raise ValueError("give width, height or square")
        return self


def energy(rgb: np.ndarray, blur: int, threshold: int, protect: np.ndarray | None) -> np.ndarray:
    grey = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY).astype(np.float32)
    if blur:
        grey = cv2.GaussianBlur(grey, (0, 0), blur)
    e = np.abs(cv2.Sobel(grey, cv2.CV_32F, 1, 0, ksize=3)) + np.abs(cv2.Sobel(grey, cv2.CV_32F, 0, 1, ksize=3))
    if threshold:
        e[e < threshold] = 0
    if protect is not None:
        e = e + protect
    return e


def find_seam(e: np.ndarray) -> np.ndarray:
    """Column index per row of the vertical seam with the least total energy (dynamic programming)."""
    h, w = e.shape
    cost = e.astype(np.float64).copy()
    back = np.zeros((h, w), np.int32)
    inf = np.array([np.inf])
    cols = np.arange(w)
    for i in range(1, h):
        prev = cost[i - 1]
        left = np.concatenate([inf, prev[:-1]])
        right = np.concatenate([prev[1:], inf])
        stacked = np.vstack([left, prev, right])
        choice = np.argmin(stacked, axis=0)
        back[i] = cols + choice - 1
        cost[i] += stacked[choice, cols]
    seam = np.empty(h, np.int32)
    seam[-1] = int(np.argmin(cost[-1]))
    for i in range(h - 1, 0, -1):
        seam[i - 1] = back[i, seam[i]]
    return seam


def _remove(a: np.ndarray, seam: np.ndarray) -> np.ndarray:
    h, w = a.shape[:2]
    keep = np.ones((h, w), bool)
    keep[np.arange(h), seam] = False
    return a[keep].reshape((h, w - 1) + a.shape[2:])


def carve_width(rgb: np.ndarray, target: int, s: ContentAwareResizeSettings, protect: np.ndarray | None,
                report=None) -> np.ndarray:
    h, w = rgb.shape[:2]
    if target < w:
        for n in range(w - target):
            seam = find_seam(energy(rgb, s.blur_radius, s.sobel_threshold, protect))
            rgb = _remove(rgb, seam)
            if protect is not None:
                protect = _remove(protect, seam)
            if report and n % 20 == 0:
                report(n / (w - target))
        return rgb
    if target > w:  # enlarge: find the k cheapest seams on a shrinking copy, then duplicate them
        k = target - w
        work, index = rgb.copy(), np.tile(np.arange(w), (h, 1))
        prot = protect
        seams = []
        for _ in range(k):
            seam = find_seam(energy(work, s.blur_radius, s.sobel_threshold, prot))
            seams.append(index[np.arange(h), seam])
            work, index = _remove(work, seam), _remove(index, seam)
            if prot is not None:
                prot = _remove(prot, seam)
        dup = np.zeros((h, w), np.int32)
        for cols in seams:
            dup[np.arange(h), cols] += 1
        out = np.empty((h, target, 3), np.uint8)
        for y in range(h):
            out[y] = np.repeat(rgb[y], dup[y] + 1, axis=0)
        return out
    return rgb


@tool("content-aware-resize", section=Section.IMAGE, settings=ContentAwareResizeSettings,
      mode=Mode.LONG, accepts={"image", "svg"}, requires=lambda s: (_faces.BUNDLE,) if s.protect_faces else ())
def run(call: ToolCall[ContentAwareResizeSettings]) -> ToolResult:
    """Resize by removing or adding low-energy seams (seam carving), keeping the important content intact."""
    s = call.settings
    rgb, _alpha, fmt = _img.load(call.inputs[0], call.limits)
    h, w = rgb.shape[:2]
    tw, th = s.width or w, s.height or h
    if s.square:
        tw = th = min(w, h)
    if abs(tw - w) + abs(th - h) > MAX_SEAMS or tw > 2 * w or th > 2 * h:
        raise bad_input(f"Seam carving changes at most {MAX_SEAMS} pixels in all and at most doubles a side; "
                        "resize the image first.")
    protect = None
    faces: list = []
    if s.protect_faces:
        faces = _faces.detect_faces(rgb, 0.5)
        protect = np.zeros((h, w), np.float32)
        for x, y, bw, bh in faces:
            protect[max(0, y): y + bh, max(0, x): x + bw] = 1e6
    out = carve_width(rgb, tw, s, protect)
    if th != h:
        prot_t = None
        if protect is not None and out.shape[1] == w:
            prot_t = protect.T.copy()
        elif protect is not None:
            prot_t = cv2.resize(protect, (out.shape[1], h), interpolation=cv2.INTER_NEAREST).T.copy()
        out = np.ascontiguousarray(carve_width(np.ascontiguousarray(out.transpose(1, 0, 2)), th, s, prot_t)
                                   .transpose(1, 0, 2))
    path = _img.save(out, call, _img.output_format(s.format, fmt), 92)
    return ToolResult([path], {"width": int(out.shape[1]), "height": int(out.shape[0]), "facesProtected": len(faces)})
