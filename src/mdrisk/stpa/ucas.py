"""Unsafe control actions: every control action in each STPA type that can occur.

A context the analyst wrote is kept as written. Otherwise it is built from the controller's
process-model values (the Handbook's context tables): the states in which the action is, or
is not, called for, read from how each variable drives the action (``demand``). A context
states the system's state, never a cause; causes are the loss scenarios' business.
"""

from __future__ import annotations

from mdrisk.assessment.stpa import ControlAction, UnsafeControlAction
from mdrisk.model.schema import Component, Effect, Signal, UCAType
from mdrisk.stable_ids import stable_ids
from mdrisk.stpa.graph import ControlStructure

_PHRASES = {
    UCAType.not_provided: "does not provide {action} to {controlled}",
    UCAType.provided_unsafe: "provides {action} to {controlled}",
    UCAType.wrong_timing: "provides {action} to {controlled} too early, too late or out of order",
    UCAType.wrong_duration: "stops {action} to {controlled} too soon or applies it too long",
}


def _states(controller: Component, signal: Signal) -> tuple[list[str], list[str]]:
    """Process-model states that call for the action, and states that do not."""
    calling: list[str] = []
    not_calling: list[str] = []
    variables = {v.name: v for v in controller.process_model}
    demand = signal.demand if signal.demand is not None else {}
    for name, effect in demand.items():
        values = variables[name].values if name in variables else []
        if effect not in (Effect.increases, Effect.decreases) or len(values) < 2:
            calling.append(f"{name} calls for it")
            not_calling.append(f"{name} does not call for it")
            continue
        ordered = values if effect is Effect.increases else list(reversed(values))
        calling.append(f"{name} is {ordered[-1]}")
        not_calling.append(f"{name} is {' or '.join(ordered[:-1])}")
    return calling, not_calling


def _derived_context(uca_type: UCAType, action: str, controller: Component, signal: Signal) -> str:
    calling, not_calling = _states(controller, signal)
    if uca_type is UCAType.provided_unsafe:
        if not_calling:
            return f"the actual state does not call for {action} ({' and '.join(not_calling)})"
        return f"the actual state does not call for {action}"
    if uca_type is UCAType.not_provided:
        if calling:
            return f"the actual state calls for {action} ({' or '.join(calling)})"
        return f"the actual state calls for {action}"
    if uca_type is UCAType.wrong_timing:
        if calling:
            return (
                f"the actual state calls for {action} ({' or '.join(calling)}) "
                "and it comes too early or too late for that state"
            )
        return f"the actual state calls for {action} and it comes too early or too late"
    return f"{action} is under way while the actual state stops calling for it"


def _signal_of(structure: ControlStructure, action: ControlAction) -> Signal:
    link = structure.links[action.link]
    return next(signal for signal in link.carries if signal.name == action.name)


def derive_ucas(
    structure: ControlStructure, control_actions: list[ControlAction]
) -> list[UnsafeControlAction]:
    ucas: list[UnsafeControlAction] = []
    for action in control_actions:
        controller = structure.components[action.controller]
        signal = _signal_of(structure, action)
        for uca_type in UCAType:
            if uca_type.value in action.not_applicable:
                continue
            written = getattr(signal.unsafe_when, uca_type.value) if signal.unsafe_when else None
            context = (
                written.context
                if written
                else _derived_context(uca_type, action.name, controller, signal)
            )
            hazards = list(written.hazards) if written and written.hazards else list(action.hazards)
            phrase = _PHRASES[uca_type].format(action=action.name, controlled=action.controlled)
            ucas.append(
                UnsafeControlAction(
                    id="",
                    control_action=action.id,
                    type=uca_type,
                    controller=controller.id,
                    text=f"{controller.name} {phrase} when {context}",
                    context=context,
                    context_source="analyst" if written else "derived",
                    hazards=hazards,
                    hazards_source="analyst"
                    if written and written.hazards
                    else "inherited from the control action",
                )
            )
    keys = [(u.control_action, u.type.value) for u in ucas]
    ids = stable_ids("UCA", keys)
    return [u.model_copy(update={"id": ids[key]}) for u, key in zip(ucas, keys, strict=True)]
