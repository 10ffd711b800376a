"""Inpainting with LaMa (object-eraser-colorize bundle), run on a 512x512 crop around the hole, pasted back
only inside it. OpenCV's Telea inpainting is the model-free fallback for thin defects."""

from __future__ import annotations

from actors import models
from actors._lazy import cv2, np

BUNDLE = "object-eraser-colorize"
SIZE = 512


def _io_names(session) -> tuple[str, str]:
    inputs = session.get_inputs()
    names = [i.name for i in inputs]
    image = next((n for n in names if "image" in n.lower()), names[0])
    mask = next((n for n in names if "mask" in n.lower()), names[1] if names[1] != image else names[0])
    return image, mask


def lama(rgb: np.ndarray, mask: np.ndarray, *, exact: bool = False) -> np.ndarray:
    """Fill `mask` (bool HxW) in `rgb` (uint8 HxWx3). By default the hole grows a little and the fill is
    feathered into its surroundings (hides the seam of an erased object); `exact` changes only masked pixels."""
    if not mask.any():
        return rgb
    session = models.onnx_session(BUNDLE, "lama.onnx")
    h, w = mask.shape
    ys, xs = np.nonzero(mask)
    y0, y1, x0, x1 = ys.min(), ys.max() + 1, xs.min(), xs.max() + 1
    side = max(y1 - y0, x1 - x0)
    margin = max(32, side // 2)
    side += 2 * margin
    cy, cx = (y0 + y1) // 2, (x0 + x1) // 2
    top, left = max(0, min(h - side, cy - side // 2)), max(0, min(w - side, cx - side // 2))
    bottom, right = min(h, top + side), min(w, left + side)
    crop = rgb[top:bottom, left:right]
    hole = mask[top:bottom, left:right].astype(np.uint8)
    if not exact:
        hole = cv2.dilate(hole, np.ones((7, 7), np.uint8))
    image_in = cv2.resize(crop, (SIZE, SIZE), interpolation=cv2.INTER_AREA).astype(np.float32) / 255
    mask_in = (cv2.resize(hole, (SIZE, SIZE), interpolation=cv2.INTER_NEAREST) > 0).astype(np.float32)
    image_name, mask_name = _io_names(session)
    out = session.run(None, {image_name: image_in.transpose(2, 0, 1)[None],
                             mask_name: mask_in[None, None]})[0][0].transpose(1, 2, 0)
    if out.max() <= 1.5:  # some exports answer 0..1, the Carve export 0..255
        out = out * 255
    filled = cv2.resize(np.clip(out, 0, 255), (crop.shape[1], crop.shape[0]), interpolation=cv2.INTER_CUBIC)
    if exact:
        soft = hole[..., None].astype(np.float32)
    else:
        soft = cv2.GaussianBlur(hole.astype(np.float32), (0, 0), 2)[..., None]
        soft = np.maximum(soft, hole[..., None].astype(np.float32))
    result = rgb.copy()
    result[top:bottom, left:right] = np.clip(crop * (1 - soft) + filled * soft, 0, 255).astype(np.uint8)
    return result


def telea(rgb: np.ndarray, mask: np.ndarray, radius: int = 5) -> np.ndarray:
    bgr = cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR)
    out = cv2.inpaint(bgr, mask.astype(np.uint8) * 255, radius, cv2.INPAINT_TELEA)
    return cv2.cvtColor(out, cv2.COLOR_BGR2RGB)
