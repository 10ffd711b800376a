"""The soak's traffic: weighted tool scenarios per family (and `mixed`, weighted like real use), their
multipart bodies, and the driver that plays them from client processes."""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

import httpx
import trio
import trio_parallel

from load import report
from load.harness.clients import mixed_client, multipart_body


@dataclass(frozen=True)
class Item:
    name: str
    tool: str  # section/tool
    inputs: tuple[str, ...]  # names from mixed_inputs()
    settings: dict
    weight: float
    family: str
    bundle: str | None = None  # AI: only when this bundle is installed


# Weighted like real use: mostly fast image tools (~70 %), some PDF (~16 %) and data (~8 %), a few short
# media jobs (~5 %), a rare office conversion (~1 %).
ITEMS = [
    Item("resize", "image/resize", ("photo.jpg",), {"width": 800}, 25, "image"),
    Item("compress", "image/compress", ("photo.jpg",), {"quality": 70}, 15, "image"),
    Item("convert-webp", "image/convert", ("photo.jpg",), {"format": "webp", "quality": 80}, 12, "image"),
    Item("rotate", "image/rotate", ("small.png",), {"angle": 90}, 6, "image"),
    Item("strip-metadata", "image/strip-metadata", ("photo.jpg",), {}, 6, "image"),
    Item("image-info", "image/info", ("small.png",), {}, 6, "image"),
    Item("merge-pdf", "pdf/merge-pdf", ("doc0.pdf", "doc1.pdf"), {}, 6, "documents"),
    Item("pdf-to-text", "pdf/pdf-to-text", ("doc0.pdf",), {}, 6, "documents"),
    Item("rotate-pdf", "pdf/rotate-pdf", ("doc1.pdf",), {"angle": 90}, 4, "documents"),
    Item("word-to-pdf", "pdf/word-to-pdf", ("letter.docx",), {}, 1, "documents"),
    Item("csv-json", "files/csv-json", ("table.csv",), {}, 4, "data"),
    Item("yaml-json", "files/yaml-json", ("config.yaml",), {}, 2, "data"),
    Item("create-zip", "files/create-zip", ("table.csv", "doc0.pdf"), {}, 2, "data"),
    Item("trim-video", "video/trim-video", ("clip.mp4",), {"startS": 0.5, "endS": 1.5}, 2, "media"),
    Item("convert-audio", "audio/convert-audio", ("clip.mp4",), {"format": "mp3"}, 2, "media"),
    Item("mute-video", "video/mute-video", ("clip.mp4",), {}, 1, "media"),
    Item("ocr", "image/ocr", ("text.png",), {"quality": "fast"}, 1, "ai", "ocr"),
    Item("remove-background", "image/remove-background", ("subject.jpg",), {}, 1, "ai", "background-removal"),
]
FAMILIES = ("image", "media", "documents", "data", "ai")


def scenario(name: str, *, office: bool = True, installed: frozenset[str] = frozenset()) -> list[Item]:
    """The items of a family's scenario or of `mixed` (AI items only when their bundle is installed)."""
    if name != "mixed" and name not in FAMILIES:
        raise SystemExit(f"unknown scenario {name!r}: mixed, {', '.join(FAMILIES)}")
    items = [i for i in ITEMS if name == "mixed" or i.family == name]
    items = [i for i in items if (office or i.name != "word-to-pdf") and (i.bundle is None or i.bundle in installed)]
    return items


def encoded(items: list[Item], inputs: dict[str, Path]) -> list[tuple[str, str, bytes, str, float]]:
    out = []
    for item in items:
        body, content_type = multipart_body([inputs[n] for n in item.inputs], item.settings)
        out.append((item.name, item.tool, body, content_type, item.weight))
    return out


async def drive(base: str, token: str | None, bodies: list, clients: int, count: int, limit_s: float,
                seed: int = 0) -> tuple[list[report.Record], float]:
    """`clients` client processes sharing `count` requests, within `limit_s`; returns records and seconds."""
    limiter = trio.CapacityLimiter(clients)
    async with trio.open_nursery() as warm:  # start the client processes first (imports), no requests
        for _ in range(clients):
            warm.start_soon(lambda: trio_parallel.run_sync(mixed_client, base, token, bodies, 0, 0.0, 0,
                                                           limiter=limiter))
    shares = [count // clients + (i < count % clients) for i in range(clients)]
    records: list[report.Record] = []
    deadline = time.time() + limit_s

    async def one(i: int, share: int) -> None:
        records.extend(await trio_parallel.run_sync(mixed_client, base, token, bodies, share, deadline,
                                                    seed * 1000 + i, limiter=limiter))

    start = time.perf_counter()
    async with trio.open_nursery() as nursery:
        for i, share in enumerate(shares):
            if share:
                nursery.start_soon(one, i, share)
    return records, time.perf_counter() - start


async def installed_bundles(client: httpx.AsyncClient) -> frozenset[str]:
    try:
        listing = (await client.get("/api/v1/features")).json()
    except (httpx.HTTPError, ValueError):
        return frozenset()
    return frozenset(b.get("id") for b in listing.get("bundles", []) if b.get("status") == "installed")
