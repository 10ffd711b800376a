"""Face and eye detection with OpenCV Haar cascades from the face-detection bundle."""

from __future__ import annotations

import threading

from actors import models
from actors._lazy import cv2, np

BUNDLE = "face-detection"
_lock = threading.Lock()  # CascadeClassifier.detectMultiScale is not documented as thread-safe


def _cascade(name: str) -> cv2.CascadeClassifier:
    path = models.model_path(BUNDLE, name)

    def load():
        c = cv2.CascadeClassifier(str(path))
        if c.empty():
            raise RuntimeError("cascade failed to load")
        return c

    return models.cached(f"{BUNDLE}/{name}@{path}", BUNDLE, load)


def _nms(boxes: list[tuple[int, int, int, int]], overlap: float = 0.3) -> list[tuple[int, int, int, int]]:
    kept: list[tuple[int, int, int, int]] = []
    for box in sorted(boxes, key=lambda b: -b[2] * b[3]):
        x, y, w, h = box
        if all(_iou(box, k) < overlap and not _inside(box, k) for k in kept):
            kept.append((int(x), int(y), int(w), int(h)))
    return kept


def _iou(a, b) -> float:
    ax, ay, aw, ah = a
    bx, by, bw, bh = b
    ix = max(0, min(ax + aw, bx + bw) - max(ax, bx))
    iy = max(0, min(ay + ah, by + bh) - max(ay, by))
    inter = ix * iy
    return inter / float(aw * ah + bw * bh - inter or 1)


def _inside(a, b) -> bool:
    ax, ay, aw, ah = a
    bx, by, bw, bh = b
    cx, cy = ax + aw / 2, ay + ah / 2
    return bx <= cx <= bx + bw and by <= cy <= by + bh


def detect_faces(rgb: np.ndarray, sensitivity: float = 0.5) -> list[tuple[int, int, int, int]]:
    """Face boxes (x, y, w, h). sensitivity 0..1: higher finds more (and more false positives)."""
    grey = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)
    h, w = grey.shape
    scale = 1.0
    if max(h, w) > 1600:  # detection on a bounded size; boxes scaled back
        scale = 1600 / max(h, w)
        grey = cv2.resize(grey, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    grey = cv2.equalizeHist(grey)
    neighbours = max(2, round(8 - 6 * sensitivity))
    min_side = max(20, int(min(grey.shape) * 0.04))
    boxes: list[tuple[int, int, int, int]] = []
    with _lock:
        for name in ("face_frontal_alt2.xml", "face_frontal.xml"):
            found = _cascade(name).detectMultiScale(grey, 1.1, neighbours, minSize=(min_side, min_side))
            boxes += [tuple(b) for b in found]
        if sensitivity >= 0.5:
            profile = _cascade("face_profile.xml")
            boxes += [tuple(b) for b in profile.detectMultiScale(grey, 1.1, neighbours + 1, minSize=(min_side, min_side))]
            flipped = cv2.flip(grey, 1)
            gw = grey.shape[1]
            for x, y, bw, bh in profile.detectMultiScale(flipped, 1.1, neighbours + 1, minSize=(min_side, min_side)):
                boxes.append((gw - x - bw, y, bw, bh))
    boxes = _nms(boxes)
    return [(round(x / scale), round(y / scale), round(bw / scale), round(bh / scale)) for x, y, bw, bh in boxes]


def detect_eyes(rgb: np.ndarray, face: tuple[int, int, int, int]) -> list[tuple[int, int, int, int]]:
    x, y, w, h = face
    region = cv2.cvtColor(rgb[y: y + int(h * 0.6), x: x + w], cv2.COLOR_RGB2GRAY)
    if region.size == 0:
        return []
    with _lock:
        found = _cascade("eye.xml").detectMultiScale(region, 1.1, 4, minSize=(max(8, w // 10), max(8, w // 10)))
    eyes = [(int(ex + x), int(ey + y), int(ew), int(eh)) for ex, ey, ew, eh in found]
    return sorted(_nms(eyes), key=lambda e: -e[2] * e[3])[:2]


def as_json(boxes) -> list[dict]:
    return [{"x": int(x), "y": int(y), "width": int(w), "height": int(h)} for x, y, w, h in boxes]
