"""Builds one actor per tool family that exists in this tree.

Each family package has `actor.py` with `create(capacity, queue_size, options) -> Actor`; options are
the server's settings as a plain dict (actors never import the service)."""

from __future__ import annotations

import importlib
import logging
from typing import Any

from actors.runtime import Actor
from protocols.tools import Family

log = logging.getLogger("lutra.actors")

PACKAGES = {
    Family.IMAGE: "actors.image.actor",
    Family.MEDIA: "actors.media.actor",
    Family.DOCUMENTS: "actors.documents.actor",
    Family.DATA: "actors.data.actor",
    Family.VISION: "actors.vision.actor",
    Family.SPEECH: "actors.speech.actor",
}


def build(capacity: int, queue_size: int, options: dict[str, Any],
          only: set[Family] | None = None) -> list[tuple[Family, Actor]]:
    """The actors of every family present (of `only` those, when given)."""
    actors = []
    for family, module_name in PACKAGES.items():
        if only is not None and family not in only:
            continue
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as err:
            if err.name and module_name.startswith(err.name):
                continue  # family not present in this tree
            raise
        actors.append((family, module.create(capacity, queue_size, options)))
    return actors
