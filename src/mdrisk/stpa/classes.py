"""Loss-scenario classes of both Handbook families, kept only where the direction holds.

(a) Unsafe controller behaviour: a belief made wrong by false data on an input path
(``feedback``), by a tampered setting or controller software (``controller``), or by the ML
model itself erring, substituted or poisoned (``ml_model``); (b) the ``control_path``: a
control action forged, dropped, changed, delayed or replayed on its way, or an ML output
tampered with on its way to a person.

A manipulation yields a class for a UCA only when it can push the controller's belief the
way that UCA needs (``truth_tables`` and the signs of ``signed``); a UCA type that cannot
occur, or that names no hazard, yields none. One class per (entry point, signal,
manipulation, UCA): the points of one data path are folded into it, the representative being
the most exposed.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from mdrisk.assessment.stpa import (
    ControlAction,
    FDIPoint,
    LossScenario,
    MLEffect,
    UnsafeControlAction,
)
from mdrisk.model.schema import (
    ComponentKind,
    Effect,
    Hazard,
    Link,
    LinkKind,
    Signal,
    SignalNature,
    UCAType,
)
from mdrisk.stable_ids import stable_ids
from mdrisk.stpa import truth_tables as tt
from mdrisk.stpa.graph import ControlStructure
from mdrisk.stpa.signed import (
    CONTROL_PATH,
    CONTROLLER,
    ML_MODEL,
    InputChain,
    ModelChain,
    belief_chains,
    deciders,
    declared_natures,
)

_DIRECTION = {Effect.increases: tt.UP, Effect.decreases: tt.DOWN}
_OPPOSITE = {tt.UP: tt.DOWN, tt.DOWN: tt.UP}
_PUSHED = {tt.UP: "overestimated", tt.DOWN: "underestimated", tt.EITHER: "wrong either way"}


@dataclass
class _Class:
    family: str
    signal: str
    manipulation: str
    controller: str
    action: ControlAction
    uca: UnsafeControlAction
    nature: str  # the signal's nature, "command" on the control path, "model" for a model
    members: dict[str, None] = field(default_factory=dict)  # ordered set
    routes: dict[str, None] = field(default_factory=dict)
    assumptions: dict[str, None] = field(default_factory=dict)
    effect: MLEffect | None = None
    belief: str | None = None
    engine: str | None = None
    ml_input: str | None = None
    ml_output: str | None = None

    def add(self, members: tuple[str, ...], route: str, assumptions: tuple[str, ...]) -> None:
        self.members.update(dict.fromkeys(members))
        self.routes[route] = None
        self.assumptions.update(dict.fromkeys(assumptions))


def _signed(outcome: str, sign: Effect) -> str:
    """The direction a belief moves when the signal moves ``outcome``."""
    if outcome == tt.EITHER or sign not in _DIRECTION:
        return tt.EITHER
    return outcome if sign is Effect.increases else _OPPOSITE[outcome]


def _needed(uca_type: UCAType, demand: Effect, sign: Effect) -> str:
    """Which way a signal must move (given its ``sign`` to the belief) to cause ``uca_type``."""
    if demand not in _DIRECTION or sign not in _DIRECTION:
        return tt.EITHER
    need = tt.UP if uca_type is UCAType.provided_unsafe else tt.DOWN
    return _signed(_signed(need, demand), sign)


def _uca_types(belief_moves: str, demand: Effect) -> list[UCAType]:
    """A belief pushed up of a variable that raises the need gives provided_unsafe, etc."""
    if belief_moves == tt.EITHER or demand not in _DIRECTION:
        return [UCAType.provided_unsafe, UCAType.not_provided]
    need = _signed(belief_moves, demand)
    return [UCAType.provided_unsafe if need == tt.UP else UCAType.not_provided]


class _Builder:
    def __init__(
        self,
        structure: ControlStructure,
        control_actions: list[ControlAction],
        ucas: list[UnsafeControlAction],
        fdi_points: list[FDIPoint],
    ) -> None:
        self.structure = structure
        self.actions_of: dict[str, list[ControlAction]] = {}
        for action in control_actions:
            self.actions_of.setdefault(action.controller, []).append(action)
        self.uca_of = {(u.control_action, u.type): u for u in ucas if u.hazards}
        self.points_of: dict[str, list[FDIPoint]] = {}
        for point in fdi_points:
            self.points_of.setdefault(point.element, []).append(point)
        self.classes: dict[tuple[str, ...], _Class] = {}
        self._updates: dict[str, tuple[str, ...]] = {}
        self._points: dict[tuple[str, str | None, str, str | None], list[FDIPoint]] = {}

    def _class(
        self,
        family: str,
        signal: str,
        manipulation: str,
        action: ControlAction,
        uca_type: UCAType,
        nature: str,
    ) -> _Class | None:
        uca = self.uca_of.get((action.id, uca_type))
        if uca is None:
            return None
        key = (family, signal, manipulation, action.id, uca_type.value)
        if key not in self.classes:
            self.classes[key] = _Class(
                family, signal, manipulation, action.controller, action, uca, nature
            )
        return self.classes[key]

    def _demand(self, action: ControlAction, variable: str) -> Effect | None:
        """How ``variable`` drives ``action``; None where it does not drive it."""
        signal = self.structure.links[action.link].carries
        declared = next(s for s in signal if s.name == action.name).demand
        if declared is None:
            return Effect.unknown
        return declared.get(variable)

    def add_input(self, chain: InputChain) -> None:
        if isinstance(chain.nature, SignalNature):
            manipulations = tt.DATA_MANIPULATIONS.get(chain.nature, {"tamper": tt.EITHER})
        else:
            manipulations = tt.OUTPUT_MANIPULATIONS[chain.nature]
        for action in self.actions_of.get(chain.controller, []):
            demand = self._demand(action, chain.variable)
            if demand is None:
                continue
            assumptions = chain.unknown_effects
            if demand is Effect.unknown:
                assumptions += (f"{chain.variable} -> {action.name}",)
            for manipulation, outcome in manipulations.items():
                if outcome in tt.UNSIGNED_UCAS:
                    types = list(tt.UNSIGNED_UCAS[outcome])
                    belief = None
                else:
                    moves = _signed(outcome, chain.sign)
                    types = _uca_types(moves, demand)
                    belief = f"{chain.variable} {_PUSHED[moves]}"
                for uca_type in types:
                    found = self._class(
                        chain.family,
                        chain.signal,
                        manipulation,
                        action,
                        uca_type,
                        str(chain.nature),
                    )
                    if found is None:
                        continue
                    found.add(chain.entries, self._route(chain), assumptions)
                    found.belief = found.belief or belief
                    if chain.engine and chain.engine_output:
                        direction = outcome
                        if chain.input_effect is not None and outcome in _DIRECTION.values():
                            direction = _signed(outcome, chain.input_effect)
                        found.effect = found.effect or MLEffect(
                            output=chain.engine_output, direction=direction
                        )
                        found.engine = chain.engine
                        found.ml_output = chain.engine_output
                        found.ml_input = chain.signal if chain.input_effect is not None else None

    def _route(self, chain: InputChain) -> str:
        via = f" through {chain.engine}'s {chain.engine_output}" if chain.input_effect else ""
        return f"{chain.signal}{via} updates {chain.controller}'s {chain.variable}"

    def add_model(self, chain: ModelChain) -> None:
        engine = self.structure.components[chain.engine]
        assert engine.ml is not None
        sources: dict[str, tuple[str, ...]] = {"error": (engine.id,)}
        update_points = self.update_points(engine.id)
        if update_points:
            sources["substitute"] = update_points
        field_data = tuple(
            t.source
            for t in engine.ml.training_data
            if t.continuous and t.source in self.structure.components
        )
        if any(t.continuous for t in engine.ml.training_data):
            # Field data the next model learns from: a locked model ships the poisoned
            # version through its update path, an unlocked one learns it in the field.
            sources["poison"] = field_data or (engine.id,)
        for action in self.actions_of.get(chain.controller, []):
            demand = self._demand(action, chain.variable)
            if demand is None:
                continue
            for manipulation, members in sources.items():
                for uca_type in _uca_types(tt.EITHER, demand):
                    found = self._class(
                        ML_MODEL, chain.output, manipulation, action, uca_type, "model"
                    )
                    if found is None:
                        continue
                    route = f"{chain.output} updates {chain.controller}'s {chain.variable}"
                    found.add(members, route, chain.unknown_effects)
                    found.effect = MLEffect(
                        output=chain.output, direction=_needed(uca_type, demand, chain.sign)
                    )
                    found.engine = engine.id
                    found.ml_output = chain.output
                    found.belief = f"{chain.variable} {_PUSHED[tt.EITHER]}"

    def update_points(self, engine: str) -> tuple[str, ...]:
        """Elements on the way of the engine's model updates (FDI points, model_update)."""
        if engine not in self._updates:
            self._updates[engine] = tuple(
                dict.fromkeys(
                    p.element
                    for points in self.points_of.values()
                    for p in points
                    if p.ml_engine == engine and p.target == "model_update"
                )
            )
        return self._updates[engine]

    def add_controller_updates(self, controller: str) -> None:
        """Software or firmware of a (non-ML) controller replaced through its update path."""
        component = self.structure.components[controller]
        if component.ml is not None:
            return
        for link in self.structure.incoming[controller]:
            if link.kind != LinkKind.update:
                continue
            for carried in link.carries:
                for action in self.actions_of.get(controller, []):
                    for uca_type in (UCAType.provided_unsafe, UCAType.not_provided):
                        found = self._class(
                            CONTROLLER, carried.name, "substitute", action, uca_type, "model"
                        )
                        if found is not None:
                            found.add(
                                (link.source, link.id),
                                f"{carried.name} replaces what {controller} runs",
                                (),
                            )

    def add_control_path(self, action: ControlAction) -> None:
        link = self.structure.links[action.link]
        if self._in_person(link):
            return
        signal = next(s for s in link.carries if s.name == action.name)
        for manipulation, types in tt.CONTROL_PATH_UCAS.items():
            if not self._applies(manipulation, link, signal):
                continue
            for uca_type in types:
                found = self._class(
                    CONTROL_PATH, action.name, manipulation, action, uca_type, "command"
                )
                if found is not None:
                    found.add(
                        (link.id,),
                        f"{action.name} on its way from {action.controller} to {action.controlled}",
                        (),
                    )

    def _in_person(self, link: Link) -> bool:
        """A person acting on a person or on the body directly, with no technology between
        them: there is no channel to tamper with (flaws of the act itself are the person's
        own, not an attack on the control path)."""
        source = self.structure.components[link.source]
        target = self.structure.components[link.target]
        return (
            source.kind == ComponentKind.human
            and target.kind in (ComponentKind.human, ComponentKind.controlled_process)
            and link.channel.technology is None
        )

    def _applies(self, manipulation: str, link: Link, signal: Signal) -> bool:
        if manipulation in tt.AMOUNT_MANIPULATIONS and signal.unit is None and signal.range is None:
            return False
        if manipulation in tt.CHANNEL_MANIPULATIONS:
            ends = (self.structure.components[link.source], self.structure.components[link.target])
            if link.channel.in_process or any(e.kind == ComponentKind.human for e in ends):
                return False
        if manipulation in tt.CONTINUOUS_MANIPULATIONS:
            return signal.nature is SignalNature.continuous
        return True


