"""Find duplicates: perceptual hashes (imagehash), grouped by Hamming distance under a threshold.

A perceptual hash sees only the structure of the grey image: every flat image hashes the same whatever its
colour, and a recoloured copy of a photo hashes like the photo. Two images are duplicates only when their
hashes are within the threshold and their colour layouts (an 8×8 CIELAB thumbnail) match too, within a mean
ΔE of COLOUR_TOLERANCE, which a re-encode or resize stays far below.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from pydantic import Field

from actors._lazy import np
from actors.common import imageio as v
from actors.image import _layout as lay
from protocols.errors import bad_input
from protocols.tools import Section, ToolCall, ToolResult, ToolSettings, tool

COLOUR_TOLERANCE = 12.0  # mean ΔE76 over the 8×8 layout; a JPEG Q50 re-encode or half-size copy moves it by 0.6
HASH_BITS = 64


class FindDuplicatesSettings(ToolSettings):
    threshold: int = Field(8, ge=0, le=64, description="Largest perceptual-hash distance (bits) that counts as a duplicate")
    algorithm: Literal["phash", "dhash", "ahash", "whash"] = Field("phash", description="Perceptual hash")


@dataclass
class Fingerprint:
    name: str
    hash: Any  # imagehash.ImageHash
    layout: np.ndarray  # 8×8×3 CIELAB
    width: int
    height: int
    size: int
    format: str


def _fingerprint(path, name: str, limits, algorithm: str) -> Fingerprint:
    import imagehash

    header, fmt = v.open_image(path, limits)
    w, h = v.upright_size(header)
    scale = min(1.0, 512 / max(w, h))
    image = lay.srgb(v.load_shrunk(path, header, fmt, max(1, int(w * scale)), max(1, int(h * scale))))
    image = v.run_vips("decoded", lambda: image.thumbnail_image(512, height=512).copy_memory())
    if image.hasalpha():
        image = image.flatten(background=[255, 255, 255]).cast("uchar")
    fn = {"phash": imagehash.phash, "dhash": imagehash.dhash, "ahash": imagehash.average_hash,
          "whash": imagehash.whash}[algorithm]
    layout = v.run_vips("decoded", lambda: image.resize(8 / image.width, vscale=8 / image.height, kernel="linear")
                        .colourspace("lab").numpy())
    return Fingerprint(name, fn(lay.to_pil(image)), np.asarray(layout, dtype=float)[:8, :8, :3], w, h,
                       path.stat().st_size, fmt)


def colour_distance(a: Fingerprint, b: Fingerprint) -> float:
    """Mean ΔE76 between the two colour layouts."""
    return float(np.sqrt(((a.layout - b.layout) ** 2).sum(axis=-1)).mean())


def _peer_groups(groups: list[list[int]], prints: list[Fingerprint]) -> list[dict]:
    """The groups in the shape clients of the peer's API read (`duplicateGroups`): similarity in percent
    of matching hash bits, the largest file of each group marked isBest."""
    out = []
    for number, ids in enumerate(groups, 1):
        first = prints[ids[0]]
        best = max(ids, key=lambda i: (prints[i].width * prints[i].height, prints[i].size))
        out.append({"groupId": number, "files": [
            {"filename": prints[i].name, "similarity": round(100 * (1 - (prints[i].hash - first.hash) / HASH_BITS), 2),
             "width": prints[i].width, "height": prints[i].height, "fileSize": prints[i].size,
             "format": prints[i].format, "isBest": i == best} for i in ids]})
    return out


@tool("find-duplicates", section=Section.IMAGE, settings=FindDuplicatesSettings,
      inputs=(2, 500), accepts={"image", "svg"})
def run(call: ToolCall[FindDuplicatesSettings]) -> ToolResult:
    """Group visually identical or near-identical images."""
    s = call.settings
    prints: list[Fingerprint] = []
    for index, path in enumerate(call.inputs):
        name = call.names[index] if index < len(call.names) else path.name
        try:
            prints.append(_fingerprint(path, name, call.limits, s.algorithm))
        except Exception as err:
            message = getattr(err, "message", None) or "could not be read"
            raise bad_input(f"'{name}': {message}") from None
    # union-find over pairs within the threshold
    parent = list(range(len(prints)))

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    pairs = []
    for i in range(len(prints)):
        for j in range(i + 1, len(prints)):
            distance = prints[i].hash - prints[j].hash
            if distance <= s.threshold and colour_distance(prints[i], prints[j]) <= COLOUR_TOLERANCE:
                pairs.append({"a": prints[i].name, "b": prints[j].name, "distance": int(distance)})
                parent[find(j)] = find(i)
    members: dict[int, list[int]] = {}
    for i in range(len(prints)):
        members.setdefault(find(i), []).append(i)
    grouped = [ids for ids in members.values() if len(ids) > 1]
    groups = []
    for ids in grouped:
        best = max(ids, key=lambda i: (prints[i].width * prints[i].height, prints[i].size))
        groups.append({
            "files": [{"name": prints[i].name, "hash": str(prints[i].hash), "width": prints[i].width,
                       "height": prints[i].height, "size": prints[i].size,
                       "distance": int(prints[i].hash - prints[best].hash)} for i in ids],
            "best": prints[best].name,
        })
    unique = [prints[ids[0]].name for ids in members.values() if len(ids) == 1]
    peer = _peer_groups(grouped, prints)
    data = {"groups": groups, "duplicates": sum(len(g["files"]) - 1 for g in groups), "unique": unique,
            "pairs": pairs, "totalFiles": len(prints), "threshold": s.threshold, "algorithm": s.algorithm,
            # the peer's names for the same result
            "duplicateGroups": peer, "totalImages": len(prints), "uniqueImages": len(unique),
            "spaceSaveable": sum(f["fileSize"] for g in peer for f in g["files"] if not f["isBest"])}
    out = lay.write_json(call.workdir / "duplicates.json", data)
    return ToolResult([out], data)
