"""False-data injection points: every component and link upstream of an ML engine input.

The trace follows the data itself backwards from the engine: links that carry the input
signal, the components that send it, and so on until the signal's origin (a sensor, an
imaging device, a person), and through the software and firmware updates of every component
on the way. Where a component renames what it forwards, its ``derives`` map
says from what; where it says nothing, every data or feedback link into it is followed, an
over-approximation that may list a harmless point but never misses a real one. Each element
is listed once per ML input, with its shortest path, so the work is linear in the model size.

A path longer than ``MAX_PATH_STEPS`` is stored with its middle elided (one ``elided`` step
that says how many hops it stands for): in a chain of n relays every point's path is O(n)
long, and storing each whole made the assessment O(n^2) (2,000 gateways: 3 GB of memory,
a 700 MB assessment). Paths are built as shared trails, so tracing stays linear too.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

from mdrisk.assessment.stpa import FDIPoint, PathStep
from mdrisk.model.schema import MEASURING_KINDS, Component, ComponentKind, Link, LinkKind
from mdrisk.stable_ids import stable_ids
from mdrisk.stpa.graph import ControlStructure

MODEL_UPDATE_INPUT = "model"
_ORIGIN_KINDS = MEASURING_KINDS | {ComponentKind.human, ComponentKind.controlled_process}
# Steps kept at each end of a longer path; no reference device comes near it.
_KEPT_AT_EACH_END = 16
MAX_PATH_STEPS = 2 * _KEPT_AT_EACH_END + 1
ELIDED = "elided"


@dataclass(frozen=True)
class _Trail:
    """A path from one element to the ML engine, sharing its rest with the trail it extends:
    ``head`` is its first MAX_PATH_STEPS steps, ``tail`` its last _KEPT_AT_EACH_END."""

    head: tuple[PathStep, ...]
    tail: tuple[PathStep, ...]
    length: int

    def extended(self, step: PathStep) -> _Trail:
        head = (step,) + self.head[: MAX_PATH_STEPS - 1]
        tail = self.tail if self.length >= _KEPT_AT_EACH_END else head[-_KEPT_AT_EACH_END:]
        return _Trail(head, tail, self.length + 1)

    def steps(self) -> list[PathStep]:
        if self.length <= MAX_PATH_STEPS:
            return list(self.head)
        hidden = self.length - 2 * _KEPT_AT_EACH_END
        marker = PathStep(element=f"({hidden} more steps)", element_type=ELIDED)
        return [*self.head[:_KEPT_AT_EACH_END], marker, *self.tail]


@dataclass(frozen=True)
class _Reached:
    element: str
    element_type: str
    path: _Trail  # from this element to the ML engine


def _protections(link: Link) -> list[str]:
    shield = link.channel.protections
    names = ("authentication", "encryption", "integrity", "replay_protection")
    return [name for name in names if getattr(shield, name)]


def _technologies(structure: ControlStructure, reached: _Reached) -> list[str]:
    if reached.element_type == "link":
        technology = structure.links[reached.element].channel.technology
        return [technology.name] if technology else []
    return [t.name for t in structure.components[reached.element].technologies]


def _upstream_links(
    structure: ControlStructure, component: Component, signal: str
) -> list[tuple[Link, str]]:
    """Links into ``component`` that bring ``signal`` (or what it is made from), plus the
    updates of its software or firmware: a tampered update makes it send false data too."""
    incoming = structure.incoming[component.id]
    updates = [
        (link, s.name) for link in incoming if link.kind == LinkKind.update for s in link.carries
    ]
    direct = [
        (link, signal)
        for link in incoming
        if any(s.name == signal for s in link.carries) and link.kind != LinkKind.update
    ]
    if direct:
        return direct + updates
    if signal in component.derives:
        sources = component.derives[signal]
        return [
            (link, s.name)
            for link in incoming
            if link.kind != LinkKind.update
            for s in link.carries
            if s.name in sources
        ] + updates
    if component.kind in _ORIGIN_KINDS:
        return updates
    return [
        (link, s.name)
        for link in incoming
        if link.kind in (LinkKind.data, LinkKind.feedback)
        for s in link.carries
    ] + updates


def _trace(
    structure: ControlStructure, engine: Component, first_links: list[tuple[Link, str]]
) -> list[_Reached]:
    engine_step = PathStep(element=engine.id, element_type="component")
    engine_trail = _Trail((engine_step,), (engine_step,), 1)
    reached: list[_Reached] = []
    listed: set[str] = {engine.id}
    expanded: set[tuple[str, str]] = set()
    queue: deque[tuple[Link, str, _Trail]] = deque(
        (link, signal, engine_trail) for link, signal in first_links
    )
    while queue:
        link, signal, downstream = queue.popleft()
        link_path = downstream.extended(PathStep(element=link.id, element_type="link"))
        if link.id not in listed:
            listed.add(link.id)
            reached.append(_Reached(link.id, "link", link_path))
        sender = structure.components[link.source]
        sender_path = link_path.extended(PathStep(element=sender.id, element_type="component"))
        if sender.id not in listed:
            listed.add(sender.id)
            reached.append(_Reached(sender.id, "component", sender_path))
        if (sender.id, signal) in expanded or sender.id == engine.id:
            continue
        expanded.add((sender.id, signal))
        for upstream, upstream_signal in _upstream_links(structure, sender, signal):
            queue.append((upstream, upstream_signal, sender_path))
    return reached


def derive_fdi_points(structure: ControlStructure) -> list[FDIPoint]:
    found: list[tuple[str, str, str, _Reached]] = []  # engine, target, input, element reached
    for engine in structure.model.ml_engines:
        assert engine.ml is not None
        for ml_input in engine.ml.inputs:
            first = [
                (link, ml_input.signal)
                for link in structure.incoming[engine.id]
                if link.kind != LinkKind.update
                and any(s.name == ml_input.signal for s in link.carries)
            ]
            for item in _trace(structure, engine, first):
                found.append((engine.id, "inference_input", ml_input.signal, item))
        update_links = [
            link for link in structure.incoming[engine.id] if link.kind == LinkKind.update
        ]
        first_updates = [(link, s.name) for link in update_links for s in link.carries]
        if first_updates:
            for item in _trace(structure, engine, first_updates):
                found.append((engine.id, "model_update", MODEL_UPDATE_INPUT, item))
    ids = stable_ids("FDI", [(item.element, e, t, i) for e, t, i, item in found])
    points = []
    for engine_id, target, signal, item in found:
        link = structure.links.get(item.element) if item.element_type == "link" else None
        points.append(
            FDIPoint(
                id=ids[(item.element, engine_id, target, signal)],
                element=item.element,
                element_type=item.element_type,
                target=target,
                ml_engine=engine_id,
                ml_input=signal,
                path=item.path.steps(),
                protections=_protections(link) if link else [],
                technologies=_technologies(structure, item),
            )
        )
    return points