def _exposure(structure: ControlStructure, element: str) -> int:
    """Lower is more exposed: an unprotected channel first, a person last."""
    link = structure.links.get(element)
    if link is not None:
        shield = link.channel.protections
        if not (shield.authentication or shield.integrity):
            return 0
        if not (shield.authentication and shield.integrity):
            return 1
        return 3
    kind = structure.components[element].kind
    return 4 if kind == ComponentKind.human else 2


def derive_loss_scenarios(
    structure: ControlStructure,
    fdi_points: list[FDIPoint],
    control_actions: list[ControlAction],
    ucas: list[UnsafeControlAction],
) -> list[LossScenario]:
    builder = _Builder(structure, control_actions, ucas, fdi_points)
    natures = declared_natures(structure.model)
    for controller in deciders(structure):
        inputs, models = belief_chains(structure, controller, natures)
        for chain in inputs:
            builder.add_input(chain)
        for model_chain in models:
            builder.add_model(model_chain)
        builder.add_controller_updates(controller.id)
    for action in control_actions:
        builder.add_control_path(action)
    return _records(structure, builder)


def _records(structure: ControlStructure, builder: _Builder) -> list[LossScenario]:
    hazards: dict[str, Hazard] = {h.id: h for h in structure.model.hazards}
    rows = []
    for found in builder.classes.values():
        order = {m: i for i, m in enumerate(found.members)}
        element = min(found.members, key=lambda m: (_exposure(structure, m), order[m]))
        rows.append((found, element))
    keys = [
        (f.family, element, f.signal, f.manipulation, f.controller, f.action.name, f.uca.type.value)
        for f, element in rows
    ]
    ids = stable_ids("LS", keys)
    records = []
    for (found, element), key in zip(rows, keys, strict=True):
        uca = found.uca
        reached = _hazards_reached(found, hazards)
        if not reached:
            continue  # only a misattribution leads anywhere from this UCA, and this is none
        losses = sorted({loss for h in reached for loss in hazards[h].losses})
        points = [p.id for m in found.members for p in _points(builder, found, m)]
        rationale = (
            f"{found.manipulation} of {found.signal}: "
            + "; ".join(found.routes)
            + (f"; {found.belief}" if found.belief else "")
            + f"; so {uca.text}"
        )
        text = (
            f"{found.signal} is {_PAST[found.manipulation]} at {element}"
            + (
                f" (or at any of {len(found.members) - 1} more entry points: see members)"
                if len(found.members) > 3
                else f" (also via {', '.join(m for m in found.members if m != element)})"
                if len(found.members) > 1
                else ""
            )
            + (
                f"; {found.engine}'s {found.effect.output} goes {found.effect.direction}"
                if found.effect and found.engine
                else ""
            )
            + (f"; {found.belief}" if found.belief else "")
            + f"; {uca.text} ({uca.id}), leading to {', '.join(reached)}."
        )
        records.append(
            LossScenario(
                id=ids[key],
                family=found.family,
                element=element,
                members=list(found.members),
                signal=found.signal,
                manipulation=found.manipulation,
                effect=found.effect,
                belief=found.belief,
                controller=found.controller,
                control_action=found.action.id,
                uca=uca.id,
                uca_type=uca.type,
                hazards=reached,
                losses=losses,
                rationale=rationale,
                assumptions=list(found.assumptions),
                fdi_points=points,
                ml_engine=found.engine,
                ml_input=found.ml_input,
                ml_output=found.ml_output,
                path=_path(structure, builder, found, element),
                text=text,
            )
        )
    records.sort(key=lambda r: (r.family, r.element, r.signal, r.manipulation, r.uca))
    return records


