"""The facts a prompt may use: a small, chosen part of the assessment, each fact with its id.

A prompt is grounded in exactly these facts. Their ids, and the knowledge-base ids they cite
(CWE, CAPEC, ATT&CK, ATLAS, CVE, technology-pack rules), are the only ids an answer may cite.
Selection is deterministic and bounded, so the same assessment gives the same prompt and the
prompt fits a small model's context.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from mdrisk.assessment import Assessment
from mdrisk.assessment.stpa import CheckFinding
from mdrisk.assessment.threats import ElementThreat
from mdrisk.kb.catalog_ids import natural
from mdrisk.model.schema import Component, DeviceModel, Link

# Past this many characters of facts, the lowest-priority facts (threat details) are left out.
DEFAULT_FACT_BUDGET = 5000
_MAX_CATALOG_IDS_PER_THREAT = 12


class UnknownSubject(ValueError):
    """The id asked for is not in the assessment (or is not the kind the task is about)."""


@dataclass(frozen=True)
class Fact:
    """One record the model may use. ``cites`` are knowledge-base ids the record refers to."""

    id: str
    kind: str
    data: dict[str, Any]
    cites: tuple[str, ...] = ()

    def render(self) -> str:
        record = {"id": self.id, "kind": self.kind, **self.data}
        if self.cites:
            record["cites"] = list(self.cites)
        return json.dumps(record, ensure_ascii=False, sort_keys=True)


@dataclass(frozen=True)
class FactSet:
    """The facts for one question about one subject (a loss scenario, a device model)."""

    subject: str
    facts: tuple[Fact, ...]
    left_out: tuple[str, ...] = field(default=())

    @property
    def allowed_ids(self) -> tuple[str, ...]:
        ids = {fact.id for fact in self.facts}
        ids |= {cited for fact in self.facts for cited in fact.cites}
        return tuple(sorted(ids, key=natural))


def _within_budget(
    subject: str, essential: list[Fact], optional: list[Fact], budget: int
) -> FactSet:
    used = sum(len(fact.render()) for fact in essential)
    kept: list[Fact] = []
    left_out: list[str] = []
    for fact in optional:
        size = len(fact.render())
        if used + size > budget:
            left_out.append(fact.id)
            continue
        kept.append(fact)
        used += size
    return FactSet(subject, tuple(_unique(essential + kept)), tuple(left_out))


def _unique(facts: list[Fact]) -> list[Fact]:
    seen: set[str] = set()
    result = []
    for fact in facts:
        if fact.id not in seen:
            seen.add(fact.id)
            result.append(fact)
    return result


def component_fact(component: Component) -> Fact:
    data: dict[str, Any] = {"name": component.name, "component_kind": component.kind.value}
    if component.description:
        data["description"] = component.description
    if component.technologies:
        data["technologies"] = [_technology(t) for t in component.technologies]
    if component.ml is not None:
        data["ml_task"] = component.ml.task
    return Fact(component.id, "component", data)


def link_fact(link: Link) -> Fact:
    shield = link.channel.protections
    protections = [
        name
        for name in ("authentication", "encryption", "integrity", "replay_protection")
        if getattr(shield, name)
    ]
    data: dict[str, Any] = {
        "from": link.source,
        "to": link.target,
        "link_kind": link.kind.value,
        "carries": [signal.name for signal in link.carries],
        "protections": protections,
    }
    if link.channel.technology is not None:
        data["channel"] = _technology(link.channel.technology)
    if link.description:
        data["description"] = link.description
    return Fact(link.id, "link", data)


def _technology(technology: Any) -> str:
    return " ".join(
        part for part in (technology.vendor, technology.name, technology.version) if part
    )


def threat_fact(threat: ElementThreat) -> Fact:
    catalog = sorted(set(threat.references.all_ids()))[:_MAX_CATALOG_IDS_PER_THREAT]
    rules = [{"rule": rule.rule, "title": rule.title} for rule in threat.pack_rules]
    vulnerabilities = [{"id": v.id, "kev": v.kev, "epss": v.epss} for v in threat.vulnerabilities]
    data: dict[str, Any] = {
        "element": threat.element,
        "technology": threat.technology,
        "pack_rules": rules,
        "known_vulnerabilities": vulnerabilities,
    }
    cites = sorted(
        {
            *catalog,
            *(rule.rule for rule in threat.pack_rules),
            *(v.id for v in threat.vulnerabilities),
        }
    )
    return Fact(threat.id, "threat", data, tuple(cites))


def scenario_facts(
    assessment: Assessment, scenario_id: str, budget: int = DEFAULT_FACT_BUDGET
) -> FactSet:
    """Facts for narrating one scenario: an attack scenario (SC-n) or a loss scenario (LS-n)."""
    if any(s.id == scenario_id for s in assessment.scenarios):
        return attack_scenario_facts(assessment, scenario_id, budget)
    return loss_scenario_facts(assessment, scenario_id, budget)


def attack_scenario_facts(
    assessment: Assessment, scenario_id: str, budget: int = DEFAULT_FACT_BUDGET
) -> FactSet:
    """Facts for narrating one attack scenario: the scenario with its steps, prerequisites and
    references, the UCA, hazards and losses, the element attacked and the ML engine; then, as
    the budget allows, the other elements on its path."""
    scenarios = {s.id: s for s in assessment.scenarios}
    if scenario_id not in scenarios:
        raise UnknownSubject(
            f"no attack scenario '{scenario_id}' in the assessment "
            f"(it has {_span(sorted(scenarios, key=natural))})"
        )
    scenario = scenarios[scenario_id]
    steps = [{"step": step.kind, "text": step.text, "ids": step.ids} for step in scenario.steps]
    cites = {
        *scenario.references.all_ids(),
        *(i for step in scenario.steps for i in step.ids),
        *scenario.fdi_points,
        *scenario.loss_scenarios,
        *scenario.threats,
        *scenario.path,
    }
    essential = [
        Fact(
            scenario.id,
            "attack_scenario",
            {
                "title": scenario.title,
                "category": scenario.category,
                "attacker": scenario.attacker,
                "element": scenario.element,
                "ml_engine": scenario.ml_engine,
                "ml_inputs": scenario.ml_inputs,
                "injection": scenario.injection,
                "steps": steps,
                "prerequisites": scenario.prerequisites,
                "exploitability": scenario.exploitability.score,
            },
            tuple(sorted(cites - {scenario.id}, key=natural)),
        )
    ]
    ucas = {u.id: u for u in assessment.ucas}
    if scenario.uca in ucas:
        uca = ucas[scenario.uca]
        essential.append(
            Fact(
                uca.id,
                "unsafe_control_action",
                {"uca_type": uca.type.value, "text": uca.text, "hazards": uca.hazards},
            )
        )
    essential += _hazards_and_losses(assessment, scenario.hazards, scenario.losses)
    elements = _elements(assessment, [scenario.element, scenario.ml_engine])
    others = _elements(assessment, scenario.path)
    return _within_budget(scenario.id, essential + elements, others, budget)


def _hazards_and_losses(
    assessment: Assessment, hazard_ids: list[str], loss_ids: list[str]
) -> list[Fact]:
    hazards = {h.id: h for h in assessment.device.hazards}
    losses = {loss.id: loss for loss in assessment.device.losses}
    facts = [
        Fact(h, "hazard", {"description": hazards[h].description})
        for h in hazard_ids
        if h in hazards
    ]
    return facts + [
        Fact(n, "loss", {"description": losses[n].description}) for n in loss_ids if n in losses
    ]


def _elements(assessment: Assessment, ids: list[str]) -> list[Fact]:
    components = {c.id: c for c in assessment.device.components}
    links = {link.id: link for link in assessment.device.links}
    facts = []
    for element in ids:
        if element in components:
            facts.append(component_fact(components[element]))
        elif element in links:
            facts.append(link_fact(links[element]))
    return facts


def loss_scenario_facts(
    assessment: Assessment, scenario_id: str, budget: int = DEFAULT_FACT_BUDGET
) -> FactSet:
    """Facts for narrating one loss scenario: the scenario, its FDI point, the elements on its
    path, the UCA and control action, hazards and losses; then, as the budget allows, the
    threats attached to the FDI point's element."""
    scenarios = {s.id: s for s in assessment.loss_scenarios}
    if scenario_id not in scenarios:
        raise UnknownSubject(
            f"no scenario '{scenario_id}' in the assessment "
            f"(it has loss scenarios {_span(sorted(scenarios, key=natural))}"
            f"{_and_attack_span(assessment)})"
        )
    scenario = scenarios[scenario_id]
    point = next((p for p in assessment.fdi_points if p.id == scenario.fdi_point), None)
    uca = next(u for u in assessment.ucas if u.id == scenario.uca)
    action = next(a for a in assessment.control_actions if a.id == uca.control_action)

    essential = [
        Fact(
            scenario.id,
            "loss_scenario",
            {
                "text": scenario.text,
                "family": scenario.family,
                "entry_point": scenario.element,
                "signal": scenario.signal,
                "manipulation": scenario.manipulation,
                "fdi_point": scenario.fdi_point,
                "ml_engine": scenario.ml_engine,
                "ml_input": scenario.ml_input,
                "ml_output": scenario.ml_output,
                "ml_effect": scenario.effect.direction if scenario.effect else None,
                "belief": scenario.belief,
                "rationale": scenario.rationale,
                "uca": scenario.uca,
                "hazards": scenario.hazards,
                "losses": scenario.losses,
                "path": scenario.path,
            },
        ),
        Fact(
            uca.id,
            "unsafe_control_action",
            {
                "uca_type": uca.type.value,
                "text": uca.text,
                "context": uca.context,
                "control_action": uca.control_action,
                "hazards": uca.hazards,
            },
        ),
        Fact(
            action.id,
            "control_action",
            {"name": action.name, "controller": action.controller, "controlled": action.controlled},
        ),
    ]
    if point is not None:
        essential.append(
            Fact(
                point.id,
                "fdi_point",
                {
                    "element": point.element,
                    "element_type": point.element_type,
                    "target": point.target,
                    "ml_engine": point.ml_engine,
                    "ml_input": point.ml_input,
                    "protections": point.protections,
                    "technologies": point.technologies,
                },
            )
        )
    essential += _hazards_and_losses(assessment, scenario.hazards, scenario.losses)
    essential += _elements(
        assessment,
        [scenario.element, *scenario.path, *([scenario.ml_engine] if scenario.ml_engine else [])],
    )
    threats = [
        t
        for t in assessment.threats
        if set(scenario.fdi_points) & set(t.fdi_points) or t.element in scenario.members
    ]
    optional = [threat_fact(t) for t in threats]
    return _within_budget(scenario.id, essential, optional, budget)


def model_review_facts(
    model: DeviceModel,
    checks: list[CheckFinding] | None = None,
    budget: int = DEFAULT_FACT_BUDGET * 2,
) -> FactSet:
    """Facts for reviewing a device model (an analyst's or a draft from documents): the
    device; then, as the budget allows, its components, links and completeness checks."""
    info = model.device
    essential = [Fact("device", "device", {"name": info.name, "intended_use": info.intended_use})]
    optional = [component_fact(c) for c in model.components]
    optional += [link_fact(link) for link in model.links]
    optional += [
        Fact(c.id, "check", {"rule": c.rule, "message": c.message, "elements": c.elements})
        for c in checks or []
    ]
    return _within_budget("device", essential, optional, budget)


def _and_attack_span(assessment: Assessment) -> str:
    if not assessment.scenarios:
        return ""
    return "; attack scenarios " + _span(sorted((s.id for s in assessment.scenarios), key=natural))


def _span(ids: list[str]) -> str:
    """How many there are and the first few (ids are digests, so a range says nothing)."""
    if not ids:
        return "none"
    shown = ", ".join(ids[:3])
    return f"{len(ids)}: {shown}, …" if len(ids) > 3 else shown
