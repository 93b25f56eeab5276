"""Unsafe control actions: every control action in each of the four STPA types."""

from __future__ import annotations

from mdrisk.assessment.stpa import ControlAction, UnsafeControlAction
from mdrisk.model.schema import Signal, UCAType
from mdrisk.stpa.graph import ControlStructure

_PHRASES = {
    UCAType.not_provided: "does not provide {action} to {controlled}",
    UCAType.provided_unsafe: "provides {action} to {controlled}",
    UCAType.wrong_timing: "provides {action} to {controlled} too early, too late or out of order",
    UCAType.wrong_duration: "stops {action} to {controlled} too soon or applies it too long",
}


def _derived_context(uca_type: UCAType, beliefs: str, sources: str) -> str:
    """The process-model flaw that makes the action unsafe, when the analyst wrote none."""
    if uca_type is UCAType.not_provided:
        return (
            f"the actual state calls for it but the process model ({beliefs}), "
            f"fed by {sources}, holds that it is not needed"
        )
    if uca_type is UCAType.provided_unsafe:
        return (
            f"the actual state does not call for it but the process model ({beliefs}), "
            f"fed by {sources}, holds that it is needed"
        )
    if uca_type is UCAType.wrong_timing:
        return f"{sources} arrive delayed, replayed or out of order, so {beliefs} lags the process"
    return f"{sources} freeze or stop updating while the action is under way, so {beliefs} is stale"


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
        beliefs = ", ".join(v.name for v in controller.process_model) or "its beliefs"
        feeding = sorted({s for v in controller.process_model for s in v.from_signals})
        if not feeding:
            feeding = sorted(
                {s.name for link in structure.incoming[controller.id] for s in link.carries}
            )
        sources = ", ".join(feeding) or "its inputs"
        for uca_type in UCAType:
            if uca_type.value in action.not_applicable:
                continue
            written = getattr(signal.unsafe_when, uca_type.value) if signal.unsafe_when else None
            context = written.context if written else _derived_context(uca_type, beliefs, sources)
            hazards = list(written.hazards) if written and written.hazards else list(action.hazards)
            phrase = _PHRASES[uca_type].format(action=action.name, controlled=action.controlled)
            ucas.append(
                UnsafeControlAction(
                    id=f"UCA-{len(ucas) + 1}",
                    control_action=action.id,
                    type=uca_type,
                    controller=controller.id,
                    text=f"{controller.name} {phrase} when {context}",
                    context=context,
                    context_source="analyst" if written else "derived",
                    hazards=hazards,
                )
            )
    return ucas
