"""Find duplicates: perceptual hashes (imagehash), grouped by Hamming distance under a threshold."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from actors.image import _layout as lay
from actors.image import _vips as v
from protocols.errors import bad_input
from protocols.tools import Section, ToolCall, ToolResult, ToolSettings, tool


class FindDuplicatesSettings(ToolSettings):
    threshold: int = Field(8, ge=0, le=64, description="Largest perceptual-hash distance (bits) that counts as a duplicate")
    algorithm: Literal["phash", "dhash", "ahash", "whash"] = Field("phash", description="Perceptual hash")


def _hash(path, limits, algorithm: str):
    import imagehash

    header, fmt = v.open_image(path, limits)
    w, h = v.upright_size(header)
    scale = min(1.0, 512 / max(w, h))
    image = lay.srgb(v.load_shrunk(path, header, fmt, max(1, int(w * scale)), max(1, int(h * scale))))
    image = v.run_vips("decoded", lambda: image.thumbnail_image(512, height=512).copy_memory())
    if image.hasalpha():
        image = image.flatten(background=[255, 255, 255]).cast("uchar")
    pil = lay.to_pil(image)
    fn = {"phash": imagehash.phash, "dhash": imagehash.dhash, "ahash": imagehash.average_hash,
          "whash": imagehash.whash}[algorithm]
    return fn(pil), (w, h)


@tool("find-duplicates", section=Section.IMAGE, settings=FindDuplicatesSettings,
      inputs=(2, 500), accepts={"image"})
def run(call: ToolCall[FindDuplicatesSettings]) -> ToolResult:
    """Group visually identical or near-identical images."""
    s = call.settings
    hashes = []
    for index, path in enumerate(call.inputs):
        name = call.names[index] if index < len(call.names) else path.name
        try:
            digest, size = _hash(path, call.limits, s.algorithm)
        except Exception as err:
            message = getattr(err, "message", None) or "could not be read"
            raise bad_input(f"'{name}': {message}") from None
        hashes.append((name, digest, size, path.stat().st_size))
    # union-find over pairs within the threshold
    parent = list(range(len(hashes)))

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    pairs = []
    for i in range(len(hashes)):
        for j in range(i + 1, len(hashes)):
            distance = hashes[i][1] - hashes[j][1]
            if distance <= s.threshold:
                pairs.append({"a": hashes[i][0], "b": hashes[j][0], "distance": int(distance)})
                parent[find(j)] = find(i)
    members: dict[int, list[int]] = {}
    for i in range(len(hashes)):
        members.setdefault(find(i), []).append(i)
    groups = []
    for ids in members.values():
        if len(ids) < 2:
            continue
        best = max(ids, key=lambda i: (hashes[i][2][0] * hashes[i][2][1], hashes[i][3]))
        groups.append({
            "files": [{"name": hashes[i][0], "hash": str(hashes[i][1]), "width": hashes[i][2][0],
                       "height": hashes[i][2][1], "size": hashes[i][3],
                       "distance": int(hashes[i][1] - hashes[best][1])} for i in ids],
            "best": hashes[best][0],
        })
    unique = [hashes[ids[0]][0] for ids in members.values() if len(ids) == 1]
    data = {"groups": groups, "duplicateGroups": len(groups),
            "duplicates": sum(len(g["files"]) - 1 for g in groups), "unique": unique,
            "pairs": pairs, "totalFiles": len(hashes), "threshold": s.threshold, "algorithm": s.algorithm}
    out = lay.write_json(call.workdir / "duplicates.json", data)
    return ToolResult([out], data)
