"""Which control actions an ML engine's outputs reach, and along which path."""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

from mdrisk.assessment import ControlAction
from mdrisk.model.schema import Component, LinkKind
from mdrisk.stpa.graph import ControlStructure


@dataclass(frozen=True)
class Influence:
    ml_output: str
    control_action: str
    path: tuple[str, ...]  # ids from the engine to the controller issuing the action


def _downstream(structure: ControlStructure, component: Component, signal: str):
    outgoing = structure.outgoing[component.id]
    direct = [(link, signal) for link in outgoing if any(s.name == signal for s in link.carries)]
    if direct:
        return direct
    derived = {out for out, sources in component.derives.items() if signal in sources}
    if derived:
        return [(link, s.name) for link in outgoing for s in link.carries if s.name in derived]
    if component.derives:
        return []
    # A decision made from the output (a recommendation shown, a command sent) carries its
    # influence on, so control actions count here as well as data.
    return [(link, s.name) for link in outgoing
            if link.kind != LinkKind.update for s in link.carries]


def ml_influences(structure: ControlStructure, engine: Component,
                  control_actions: list[ControlAction]) -> list[Influence]:
    """Control actions whose controller decides with the engine's outputs, shortest path each.

    The engine's own control actions count with a path of just the engine.
    """
    assert engine.ml is not None
    actions_by_controller: dict[str, list[ControlAction]] = {}
    for action in control_actions:
        actions_by_controller.setdefault(action.controller, []).append(action)
    found: dict[str, Influence] = {}
    for output in engine.ml.outputs:
        for action in actions_by_controller.get(engine.id, []):
            found.setdefault(action.id, Influence(output, action.id, (engine.id,)))
        queue = deque((link, s, (engine.id,)) for link, s in _downstream(structure, engine, output))
        expanded: set[tuple[str, str]] = set()
        while queue:
            link, signal, upstream = queue.popleft()
            receiver = structure.components[link.target]
            path = upstream + (link.id, receiver.id)
            for action in actions_by_controller.get(receiver.id, []):
                found.setdefault(action.id, Influence(output, action.id, path))
            if (receiver.id, signal) in expanded or receiver.id == engine.id:
                continue
            expanded.add((receiver.id, signal))
            queue.extend((nxt, s, path) for nxt, s in _downstream(structure, receiver, signal))
    order = {action.id: i for i, action in enumerate(control_actions)}
    return sorted(found.values(), key=lambda influence: order[influence.control_action])
