"""Structural rules a device model must satisfy before any analysis: ids that resolve, are
unique, and name things of the right kind. Breaking one is an error (exit status 2); the
softer completeness questions of STPA are ``stpa.checks`` findings instead."""

from __future__ import annotations

from collections import Counter

from mdrisk.errors import Problem
from mdrisk.model.artifact_checks import artifact_problems
from mdrisk.model.detector_checks import detector_problems
from mdrisk.model.schema import (
    ACTUATING_KINDS,
    CONTROLLER_KINDS,
    ComponentKind,
    DeviceModel,
    LinkKind,
    UCAType,
)

Located = tuple[Problem, tuple[str | int, ...]]


def structural_problems(model: DeviceModel) -> list[Located]:
    """Every structural error, with the path of the offending value in the source file."""
    found: list[Located] = []

    def add(path: tuple[str | int, ...], message: str, fix: str) -> None:
        found.append((Problem(message, fix=fix), path))

    all_ids: list[tuple[str, tuple[str | int, ...]]] = []
    for i, component in enumerate(model.components):
        all_ids.append((component.id, ("components", i, "id")))
    for i, link in enumerate(model.links):
        all_ids.append((link.id, ("links", i, "id")))
    for i, loss in enumerate(model.losses):
        all_ids.append((loss.id, ("losses", i, "id")))
    for i, hazard in enumerate(model.hazards):
        all_ids.append((hazard.id, ("hazards", i, "id")))
    counts = Counter(identifier for identifier, _ in all_ids)
    first_seen: set[str] = set()
    for identifier, path in all_ids:
        if counts[identifier] > 1:
            if identifier in first_seen:
                add(
                    path,
                    f"id '{identifier}' is used more than once",
                    "give every component, link, loss and hazard its own id",
                )
            first_seen.add(identifier)

    components = {c.id: c for c in model.components}
    loss_ids = {loss.id for loss in model.losses}
    hazard_ids = {hazard.id for hazard in model.hazards}
    links_by_id = {link.id: link for link in model.links}
    known_components = ", ".join(sorted(components)[:12])

    for i, hazard in enumerate(model.hazards):
        for j, loss_id in enumerate(hazard.losses):
            if loss_id not in loss_ids:
                add(
                    ("hazards", i, "losses", j),
                    f"hazard {hazard.id} names loss '{loss_id}', which is not defined",
                    f"define it under losses or use one of: "
                    f"{', '.join(sorted(loss_ids)) or '(none defined)'}",
                )

    signals = {signal.name for link in model.links for signal in link.carries}
    for i, hazard in enumerate(model.hazards):
        if hazard.data and hazard.concerns != "disclosure":
            add(
                ("hazards", i, "data"),
                f"hazard {hazard.id} names data but does not concern disclosure",
                "add 'concerns: disclosure' or remove data",
            )
        for j, name in enumerate(hazard.data):
            if name not in signals:
                add(
                    ("hazards", i, "data", j),
                    f"hazard {hazard.id} names data '{name}', which no link carries",
                    "use the name of a signal a link carries",
                )

    for i, link in enumerate(model.links):
        for end, name in (("from", link.source), ("to", link.target)):
            if name not in components:
                add(
                    ("links", i, end),
                    f"link {link.id} {end} '{name}', which is not a component",
                    f"use a component id: {known_components}",
                )
        if link.source == link.target:
            add(
                ("links", i, "to"),
                f"link {link.id} goes from {link.source} to itself",
                "a link joins two different components",
            )
        carried: set[str] = set()
        for j, signal in enumerate(link.carries):
            if signal.name in carried:
                add(
                    ("links", i, "carries", j),
                    f"link {link.id} carries '{signal.name}' twice",
                    "list each signal once",
                )
            carried.add(signal.name)
            for k, hazard_id in enumerate(signal.hazards):
                if hazard_id not in hazard_ids:
                    add(
                        ("links", i, "carries", j, "hazards", k),
                        f"control action '{signal.name}' names hazard '{hazard_id}', "
                        "which is not defined",
                        f"use one of: {', '.join(sorted(hazard_ids)) or '(none defined)'}",
                    )
            if signal.unsafe_when is not None:
                for uca_type in UCAType:
                    entry = getattr(signal.unsafe_when, uca_type.value)
                    for k, hazard_id in enumerate(entry.hazards if entry else []):
                        if hazard_id not in hazard_ids:
                            add(
                                (
                                    "links",
                                    i,
                                    "carries",
                                    j,
                                    "unsafe_when",
                                    uca_type.value,
                                    "hazards",
                                    k,
                                ),
                                f"unsafe_when.{uca_type.value} of "
                                f"'{signal.name}' names hazard '{hazard_id}', which is not "
                                "defined",
                                f"use one of: {', '.join(sorted(hazard_ids))}",
                            )
            if signal.unsafe_when is not None and all(
                getattr(signal.unsafe_when, t.value) is not None
                and getattr(signal.unsafe_when, t.value).not_applicable is not None
                for t in UCAType
            ):
                add(
                    ("links", i, "carries", j, "unsafe_when"),
                    f"every UCA type of '{signal.name}' is marked not_applicable",
                    "an action that can never be unsafe is not a control action; make it data",
                )
            if signal.demand and link.kind == LinkKind.control_action:
                source_component = components.get(link.source)
                variables = (
                    {v.name for v in source_component.process_model} if source_component else set()
                )
                for name in signal.demand:
                    if name not in variables:
                        add(
                            ("links", i, "carries", j, "demand", name),
                            f"demand of '{signal.name}' names '{name}', which is not a "
                            f"process variable of {link.source}",
                            f"use one of: {', '.join(sorted(variables)) or '(none declared)'}",
                        )
            if link.kind != LinkKind.control_action and (
                signal.hazards or signal.unsafe_when or signal.demand is not None
            ):
                add(
                    ("links", i, "carries", j),
                    f"'{signal.name}' on {link.kind.value} link "
                    f"{link.id} has hazards/unsafe_when/demand, which only control actions have",
                    "move them to the control action, or make the link a control_action",
                )
        source = components.get(link.source)
        if link.kind == LinkKind.control_action and source is not None:
            if source.kind not in CONTROLLER_KINDS | ACTUATING_KINDS:
                add(
                    ("links", i, "from"),
                    f"control action link {link.id} comes from "
                    f"{source.id}, a {source.kind.value}, which cannot decide",
                    "control actions come from a deciding component (controller, app, human, "
                    "ML engine, cloud, gateway, EHR, imaging device) or an actuator carrying "
                    "one out; use kind feedback or data for measurements",
                )
        target = components.get(link.target)
        if target is not None and target.ml is not None and link.kind != LinkKind.update:
            consumed = {ml_input.signal for ml_input in target.ml.inputs}
            for j, signal in enumerate(link.carries):
                if signal.name not in consumed:
                    add(
                        ("links", i, "carries", j),
                        f"link {link.id} carries '{signal.name}' "
                        f"into ML engine {target.id}, but no ML input consumes it",
                        f"add it to {target.id}'s ml.inputs, or use one of: "
                        f"{', '.join(sorted(consumed))}",
                    )

    carried_into: dict[str, set[str]] = {c: set() for c in components}
    carried_out: dict[str, set[str]] = {c: set() for c in components}
    for link in model.links:
        names = {signal.name for signal in link.carries}
        carried_into.setdefault(link.target, set()).update(names)
        carried_out.setdefault(link.source, set()).update(names)

    for i, component in enumerate(model.components):
        if component.kind == ComponentKind.ml_engine and component.ml is None:
            add(
                ("components", i, "kind"),
                f"component {component.id} is an ml_engine but has no ml section",
                "describe its task, inputs and outputs under ml:",
            )
        if component.ml is not None and component.kind != ComponentKind.ml_engine:
            add(
                ("components", i, "ml"),
                f"component {component.id} has an ml section but its "
                f"kind is {component.kind.value}",
                "set kind: ml_engine, or move the ML into its own component",
            )
        if component.ml is not None:
            for j, link_id in enumerate(component.ml.update_path):
                update_link = links_by_id.get(link_id)
                path = ("components", i, "ml", "update_path", j)
                if update_link is None:
                    add(
                        path,
                        f"update path '{link_id}' of {component.id} is not a link",
                        "name links of kind update",
                    )
                elif update_link.kind != LinkKind.update:
                    add(
                        path,
                        f"update path '{link_id}' of {component.id} is a "
                        f"{update_link.kind.value} link",
                        "set that link's kind to update",
                    )
            seen_inputs: set[str] = set()
            for j, ml_input in enumerate(component.ml.inputs):
                if ml_input.signal in seen_inputs:
                    add(
                        ("components", i, "ml", "inputs", j),
                        f"ML input '{ml_input.signal}' of {component.id} is listed twice",
                        "list each input once",
                    )
                seen_inputs.add(ml_input.signal)
        for j, variable in enumerate(component.process_model):
            for k, signal_name in enumerate(variable.from_signals):
                if signal_name not in carried_into.get(component.id, set()):
                    add(
                        ("components", i, "process_model", j, "from_signals", k),
                        f"process variable {variable.name} of {component.id} is updated from "
                        f"'{signal_name}', which no link brings to {component.id}",
                        "add a feedback or data link carrying it, or correct the name",
                    )
        for output, inputs in component.derives.items():
            if output not in carried_out.get(component.id, set()):
                add(
                    ("components", i, "derives", output),
                    f"{component.id} derives '{output}', which no link carries out of it",
                    "correct the name or add the link",
                )
            for k, input_name in enumerate(inputs):
                if input_name not in carried_into.get(component.id, set()):
                    add(
                        ("components", i, "derives", output, k),
                        f"{component.id} derives "
                        f"'{output}' from '{input_name}', which no link brings to it",
                        "correct the name or add the link",
                    )
    found += detector_problems(model)
    found += artifact_problems(model)
    return found
