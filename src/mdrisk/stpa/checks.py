"""Completeness checks in the manner of STPA tools: each a named finding with ids and a fix.

A check never stops the analysis; it tells the analyst where the model or the analysis is
thin. Rules run in the order listed in ``RULES`` so finding ids are stable.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from mdrisk.assessment.stpa import (
    CheckFinding,
    ControlAction,
    FDIPoint,
    LossScenario,
    UnsafeControlAction,
)
from mdrisk.model.schema import ComponentKind, LinkKind
from mdrisk.stable_ids import stable_ids
from mdrisk.stpa.graph import ControlStructure


@dataclass(frozen=True)
class Findings:
    """What the checks look at."""

    structure: ControlStructure
    control_actions: list[ControlAction]
    ucas: list[UnsafeControlAction]
    fdi_points: list[FDIPoint]
    loss_scenarios: list[LossScenario]


# (rule, severity, message, elements, fix)
Raw = tuple[str, str, str, list[str], str]


def _control_action_without_feedback(f: Findings) -> Iterator[Raw]:
    for action in f.control_actions:
        if not action.feedback_links:
            yield (
                "control-action-without-feedback",
                "warning",
                f"{action.controller} issues {action.name} ({action.id}) to "
                f"{action.controlled} but no feedback or data path leads back to it",
                [action.id, action.controller, action.controlled],
                f"add a feedback link that tells {action.controller} the effect of "
                f"{action.name}, or record why none is needed",
            )


def _control_action_without_hazard(f: Findings) -> Iterator[Raw]:
    for action in f.control_actions:
        if not action.hazards:
            yield (
                "control-action-without-hazard",
                "warning",
                f"control action {action.name} ({action.id}) names no hazard, so its "
                "unsafe control actions lead to no loss scenario",
                [action.id, action.link],
                "list the hazards it can lead to under hazards: on the control action",
            )


def _hazard_without_loss(f: Findings) -> Iterator[Raw]:
    for hazard in f.structure.model.hazards:
        if not hazard.losses:
            yield (
                "hazard-without-loss",
                "warning",
                f"hazard {hazard.id} is tied to no loss",
                [hazard.id],
                "name the losses it leads to under losses:",
            )


def _loss_without_hazard(f: Findings) -> Iterator[Raw]:
    named = {loss for hazard in f.structure.model.hazards for loss in hazard.losses}
    for loss in f.structure.model.losses:
        if loss.id not in named:
            yield (
                "loss-without-hazard",
                "warning",
                f"loss {loss.id} is reached by no hazard",
                [loss.id],
                "add the hazard that leads to it, or remove the loss",
            )


def _hazard_without_control_action(f: Findings) -> Iterator[Raw]:
    reached = {h for uca in f.ucas for h in uca.hazards}
    for hazard in f.structure.model.hazards:
        if hazard.id not in reached:
            yield (
                "hazard-without-uca",
                "warning",
                f"no unsafe control action leads to hazard {hazard.id}",
                [hazard.id],
                "name this hazard on the control actions that can cause it",
            )


def _ml_input_without_source(f: Findings) -> Iterator[Raw]:
    for engine in f.structure.model.ml_engines:
        assert engine.ml is not None
        carried = {s.name for link in f.structure.incoming[engine.id] for s in link.carries}
        for ml_input in engine.ml.inputs:
            if ml_input.signal not in carried:
                yield (
                    "ml-input-without-source",
                    "warning",
                    f"ML input '{ml_input.signal}' of {engine.id} is brought by no link",
                    [engine.id],
                    f"add the link that carries {ml_input.signal} to {engine.id}",
                )


def _ml_output_unused(f: Findings) -> Iterator[Raw]:
    for engine in f.structure.model.ml_engines:
        assert engine.ml is not None
        carried = {s.name for link in f.structure.outgoing[engine.id] for s in link.carries}
        for output in engine.ml.outputs:
            if output not in carried:
                yield (
                    "ml-output-unused",
                    "warning",
                    f"ML output '{output}' of {engine.id} is carried by no link",
                    [engine.id],
                    f"add the link that takes {output} to whoever acts on it",
                )


def _ml_without_training_data(f: Findings) -> Iterator[Raw]:
    for engine in f.structure.model.ml_engines:
        assert engine.ml is not None
        if not engine.ml.training_data:
            yield (
                "ml-without-training-data",
                "info",
                f"ML engine {engine.id} names no training data, so poisoning cannot be analysed",
                [engine.id],
                "list its training data sources under ml.training_data",
            )


def _ml_without_update_path(f: Findings) -> Iterator[Raw]:
    for engine in f.structure.model.ml_engines:
        assert engine.ml is not None
        has_update_link = any(
            link.kind == LinkKind.update for link in f.structure.incoming[engine.id]
        )
        if not engine.ml.update_path and not has_update_link:
            yield (
                "ml-without-update-path",
                "info",
                f"ML engine {engine.id} has no update path, so model substitution "
                "cannot be analysed",
                [engine.id],
                "add the update link that delivers new models, or state locked: true and "
                "how it is installed",
            )


def _unprotected_channel_to_ml(f: Findings) -> Iterator[Raw]:
    seen: set[str] = set()
    for point in f.fdi_points:
        if point.element_type != "link" or point.element in seen:
            continue
        seen.add(point.element)
        link = f.structure.links[point.element]
        if (
            link.channel.in_process
            or f.structure.components[link.source].kind == ComponentKind.human
        ):
            continue  # a person typing: spoofed entries are a threat, not a missing protection
        if not {"authentication", "integrity"} & set(point.protections):
            yield (
                "unauthenticated-channel-to-ml",
                "warning",
                f"link {point.element} carries data toward ML engine {point.ml_engine} "
                "with neither authentication nor integrity protection",
                [point.element, point.id],
                "authenticate the sender and protect integrity, or justify the exposure",
            )


def _unprotected_ml_output(f: Findings) -> Iterator[Raw]:
    """Tampering after the model has the same effect as before it; the FDI trace looks only
    upstream, so outputs on unprotected channels are flagged here."""
    for engine in f.structure.model.ml_engines:
        assert engine.ml is not None
        outputs = set(engine.ml.outputs)
        for link in f.structure.outgoing[engine.id]:
            carried = outputs & {s.name for s in link.carries}
            shield = link.channel.protections
            if (
                carried
                and not link.channel.in_process
                and not (shield.authentication or shield.integrity)
            ):
                yield (
                    "unprotected-ml-output",
                    "warning",
                    f"link {link.id} carries {', '.join(sorted(carried))} from ML engine "
                    f"{engine.id} to {link.target} with neither authentication nor "
                    "integrity protection, so results can be altered after the model",
                    [link.id, engine.id],
                    "protect the integrity of results and authenticate their sender",
                )


def _unreachable_component(f: Findings) -> Iterator[Raw]:
    groups = f.structure.weakly_connected_groups()
    for group in groups[1:]:
        for component in f.structure.model.components:
            if component.id in group:
                yield (
                    "unreachable-component",
                    "warning",
                    f"component {component.id} is not connected to the main control structure",
                    [component.id],
                    "link it to the components it exchanges data with, or remove it",
                )


def _process_variable_without_feedback(f: Findings) -> Iterator[Raw]:
    for component in f.structure.model.components:
        for variable in component.process_model:
            if not variable.from_signals:
                yield (
                    "process-variable-without-feedback",
                    "info",
                    f"process variable {variable.name} of {component.id} is updated from no signal",
                    [component.id],
                    "list the feedback signals that update it under from_signals",
                )


def _uca_without_scenario(f: Findings) -> Iterator[Raw]:
    covered = {scenario.uca for scenario in f.loss_scenarios}
    for uca in f.ucas:
        if uca.hazards and uca.id not in covered:
            yield (
                "uca-without-loss-scenario",
                "info",
                f"{uca.id} has no loss scenario: no input path, model or control path "
                "can push its controller that way",
                [uca.id],
                "check the demand and effects declared for its control action, or analyse "
                "its non-security causes (component failure, human error) by hand",
            )


def _direction_assumed(f: Findings) -> Iterator[Raw]:
    """Effects the model leaves unknown: the classes through them are kept both ways."""
    assumed: dict[str, list[str]] = {}
    for scenario in f.loss_scenarios:
        for assumption in scenario.assumptions:
            assumed.setdefault(assumption, []).append(scenario.id)
    for assumption, scenarios in sorted(assumed.items()):
        yield (
            "direction-not-declared",
            "info",
            f"the effect {assumption} is not declared, so the loss scenarios through it "
            "assume both directions",
            sorted(scenarios)[:10],
            "declare it (ml.inputs[].effect, process_model[].effects, or the control "
            "action's demand) as increases, decreases or non_monotonic",
        )


_CAUSE_WORDS = re.compile(
    r"\b(attack(er|s)?|hack(ed|er)?|malware|spoof(ed|ing)?|tamper(ed|ing)?|exploit(ed|s)?|"
    r"inject(ed|ion)?|compromised?)\b",
    re.IGNORECASE,
)


def _hazard_names_a_cause(f: Findings) -> Iterator[Raw]:
    """A hazard is a system state that leads to a loss; how it comes about (an attack, a
    tampered message) belongs to the loss scenarios."""
    for hazard in f.structure.model.hazards:
        found = _CAUSE_WORDS.search(hazard.description)
        if found:
            yield (
                "hazard-names-a-cause",
                "warning",
                f"hazard {hazard.id} names a cause ('{found.group(0)}'): a hazard is a state of "
                "the system, whatever brings it about",
                [hazard.id],
                "word it as the state (e.g. 'more insulin is delivered than glucose calls for') "
                "and leave the attack to the loss scenarios",
            )


def _hazards_inherited(f: Findings) -> Iterator[Raw]:
    """A UCA type that takes every hazard of its action: some rarely fit every type (a
    false alarm does not hide a real one)."""
    for uca in f.ucas:
        if uca.hazards_source != "analyst" and len(uca.hazards) > 1:
            yield (
                "uca-hazards-inherited",
                "info",
                f"{uca.id} ({uca.type.value}) inherits all hazards of its control action "
                f"({', '.join(uca.hazards)})",
                [uca.id],
                f"under unsafe_when.{uca.type.value}, list only the hazards this type leads to",
            )


RULES: tuple[Callable[[Findings], Iterator[Raw]], ...] = (
    _control_action_without_feedback,
    _control_action_without_hazard,
    _hazard_without_loss,
    _loss_without_hazard,
    _hazard_without_control_action,
    _ml_input_without_source,
    _ml_output_unused,
    _ml_without_training_data,
    _ml_without_update_path,
    _unprotected_channel_to_ml,
    _unprotected_ml_output,
    _unreachable_component,
    _process_variable_without_feedback,
    _uca_without_scenario,
    _direction_assumed,
    _hazards_inherited,
    _hazard_names_a_cause,
)


def run_checks(findings: Findings) -> list[CheckFinding]:
    results: list[CheckFinding] = []
    for rule in RULES:
        for name, severity, message, elements, fix in rule(findings):
            results.append(
                CheckFinding(
                    id="",
                    rule=name,
                    severity=severity,
                    message=message,
                    elements=elements,
                    fix=fix,
                )
            )
    keys = [(c.rule, c.message) for c in results]
    ids = stable_ids("CHK", keys)
    return [c.model_copy(update={"id": ids[key]}) for c, key in zip(results, keys, strict=True)]
