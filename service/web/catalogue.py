"""The catalogue: every tool of the registry by section and by the reference's groups, with its display name."""

from __future__ import annotations

from dataclasses import dataclass, field

from protocols.tools import REGISTRY, Section
from service.web.groups import GROUPS, NAMES

SECTION_NAMES = {
    Section.IMAGE.value: "Image", Section.VIDEO.value: "Video", Section.AUDIO.value: "Audio",
    Section.PDF.value: "PDF & documents", Section.FILES.value: "Files",
}
OTHER_GROUP = "More"


@dataclass
class Entry:
    id: str
    name: str
    summary: str
    section: str


@dataclass
class Group:
    name: str
    tools: list[Entry] = field(default_factory=list)


@dataclass
class SectionView:
    id: str
    name: str
    groups: list[Group] = field(default_factory=list)

    @property
    def count(self) -> int:
        return sum(len(g.tools) for g in self.groups)


def name(tool_id: str) -> str:
    return NAMES.get(tool_id) or tool_id.replace("-", " ").capitalize()


def group_of(tool_id: str) -> str:
    return next((g for g, ids in GROUPS if tool_id in ids), OTHER_GROUP)


def sections(disabled: set[str]) -> list[SectionView]:
    """Sections in the reference's order; groups in its order within each; tools not listed there under
    'More'. Sub-routes and disabled tools are left out."""
    tools = {s.id: s for s in REGISTRY.values() if not s.is_subroute and s.id not in disabled}
    views = {s.value: SectionView(s.value, SECTION_NAMES[s.value]) for s in Section}
    placed: set[str] = set()
    for group_name, ids in GROUPS:
        by_section: dict[str, Group] = {}
        for tool_id in ids:
            spec = tools.get(tool_id)
            if spec is None:
                continue
            group = by_section.get(spec.section.value)
            if group is None:
                group = by_section[spec.section.value] = Group(group_name)
                views[spec.section.value].groups.append(group)
            group.tools.append(Entry(spec.id, name(spec.id), spec.summary, spec.section.value))
            placed.add(tool_id)
    for spec in sorted((s for s in tools.values() if s.id not in placed), key=lambda s: s.id):
        view = views[spec.section.value]
        other = next((g for g in view.groups if g.name == OTHER_GROUP), None)
        if other is None:
            other = Group(OTHER_GROUP)
            view.groups.append(other)
        other.tools.append(Entry(spec.id, name(spec.id), spec.summary, spec.section.value))
    return [v for v in views.values() if v.groups]
