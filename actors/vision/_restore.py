"""Colorization (DDColor) and face restoration (GFPGAN or CodeFormer) on ONNX sessions from their bundles.

Both face models take the face crop resized to 512x512, RGB normalised to -1..1 (`x`), and return the
restored face in the same range; CodeFormer also takes `w` (float64, shape (1,)), its fidelity weight:
0 = the model's own face from its codebook, 1 = as close to the input as it can stay.
"""

from __future__ import annotations

from actors import models
from actors._lazy import cv2, np

COLOR_BUNDLE = "object-eraser-colorize"
FACE_BUNDLE = "photo-restoration"
CODEFORMER_BUNDLE = "face-restoration-codeformer"
FACE_MODELS = {"gfpgan": (FACE_BUNDLE, "gfpgan.onnx"), "codeformer": (CODEFORMER_BUNDLE, "codeformer.onnx")}
# CodeFormer's fidelity weight for enhance-faces (the API has no setting for it): the upstream default
# range is 0.5-0.7; 0.7 keeps the person recognisable while still repairing the face
CODEFORMER_FIDELITY = 0.7


def face_bundle(model: str) -> str:
    return FACE_MODELS[model][0]


def _float_type(session, index: int = 0):
    return np.float16 if "float16" in session.get_inputs()[index].type else np.float32


def colorize(rgb: np.ndarray, intensity: float = 100) -> np.ndarray:
    """DDColor: the grey image in, the Lab a/b channels out (at 512x512), recombined with the original L."""
    session = models.onnx_session(COLOR_BUNDLE, "ddcolor.onnx")
    shape = session.get_inputs()[0].shape
    size = shape[2] if isinstance(shape[2], int) else 512
    h, w = rgb.shape[:2]
    lab = cv2.cvtColor(rgb.astype(np.float32) / 255, cv2.COLOR_RGB2LAB)  # L 0..100, a/b -128..127
    grey_lab = lab.copy()
    grey_lab[..., 1:] = 0
    grey_rgb = cv2.cvtColor(grey_lab, cv2.COLOR_LAB2RGB)
    x = cv2.resize(grey_rgb, (size, size), interpolation=cv2.INTER_AREA).transpose(2, 0, 1)[None]
    ab = session.run(None, {session.get_inputs()[0].name: x.astype(_float_type(session))})[0][0]
    ab = cv2.resize(ab.transpose(1, 2, 0).astype(np.float32), (w, h), interpolation=cv2.INTER_CUBIC)
    out = lab.copy()
    out[..., 1:] = ab * (intensity / 100)
    return np.clip(cv2.cvtColor(out, cv2.COLOR_LAB2RGB) * 255, 0, 255).astype(np.uint8)


def restore_face(face_rgb: np.ndarray, model: str = "gfpgan", fidelity: float = CODEFORMER_FIDELITY) -> np.ndarray:
    """GFPGAN or CodeFormer on one face crop: 512x512, RGB normalised to -1..1 in and out."""
    bundle_id, dest = FACE_MODELS[model]
    session = models.onnx_session(bundle_id, dest)
    inputs = session.get_inputs()
    image = inputs[0]
    shape = image.shape
    size = shape[2] if isinstance(shape[2], int) else 512
    x = cv2.resize(face_rgb, (size, size), interpolation=cv2.INTER_CUBIC).astype(np.float32) / 255
    x = ((x - 0.5) / 0.5).transpose(2, 0, 1)[None]
    feed = {image.name: x.astype(_float_type(session))}
    for i, extra in enumerate(inputs[1:], 1):  # CodeFormer: the fidelity weight `w`, (1,) double as published
        kind = np.float64 if "double" in extra.type else _float_type(session, i)
        feed[extra.name] = np.array([min(1.0, max(0.0, fidelity))], kind)
    y = session.run(None, feed)[0][0]
    y = (np.clip(y.astype(np.float32).transpose(1, 2, 0), -1, 1) + 1) / 2 * 255
    return cv2.resize(y, (face_rgb.shape[1], face_rgb.shape[0]), interpolation=cv2.INTER_AREA)


def enhance_faces(rgb: np.ndarray, faces, strength: float, model: str = "gfpgan",
                  fidelity: float = CODEFORMER_FIDELITY) -> np.ndarray:
    """Each face (x, y, w, h) restored on a square crop around it and blended back through a soft
    ellipse, `strength` (0..100) of the restored face."""
    out = rgb.astype(np.float32)
    h, w = rgb.shape[:2]
    for x, y, fw, fh in faces:
        side = int(max(fw, fh) * 1.6)
        cx, cy = x + fw // 2, y + fh // 2
        x0, y0 = max(0, cx - side // 2), max(0, cy - side // 2)
        x1, y1 = min(w, x0 + side), min(h, y0 + side)
        crop = rgb[y0:y1, x0:x1]
        if crop.size == 0:
            continue
        restored = restore_face(crop, model, fidelity)
        mask = np.zeros(crop.shape[:2], np.float32)
        cv2.ellipse(mask, ((crop.shape[1] / 2, crop.shape[0] / 2), (crop.shape[1] * 0.8, crop.shape[0] * 0.9), 0),
                    1.0, -1)
        mask = cv2.GaussianBlur(mask, (0, 0), max(2.0, crop.shape[0] / 20))[..., None] * (strength / 100)
        out[y0:y1, x0:x1] = out[y0:y1, x0:x1] * (1 - mask) + restored * mask
    return np.clip(out, 0, 255).astype(np.uint8)
