"""Signed influence: every path by which data reaches a controller's beliefs, with the sign
of its effect.

Walking upstream from each process variable of each deciding component, through the links
that carry what the belief is updated from, through components that forward or derive it,
and through ML engines (an output made from inputs, each with its declared effect), the walk
ends where the data originates: a sensor, a person, a setting decided by another controller.
Each such path is an ``InputChain``: the signal as it enters the controller or the engine,
the entry points along it, and the sign from that signal to the belief. A path stops at a
control action of another controller: what that controller decides is its own UCA, and
tampering with it on the way is the control path.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from mdrisk.model.schema import (
    ACTUATING_KINDS,
    Component,
    ComponentKind,
    DeviceModel,
    Effect,
    Link,
    LinkKind,
    SignalNature,
)
from mdrisk.stpa.graph import ControlStructure

_ORIGIN_KINDS = frozenset(
    {
        ComponentKind.sensor,
        ComponentKind.imaging_device,
        ComponentKind.human,
        ComponentKind.controlled_process,
    }
)
_SIGN = {Effect.increases: 1, Effect.decreases: -1}
_ACTION_NATURES = (None, SignalNature.discrete, SignalNature.continuous)

FEEDBACK, CONTROL_PATH, CONTROLLER, ML_MODEL = "feedback", "control_path", "controller", "ml_model"


def combine(*effects: Effect) -> Effect:
    """The effect of a chain of effects: signs multiply; anything unsigned makes it unknown."""
    sign = 1
    for effect in effects:
        if effect not in _SIGN:
            return Effect.non_monotonic if effect is Effect.non_monotonic else Effect.unknown
        sign *= _SIGN[effect]
    return Effect.increases if sign > 0 else Effect.decreases


@dataclass(frozen=True)
class InputChain:
    """One path from where a signal can be falsified to a controller's belief."""

    family: str  # feedback | controller | control_path (an ML output on its way to a person)
    controller: str
    variable: str
    signal: str  # as it enters the engine (ML input) or the controller
    nature: SignalNature | str  # str: "numeric" / "categorical" for an ML output
    entries: tuple[str, ...]  # origin first; in-process links folded into their components
    sign: Effect  # from a higher ``signal`` to a higher belief
    engine: str | None = None
    engine_output: str | None = None
    input_effect: Effect | None = None  # the engine input's effect on its output
    unknown_effects: tuple[str, ...] = ()  # declarations missing on this path


@dataclass(frozen=True)
class ModelChain:
    """An ML engine whose output reaches a controller's belief: the model itself can err."""

    controller: str
    variable: str
    engine: str
    output: str
    sign: Effect
    unknown_effects: tuple[str, ...] = ()


def deciders(structure: ControlStructure) -> list[Component]:
    """Components that issue control actions and decide them (actuators only relay)."""
    issuing = {
        link.source for link in structure.model.links if link.kind == LinkKind.control_action
    }
    return [
        c for c in structure.model.components if c.id in issuing and c.kind not in ACTUATING_KINDS
    ]


def declared_natures(model: DeviceModel) -> dict[str, SignalNature]:
    """Each signal's declared nature: an ML input's first, else the first link's that says
    (a control action's discrete/continuous says nothing of the data)."""
    found: dict[str, SignalNature] = {}
    for engine in model.ml_engines:
        assert engine.ml is not None
        for ml_input in engine.ml.inputs:
            if ml_input.nature is not None:
                found.setdefault(ml_input.signal, ml_input.nature)
    for link in model.links:
        for carried in link.carries:
            if carried.nature not in _ACTION_NATURES:
                assert carried.nature is not None
                found.setdefault(carried.name, carried.nature)
    return found


