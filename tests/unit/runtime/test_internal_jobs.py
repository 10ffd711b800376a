"""`@tool(internal=True)`: a job the server gives its own actors (the library's thumbnails, previews and
probes). The runtime finds it like a tool; nothing that lists or routes public tools can see it."""

from __future__ import annotations

import pytest

from actors import catalog
from actors.image import library_renders
from actors.media.library_renders import video_probe
from actors.supervisor import Supervisor
from protocols.tools import INTERNAL, REGISTRY, Family, Section, ToolSettings, spec_for, tool

LIBRARY_JOBS = {"library-thumbnail": Family.IMAGE, "library-preview": Family.IMAGE, "library-probe": Family.IMAGE,
                "library-video-thumbnail": Family.MEDIA, "library-video-probe": Family.MEDIA}


def test_internal_jobs_are_declared_apart_from_the_public_tools():
    catalog.load()
    for job_id, family in LIBRARY_JOBS.items():
        assert job_id not in REGISTRY
        assert INTERNAL[job_id].family is family and spec_for(job_id) is INTERNAL[job_id]
    assert spec_for("resize") is REGISTRY["resize"]
    assert spec_for("no-such-job") is None


def test_the_supervisor_routes_an_internal_job_to_its_family():
    catalog.load()
    image, media = object(), object()
    supervisor = Supervisor([(Family.IMAGE, image), (Family.MEDIA, media)])  # type: ignore[list-item]
    assert supervisor.actor_for("library-thumbnail") is image
    assert supervisor.actor_for("library-video-probe") is media


def test_an_id_is_either_a_tool_or_an_internal_job():
    catalog.load()
    with pytest.raises(ValueError, match="registered twice"):
        tool("library-probe", section=Section.IMAGE, settings=ToolSettings)(video_probe)
    with pytest.raises(ValueError, match="registered twice"):
        tool("resize", section=Section.IMAGE, settings=ToolSettings, internal=True)(library_renders.probe)


def test_a_web_node_builds_the_actors_of_the_library_jobs_only():
    """ROLE=web takes no tool job from the queue, but its library still needs the image and media actors."""
    from actors import families

    built = families.build(1, 4, {}, only={Family.IMAGE, Family.MEDIA})
    assert sorted(family.value for family, _actor in built) == ["image", "media"]
