"""Subject masks (ISNet, from the background-removal bundle) and the compositing every background tool
shares: colour/gradient/image/blur backgrounds, feathering, drop shadows, edge defringing."""

from __future__ import annotations

import math
from pathlib import Path

from actors import models
from actors._lazy import cv2, np

BUNDLE = "background-removal"
SIZE = 1024


HQ_BUNDLE = "background-removal-hq"
_MEAN = (0.485, 0.456, 0.406)  # ImageNet normalisation (tuples: NumPy loads at the first use)
_STD = (0.229, 0.224, 0.225)


def model_alpha(rgb: np.ndarray, model: str = "isnet") -> np.ndarray:
    """The subject's alpha 0..255 (uint8) at the model's own resolution (1024²); `to_image` scales it."""
    if model == "birefnet":
        prob = _birefnet(rgb)
    else:
        session = models.onnx_session(BUNDLE, "isnet.onnx")
        x = cv2.resize(rgb, (SIZE, SIZE), interpolation=cv2.INTER_LINEAR).astype(np.float32) / 255.0 - 0.5
        x = np.ascontiguousarray(x.transpose(2, 0, 1)[None])
        prob = session.run(["output"], {session.get_inputs()[0].name: x})[0][0, 0]
    return np.rint(np.clip(prob, 0.0, 1.0) * 255).astype(np.uint8)