def _inferred_nature(structure: ControlStructure, origin: str, first_link: Link) -> SignalNature:
    """What a signal is, from where it starts, when the model does not say. Another
    controller's decision passed on as data is a record (a result, a report)."""
    if first_link.kind == LinkKind.control_action:
        return SignalNature.record
    if first_link.kind == LinkKind.update:
        return SignalNature.model
    kind = structure.components[origin].kind
    if kind == ComponentKind.sensor:
        return SignalNature.measurement
    if kind == ComponentKind.imaging_device:
        return SignalNature.image
    if kind == ComponentKind.human:
        return SignalNature.event
    return SignalNature.record


_NUMERIC_NATURES = (SignalNature.measurement, SignalNature.reading)


def output_nature(natures: dict[str, SignalNature], engine: Component, output: str) -> str:
    """Whether an ML output is a number (raised or lowered) or a class, flag or ranking
    (tampered with): as declared on a link carrying it, else by the engine's task."""
    declared = natures.get(output)
    if declared is not None:
        return "numeric" if declared in _NUMERIC_NATURES else "categorical"
    assert engine.ml is not None
    return "numeric" if engine.ml.task_type in ("regression", "forecasting") else "categorical"


def _is_entry(structure: ControlStructure, element: str) -> bool:
    """Where false data can be put: not the physical process, nor a person's own look at it
    (a link from the process straight to a person is an observation, not a channel)."""
    component = structure.components.get(element)
    if component is not None:
        return component.kind != ComponentKind.controlled_process
    link = structure.links[element]
    return not (
        structure.components[link.source].kind == ComponentKind.controlled_process
        and structure.components[link.target].kind == ComponentKind.human
    )


def _with_updates(structure: ControlStructure, entries: tuple[str, ...]) -> tuple[str, ...]:
    """The entries and, before each component, the update links that replace its software:
    a tampered firmware makes a sensor or gateway send false data as well."""
    out: list[str] = []
    for element in entries:
        if element in structure.components:
            out += structure.updates_into.get(element, [])
        out.append(element)
    return tuple(dict.fromkeys(out))


@dataclass(frozen=True)
class _Emission:
    """A chain found above a state of the walk: what to emit again, with the entries below."""

    chain_signal: str
    sign: Effect
    upstream: tuple[str, ...]
    unknown: tuple[str, ...]
    engine: tuple[Component, str, Effect] | None
    origin: str
    first_link: Link
    hint: SignalNature | None

    def with_below(self, below: tuple[str, ...]) -> tuple:
        return (
            self.chain_signal,
            self.sign,
            (*self.upstream, *below),
            self.unknown,
            self.engine,
            self.origin,
            self.first_link,
            self.hint,
        )


