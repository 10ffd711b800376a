"""Canvas sizes for aspect-pad and blur-pad."""

from __future__ import annotations

from typing import Literal

from actors.media import _codecs

Target = Literal["16:9", "9:16", "1:1", "4:3", "3:4"]


def canvas(w: int, h: int, target: str) -> tuple[int, int]:
    """The smallest canvas of ratio `target` that holds a w×h picture (even sizes)."""
    tw, th = (int(x) for x in target.split(":"))
    if w * th >= h * tw:  # picture is wider than the target: grow the height
        cw, ch = w, w * th / tw
    else:
        cw, ch = h * tw / th, h
    cw, ch = _codecs.even(cw), _codecs.even(ch)
    return max(cw, w + w % 2), max(ch, h + h % 2)
