"""Control actions and the feedback that closes each control loop."""

from __future__ import annotations

from collections.abc import Callable

from mdrisk.assessment.stpa import ControlAction
from mdrisk.model.schema import ACTUATING_KINDS, Link, LinkKind, Signal, UCAType
from mdrisk.stable_ids import stable_ids
from mdrisk.stpa.graph import ControlStructure
from mdrisk.stpa.truth_tables import NOT_APPLICABLE


def _carries_feedback(structure: ControlStructure) -> Callable[[Link], bool]:
    def follow(link: Link) -> bool:
        if link.kind in (LinkKind.feedback, LinkKind.data):
            return True
        # An actuator acting on the process is part of the loop the feedback must close.
        source = structure.components[link.source]
        return link.kind == LinkKind.control_action and source.kind in ACTUATING_KINDS

    return follow


def _ruled_out(signal: Signal) -> dict[str, str]:
    """UCA types that cannot occur: ruled out by the analyst, or by the action's nature."""
    ruled_out = dict(NOT_APPLICABLE.get(signal.nature, {})) if signal.nature else {}
    if signal.unsafe_when is None:
        return ruled_out
    for uca_type in UCAType:
        entry = getattr(signal.unsafe_when, uca_type.value)
        if entry is not None and entry.not_applicable is not None:
            ruled_out[uca_type.value] = entry.not_applicable
        elif entry is not None:  # the analyst's context says it can occur
            ruled_out.pop(uca_type.value, None)
    return ruled_out


def derive_control_actions(structure: ControlStructure) -> list[ControlAction]:
    """One control action per action carried on a control_action link from a decider.

    Actuators relay actions; they do not decide, so their links yield no control action.
    """
    actions: list[ControlAction] = []
    follow = _carries_feedback(structure)
    for link in structure.model.links:
        if link.kind != LinkKind.control_action:
            continue
        controller = structure.components[link.source]
        if controller.kind in ACTUATING_KINDS:
            continue
        loop = structure.shortest_link_path(link.target, link.source, follow)
        decided_from = sorted(
            {variable.name for variable in controller.process_model}
            | {signal for variable in controller.process_model for signal in variable.from_signals}
        )
        for signal in link.carries:
            actions.append(
                ControlAction(
                    id="",
                    name=signal.name,
                    controller=controller.id,
                    controlled=link.target,
                    link=link.id,
                    hazards=list(signal.hazards),
                    feedback_links=[hop.id for hop in loop] if loop is not None else [],
                    decided_from=decided_from,
                    not_applicable=_ruled_out(signal),
                )
            )
    keys = [(a.controller, a.name, a.controlled, a.link) for a in actions]
    ids = stable_ids("CA", keys)
    return [a.model_copy(update={"id": ids[key]}) for a, key in zip(actions, keys, strict=True)]