def to_image(small: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    h, w = shape[:2]
    return cv2.resize(small, (w, h), interpolation=cv2.INTER_LINEAR)


def subject_alpha(rgb: np.ndarray, model: str = "isnet") -> np.ndarray:
    """Foreground alpha 0..255 (uint8, HxW) of the salient subject. The model's output is quantised to
    8 bits before it is scaled to the image (what every output stores anyway): scaling it as float32
    took a third of a second on a 12 MP photo, four times the 8-bit resize."""
    return to_image(model_alpha(rgb, model), rgb.shape)


def subject_mask(rgb: np.ndarray, model: str = "isnet") -> np.ndarray:
    """Foreground probability 0..1 (float32, HxW) of the salient subject."""
    return subject_alpha(rgb, model).astype(np.float32) * np.float32(1 / 255)


def _birefnet(rgb: np.ndarray) -> np.ndarray:
    """BiRefNet: ImageNet-normalised 1024x1024 in, logits out (sigmoid)."""
    session = models.onnx_session(HQ_BUNDLE, "birefnet.onnx")
    x = ((cv2.resize(rgb, (SIZE, SIZE), interpolation=cv2.INTER_LINEAR).astype(np.float32) / 255
          - np.asarray(_MEAN, np.float32)) / np.asarray(_STD, np.float32))
    x = np.ascontiguousarray(x.transpose(2, 0, 1)[None])
    logits = session.run(None, {session.get_inputs()[0].name: x})[0][0, 0].astype(np.float32)
    return 1.0 / (1.0 + np.exp(-logits))  # at the model's size: subject_alpha scales it to the image


def save_mask(mask: np.ndarray, path: Path) -> None:
    """A float 0..1 mask or a uint8 alpha, as an 8-bit grey PNG."""
    path.parent.mkdir(parents=True, exist_ok=True)
    alpha = mask if mask.dtype == np.uint8 else (np.clip(mask, 0, 1) * 255).astype(np.uint8)
    cv2.imwrite(str(path), alpha, [cv2.IMWRITE_PNG_COMPRESSION, 1])


def cutout(rgb: np.ndarray, alpha: np.ndarray) -> np.ndarray:
    """RGBA uint8: the subject over transparency. Fully transparent pixels get black colour values (nothing
    shows there): a photo's old background would otherwise be kept, invisible, in the file — on a 12 MP
    cut-out that made the PNG three times larger and three times slower to compress. (OpenCV, not numpy
    boolean indexing: that took a second on 12 MP, holding the GIL.)"""
    visible = cv2.compare(alpha, 0, cv2.CMP_GT)
    colour = cv2.bitwise_and(rgb, rgb, mask=visible)
    return cv2.merge([colour, alpha])


def load_mask(path: Path) -> np.ndarray:
    data = cv2.imread(str(path), cv2.IMREAD_GRAYSCALE)
    if data is None:
        raise FileNotFoundError(path)
    return data.astype(np.float32) / 255.0


def feather(mask: np.ndarray, radius: float) -> np.ndarray:
    if radius <= 0:
        return mask
    k = int(radius) * 2 + 1
    return cv2.GaussianBlur(mask, (k, k), radius / 2 + 0.1)


def gradient(h: int, w: int, c1: tuple[int, int, int], c2: tuple[int, int, int], angle: float) -> np.ndarray:
    """A linear gradient from c1 to c2 along `angle` degrees (0 = left to right, 90 = top to bottom)."""
    rad = math.radians(angle)
    dx, dy = math.cos(rad), math.sin(rad)
    ys, xs = np.mgrid[0:h, 0:w].astype(np.float32)
    proj = xs * dx + ys * dy
    lo, hi = proj.min(), proj.max()
    t = (proj - lo) / max(1e-6, hi - lo)
    a, b = np.array(c1, np.float32), np.array(c2, np.float32)
    return (a[None, None] * (1 - t[..., None]) + b[None, None] * t[..., None]).astype(np.float32)


def solid(h: int, w: int, color: tuple[int, int, int]) -> np.ndarray:
    return np.broadcast_to(np.array(color, np.float32), (h, w, 3)).copy()


def blurred_background(rgb: np.ndarray, mask: np.ndarray, intensity: float) -> np.ndarray:
    """Blur the background without the subject's colours bleeding into it (normalised convolution)."""
    sigma = max(0.5, intensity / 100 * max(rgb.shape[:2]) / 25)
    weight = np.clip(1.0 - mask, 0.0, 1.0)
    num = cv2.GaussianBlur(rgb.astype(np.float32) * weight[..., None], (0, 0), sigma)
    den = cv2.GaussianBlur(weight, (0, 0), sigma)[..., None]
    plain = cv2.GaussianBlur(rgb.astype(np.float32), (0, 0), sigma)
    return np.where(den > 1e-3, num / np.maximum(den, 1e-3), plain)


def composite(rgb: np.ndarray, alpha: np.ndarray, background: np.ndarray) -> np.ndarray:
    a = alpha[..., None]
    return rgb.astype(np.float32) * a + background * (1 - a)


def drop_shadow(alpha: np.ndarray, opacity: float, offset: tuple[int, int] | None = None) -> np.ndarray:
    """Shadow strength 0..1 cast by the subject, offset down-right and softened."""
    h, w = alpha.shape
    dx, dy = offset or (max(2, w // 60), max(2, h // 40))
    moved = np.zeros_like(alpha)
    moved[dy:, dx:] = alpha[: h - dy, : w - dx]
    soft = cv2.GaussianBlur(moved, (0, 0), max(1.0, min(h, w) / 80))
    return np.clip(soft * opacity, 0, 1)


def with_shadow_rgba(rgb: np.ndarray, alpha: np.ndarray, opacity: float) -> np.ndarray:
    """Transparent output with a drop shadow: the shadow is black with its own alpha, under the subject."""
    shadow = drop_shadow(alpha, opacity)
    out_alpha = alpha + shadow * (1 - alpha)
    colour = rgb.astype(np.float32) * alpha[..., None] / np.maximum(out_alpha[..., None], 1e-6)
    return np.dstack([colour, out_alpha * 255])


def defringe(rgb: np.ndarray, alpha: np.ndarray, strength: float) -> tuple[np.ndarray, np.ndarray]:
    """Remove halos left by an old background: edge pixels take the colour of the nearest solid interior,
    and the alpha edge is tightened in proportion to `strength` (0..100)."""
    a = alpha.astype(np.float32)
    if a.max() > 1.0:
        a = a / 255.0
    if strength <= 0:
        return rgb, a
    solid_mask = (a > 0.98).astype(np.uint8)
    if solid_mask.sum() == 0:
        return rgb, a
    edge = (a > 0.01) & (a <= 0.98)
    # colour of the nearest solid pixel: inpaint the non-solid area from the interior
    holes = (1 - solid_mask).astype(np.uint8) * 255
    bgr = cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR)
    filled = cv2.cvtColor(cv2.inpaint(bgr, holes, 3, cv2.INPAINT_TELEA), cv2.COLOR_BGR2RGB)
    t = strength / 100.0
    out = rgb.astype(np.float32).copy()
    out[edge] = out[edge] * (1 - t) + filled[edge].astype(np.float32) * t
    # tighten: a curve that pushes weak edge alpha towards 0
    gamma = 1.0 + 1.5 * t
    a = np.where(edge, np.power(a, gamma), a)
    out[a <= 0.01] = 0
    return out, a