def _hazards_reached(found: _Class, hazards: dict[str, Hazard]) -> list[str]:
    """The UCA's hazards this class can bring about: one that concerns identity (the wrong
    patient) only through a manipulation that can misattribute."""
    misattributes = (found.manipulation, "*") in tt.MISATTRIBUTING or (
        found.manipulation,
        found.nature,
    ) in tt.MISATTRIBUTING
    return [
        h
        for h in found.uca.hazards
        if misattributes or h not in hazards or hazards[h].concerns != "identity"
    ]


def _points(builder: _Builder, found: _Class, element: str) -> list[FDIPoint]:
    """The FDI points of ``element`` that the class goes through: its engine's, for its input
    (or its update path, for a substituted model)."""
    if found.engine is None or (found.family != ML_MODEL and found.ml_input is None):
        return []  # no engine on the way, or an output tampered with after the engine
    target = "model_update" if found.family == ML_MODEL else "inference_input"
    ml_input = None if found.family == ML_MODEL else found.ml_input
    key = (element, found.engine, target, ml_input)
    if key not in builder._points:
        # An in-process link is one point with the component that sends over it.
        folded = [
            link.id
            for link in builder.structure.outgoing.get(element, [])
            if link.channel.in_process
        ]
        builder._points[key] = [
            p
            for e in (element, *folded)
            for p in builder.points_of.get(e, [])
            if p.ml_engine == found.engine
            and p.target == target
            and (target == "model_update" or p.ml_input == ml_input)
        ]
    return builder._points[key]


def _path(structure: ControlStructure, builder: _Builder, found: _Class, element: str) -> list[str]:
    """Entry point to the controller: the representative's FDI path to the engine, then the
    links on to the controller; without an engine, the members in order."""
    points = _points(builder, found, element)
    if not points or found.engine is None:
        return [*found.members, found.controller]
    head = [step.element for step in min(points, key=lambda p: len(p.path)).path]
    return head + engine_to_controller(structure, found.engine, found.controller)


def engine_to_controller(structure: ControlStructure, engine: str, controller: str) -> list[str]:
    """The links and components after ``engine`` on the shortest data path to ``controller``."""
    links = structure.shortest_link_path(
        engine, controller, lambda link: link.kind != LinkKind.update
    )
    tail: list[str] = []
    for link in links or []:
        tail += [link.id, link.target]
    return tail


_PAST = {
    "raise": "raised",
    "lower": "lowered",
    "freeze": "stale (frozen, held back or replayed)",
    "delay": "delayed",
    "suppress": "suppressed",
    "spoof": "spoofed",
    "tamper": "tampered with",
    "swap": "swapped",
    "substitute": "substituted",
    "poison": "poisoned",
    "error": "wrong (model error or drift, no attacker)",
    "replay": "replayed",
}
