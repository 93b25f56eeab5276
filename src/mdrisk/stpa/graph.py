"""The control structure as a graph: components joined by links, indexed for traversal."""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from mdrisk.model.schema import Component, DeviceModel, Link, LinkKind


@dataclass
class ControlStructure:
    model: DeviceModel
    components: dict[str, Component] = field(default_factory=dict)
    links: dict[str, Link] = field(default_factory=dict)
    incoming: dict[str, list[Link]] = field(default_factory=dict)
    outgoing: dict[str, list[Link]] = field(default_factory=dict)
    # Per component, the update links that replace its software (firmware, a model).
    updates_into: dict[str, list[str]] = field(default_factory=dict)

    @classmethod
    def of(cls, model: DeviceModel) -> ControlStructure:
        structure = cls(model=model)
        for component in model.components:
            structure.components[component.id] = component
            structure.incoming[component.id] = []
            structure.outgoing[component.id] = []
        for link in model.links:
            structure.links[link.id] = link
            structure.outgoing[link.source].append(link)
            structure.incoming[link.target].append(link)
            if link.kind == LinkKind.update:
                structure.updates_into.setdefault(link.target, []).append(link.id)
        return structure

    def shortest_link_path(
        self, start: str, goal: str, follow: Callable[[Link], bool]
    ) -> list[Link] | None:
        """Fewest links from component ``start`` to ``goal`` along links ``follow`` accepts.

        Breadth-first over components, so it is linear in the size of the model and ends on
        cyclic structures.
        """
        if start == goal:
            return []
        came_by: dict[str, Link] = {}
        queue = deque([start])
        seen = {start}
        while queue:
            current = queue.popleft()
            for link in self.outgoing[current]:
                if not follow(link) or link.target in seen:
                    continue
                came_by[link.target] = link
                if link.target == goal:
                    path = [link]
                    while path[0].source != start:
                        path.insert(0, came_by[path[0].source])
                    return path
                seen.add(link.target)
                queue.append(link.target)
        return None

    def weakly_connected_groups(self) -> list[set[str]]:
        """Groups of components joined by links in either direction, largest first."""
        neighbours: dict[str, set[str]] = {c: set() for c in self.components}
        for link in self.links.values():
            neighbours[link.source].add(link.target)
            neighbours[link.target].add(link.source)
        groups: list[set[str]] = []
        unvisited = list(self.components)
        assigned: set[str] = set()
        for start in unvisited:
            if start in assigned:
                continue
            group = {start}
            queue = deque([start])
            while queue:
                for other in neighbours[queue.popleft()]:
                    if other not in group:
                        group.add(other)
                        queue.append(other)
            assigned |= group
            groups.append(group)
        order = {c: i for i, c in enumerate(self.components)}
        groups.sort(key=lambda g: (-len(g), min(order[c] for c in g)))
        return groups


def signal_names(links: Iterable[Link]) -> set[str]:
    return {signal.name for link in links for signal in link.carries}
