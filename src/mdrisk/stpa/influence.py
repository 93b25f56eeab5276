"""Which control actions an ML engine's outputs reach, and along which path."""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

from mdrisk.assessment.stpa import ControlAction
from mdrisk.model.schema import Component, Link, LinkKind
from mdrisk.stpa.graph import ControlStructure


@dataclass(frozen=True)
class Influence:
    ml_output: str
    control_action: str
    path: tuple[str, ...]  # ids from the engine to the controller issuing the action


Hop = tuple[Link, str]


def _downstream(
    structure: ControlStructure, component: Component, signal: str
) -> tuple[list[Hop], bool]:
    """Where ``signal`` goes next, and whether that is only the conservative guess (every
    outgoing link, for a component that says nothing of what it forwards)."""
    outgoing = structure.outgoing[component.id]
    direct = [(link, signal) for link in outgoing if any(s.name == signal for s in link.carries)]
    if direct:
        return direct, False
    derived = {out for out, sources in component.derives.items() if signal in sources}
    if derived:
        return [
            (link, s.name) for link in outgoing for s in link.carries if s.name in derived
        ], False
    if component.derives:
        return [], False
    # A decision made from the output (a recommendation shown, a command sent) carries its
    # influence on, so control actions count here as well as data.
    return [
        (link, s.name) for link in outgoing if link.kind != LinkKind.update for s in link.carries
    ], True


class DownstreamCache:
    """Where a signal goes next from a component; the same for every engine, so computed once."""

    def __init__(self, structure: ControlStructure) -> None:
        self._structure = structure
        self._hops: dict[tuple[str, str], tuple[list[Hop], bool]] = {}

    def __call__(self, component: Component, signal: str) -> list[Hop]:
        """Next hops; a controller that does not decide with ``signal`` passes it on only
        where it forwards it explicitly, not through its decisions."""
        key = (component.id, signal)
        if key not in self._hops:
            self._hops[key] = _downstream(self._structure, component, signal)
        hops, guessed = self._hops[key]
        if guessed and not _decides_with(component, signal):
            return []
        return hops


def _decides_with(component: Component, signal: str) -> bool:
    """Whether a controller's decisions depend on ``signal``: any signal when it declares no
    process model, else only those its process variables are updated from."""
    sources = {name for variable in component.process_model for name in variable.from_signals}
    return not sources or signal in sources


def ml_influences(
    structure: ControlStructure,
    engine: Component,
    control_actions: list[ControlAction],
    downstream: DownstreamCache | None = None,
) -> list[Influence]:
    """Control actions whose controller decides with the engine's outputs, shortest path each.

    The engine's own control actions count with a path of just the engine. A controller with a
    process model counts only when the signal arriving is one its beliefs are updated from.
    """
    downstream = downstream or DownstreamCache(structure)
    assert engine.ml is not None
    actions_by_controller: dict[str, list[ControlAction]] = {}
    for action in control_actions:
        actions_by_controller.setdefault(action.controller, []).append(action)
    found: dict[str, Influence] = {}
    for output in engine.ml.outputs:
        for action in actions_by_controller.get(engine.id, []):
            found.setdefault(action.id, Influence(output, action.id, (engine.id,)))
        queue: deque[tuple[Link, str, tuple[str, ...]]] = deque(
            (link, s, (engine.id,)) for link, s in downstream(engine, output)
        )
        expanded: set[tuple[str, str]] = set()
        while queue:
            link, signal, upstream = queue.popleft()
            receiver = structure.components[link.target]
            path = upstream + (link.id, receiver.id)
            if _decides_with(receiver, signal):
                for action in actions_by_controller.get(receiver.id, []):
                    found.setdefault(action.id, Influence(output, action.id, path))
            if (receiver.id, signal) in expanded or receiver.id == engine.id:
                continue
            expanded.add((receiver.id, signal))
            queue.extend((nxt, s, path) for nxt, s in downstream(receiver, signal))
    order = {action.id: i for i, action in enumerate(control_actions)}
    return sorted(found.values(), key=lambda influence: order[influence.control_action])
