"""False-data injection points: every component and link upstream of an ML engine input.

The trace follows the data itself backwards from the engine: links that carry the input
signal, the components that send it, and so on until the signal's origin (a sensor, an
imaging device, a person), and through the software and firmware updates of every component
on the way. Where a component renames what it forwards, its ``derives`` map
says from what; where it says nothing, every data or feedback link into it is followed, an
over-approximation that may list a harmless point but never misses a real one. Each element
is listed once per ML input, with its shortest path, so the work is linear in the model size.
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


@dataclass(frozen=True)
class _Reached:
    element: str
    element_type: str
    path: tuple[PathStep, ...]  # from this element to the ML engine


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
    reached: list[_Reached] = []
    listed: set[str] = {engine.id}
    expanded: set[tuple[str, str]] = set()
    queue: deque[tuple[Link, str, tuple[PathStep, ...]]] = deque(
        (link, signal, (engine_step,)) for link, signal in first_links
    )
    while queue:
        link, signal, downstream = queue.popleft()
        link_path = (PathStep(element=link.id, element_type="link"),) + downstream
        if link.id not in listed:
            listed.add(link.id)
            reached.append(_Reached(link.id, "link", link_path))
        sender = structure.components[link.source]
        sender_path = (PathStep(element=sender.id, element_type="component"),) + link_path
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
                path=list(item.path),
                protections=_protections(link) if link else [],
                technologies=_technologies(structure, item),
            )
        )
    return points