@dataclass
class _Walk:
    """One upstream walk from a controller's belief (or an engine input) to the origins."""

    structure: ControlStructure
    natures: dict[str, SignalNature]
    controller: Component
    variable: str
    inputs: list[InputChain]
    models: list[ModelChain]
    # Upstream of each state of the walk, what was found there (the emissions it led to,
    # without the part downstream of it): a later path to the same state reuses it instead of
    # walking again, which on a mesh would enumerate exponentially many paths.
    found_above: dict[tuple, list[_Emission]] = field(default_factory=dict)
    open_states: list[tuple[tuple, int]] = field(default_factory=list)  # (state, len(after))

    def from_controller(self, signal: str, sign: Effect, unknown: tuple[str, ...]) -> None:
        for link in self.structure.incoming[self.controller.id]:
            if link.kind == LinkKind.update or not any(s.name == signal for s in link.carries):
                continue
            if link.kind == LinkKind.control_action and link.source != self.controller.id:
                # Another controller's decision: its own UCA and control path, unless it is a
                # setting this controller decides with.
                nature = self.natures.get(signal)
                if nature is not SignalNature.setting:
                    continue
            self._follow(link, signal, signal, sign, (), unknown, None, set())

    def _follow(
        self,
        link: Link,
        signal: str,
        chain_signal: str,
        sign: Effect,
        after: tuple[str, ...],
        unknown: tuple[str, ...],
        engine: tuple[Component, str, Effect] | None,
        seen: set[tuple[str, str]],
        hint: SignalNature | None = None,
    ) -> None:
        if (link.source, signal) in seen:
            return
        through = (engine[0].id, engine[1], engine[2]) if engine else None
        state = (link.id, signal, chain_signal, sign, through, hint)
        if state in self.found_above:
            for above in self.found_above[state]:
                self._emit(*above.with_below(after))
            return
        self.found_above[state] = []
        self.open_states.append((state, len(after)))
        try:
            self._explore(link, signal, chain_signal, sign, after, unknown, engine, seen, hint)
        finally:
            self.open_states.pop()

    def _explore(
        self,
        link: Link,
        signal: str,
        chain_signal: str,
        sign: Effect,
        after: tuple[str, ...],
        unknown: tuple[str, ...],
        engine: tuple[Component, str, Effect] | None,
        seen: set[tuple[str, str]],
        hint: SignalNature | None,
    ) -> None:
        structure = self.structure
        entries = after if link.channel.in_process else (link.id, *after)
        sender = structure.components[link.source]
        seen = seen | {(sender.id, signal)}
        if link.kind == LinkKind.control_action and sender.kind not in ACTUATING_KINDS:
            # Another controller's decision: relayed on as a record, or configuring how
            # this data is made (a setting, ``hint``); that controller's own UCAs and control
            # path are its business.
            self._emit(chain_signal, sign, entries, unknown, engine, sender.id, link, hint)
            return
        if sender.ml is not None and signal in sender.ml.outputs and engine is None:
            self._through_engine(sender, signal, sign, entries, unknown)
            return
        forwarded = [
            up
            for up in structure.incoming[sender.id]
            if up.kind != LinkKind.update and any(s.name == signal for s in up.carries)
        ]
        here = (sender.id, *entries)
        if forwarded and sender.kind not in _ORIGIN_KINDS:
            for up in forwarded:
                self._follow(up, signal, chain_signal, sign, here, unknown, engine, seen)
            return
        sources = sender.derives.get(signal)
        if sources and sender.kind not in _ORIGIN_KINDS:
            feeding = [
                (up, carried.name)
                for up in structure.incoming[sender.id]
                if up.kind != LinkKind.update
                for carried in up.carries
                if carried.name in sources
            ]
            data = {name for up, name in feeding if up.kind != LinkKind.control_action}
            # A setting that shapes how the data is made (routing rules, a configuration) is
            # its own signal: tampering with it is a flawed control algorithm upstream.
            for up, name in feeding:
                if up.kind == LinkKind.control_action:
                    self._follow(
                        up, name, name, sign, here, unknown, engine, seen, SignalNature.setting
                    )
            if len(data) > 1:
                # A record assembled from several signals is a new record, tampered with from
                # here on; each source is analysed where it is decided with. ML outputs in it
                # are followed, since they carry the model's effect to whoever reads it, and
                # identifiers, since a swapped one misattributes the whole record.
                self._emit(chain_signal, sign, here, unknown, engine, sender.id, link)
                for up, name in feeding:
                    origin = structure.components[up.source]
                    if origin.ml is not None and name in origin.ml.outputs:
                        self._follow(up, name, name, sign, here, unknown, engine, seen)
                    elif self.natures.get(name) is SignalNature.identifier:
                        self._follow(up, name, name, sign, here, unknown, engine, seen)
                return
            if data:
                for up, name in feeding:
                    if up.kind != LinkKind.control_action:
                        self._follow(up, name, chain_signal, sign, here, unknown, engine, seen)
                return
        self._emit(chain_signal, sign, here, unknown, engine, sender.id, link)

    def _through_engine(
        self,
        engine: Component,
        output: str,
        sign: Effect,
        after: tuple[str, ...],
        unknown: tuple[str, ...],
    ) -> None:
        assert engine.ml is not None
        self.models.append(
            ModelChain(self.controller.id, self.variable, engine.id, output, sign, unknown)
        )
        if after:  # the output can be tampered with between the engine and the controller
            family = CONTROL_PATH if self.controller.kind == ComponentKind.human else FEEDBACK
            self.inputs.append(
                InputChain(
                    family=family,
                    controller=self.controller.id,
                    variable=self.variable,
                    signal=output,
                    nature=output_nature(self.natures, engine, output),
                    entries=after,
                    sign=sign,
                    engine=engine.id,
                    engine_output=output,
                    unknown_effects=unknown,
                )
            )
        # The engine's inputs are walked on their own: what lies above them does not depend on
        # the way from the engine down to this controller.
        outer, self.open_states = self.open_states, []
        try:
            self._engine_inputs(engine, output, sign, unknown)
        finally:
            self.open_states = outer

    def _engine_inputs(
        self, engine: Component, output: str, sign: Effect, unknown: tuple[str, ...]
    ) -> None:
        assert engine.ml is not None
        for ml_input in engine.ml.inputs:
            effect = ml_input.effect_on(output)
            if effect is Effect.none:
                continue
            missing = () if effect is not Effect.unknown else (f"{ml_input.signal} -> {output}",)
            for link in self.structure.incoming[engine.id]:
                if link.kind == LinkKind.update or not any(
                    s.name == ml_input.signal for s in link.carries
                ):
                    continue
                self._follow(
                    link,
                    ml_input.signal,
                    ml_input.signal,
                    combine(sign, effect),
                    (),
                    unknown + missing,
                    (engine, output, effect),
                    {(engine.id, output)},
                )

    def _emit(
        self,
        chain_signal: str,
        sign: Effect,
        entries: tuple[str, ...],
        unknown: tuple[str, ...],
        engine: tuple[Component, str, Effect] | None,
        origin: str,
        first_link: Link,
        hint: SignalNature | None = None,
    ) -> None:
        for state, below in self.open_states:
            upstream = entries[: len(entries) - below]
            self.found_above[state].append(
                _Emission(chain_signal, sign, upstream, unknown, engine, origin, first_link, hint)
            )
        structure = self.structure
        entries = _with_updates(structure, tuple(e for e in entries if _is_entry(structure, e)))
        if not entries:
            return
        nature = (
            hint
            or self.natures.get(chain_signal)
            or _inferred_nature(structure, origin, first_link)
        )
        family = CONTROLLER if nature is SignalNature.setting else FEEDBACK
        self.inputs.append(
            InputChain(
                family=family,
                controller=self.controller.id,
                variable=self.variable,
                signal=chain_signal,
                nature=nature,
                entries=entries,
                sign=sign,
                engine=engine[0].id if engine else None,
                engine_output=engine[1] if engine else None,
                input_effect=engine[2] if engine else None,
                unknown_effects=unknown,
            )
        )


def belief_chains(
    structure: ControlStructure,
    controller: Component,
    natures: dict[str, SignalNature] | None = None,
) -> tuple[list[InputChain], list[ModelChain]]:
    """Every path into each of ``controller``'s beliefs, and every engine behind them
    (``natures``: :func:`declared_natures` of the structure, computed once by the caller)."""
    natures = declared_natures(structure.model) if natures is None else natures
    inputs: list[InputChain] = []
    models: list[ModelChain] = []
    variables = [(v.name, v.from_signals, v.effects) for v in controller.process_model]
    if controller.ml is not None:  # an engine that acts: its beliefs are its outputs
        variables += [(o, [], {}) for o in controller.ml.outputs]
    for name, from_signals, effects in variables:
        walk = _Walk(structure, natures, controller, name, inputs, models)
        for signal in from_signals:
            effect = effects.get(signal, Effect.unknown)
            if effect is Effect.none:
                continue
            unknown = (
                () if effect is not Effect.unknown else (f"{signal} -> {controller.id}.{name}",)
            )
            walk.from_controller(signal, effect, unknown)
        if controller.ml is not None and name in controller.ml.outputs:
            walk._through_engine(controller, name, Effect.increases, (), ())
    return inputs, models
