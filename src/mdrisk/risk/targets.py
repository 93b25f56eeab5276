"""What gets a risk rating: attack scenarios, else loss scenarios grouped by entry and hazard.

In: an Assessment. Out: :class:`RiskTarget` records in a stable order, each naming the element
the attacker enters at, the FDI points, loss scenarios, threats, hazards and losses behind
it, and the facts the rubric's model-derived answers need (UCA types, the components the
false data crosses, the ML engines it reaches). Three sources, in this order:

* attack scenarios (``assessment.scenarios``, SC-n) when the scenario stage produced any,
  grouped by entry element and hazard (the attackers and exploit families that lead there);
* the loss-scenario classes no attack scenario stands for (the control path, tampered
  settings, the model's own error), one entry element and one hazard together;
* hazards that ``concerns: disclosure``, where their data can be read (unencrypted channels
  between machines, stores of many patients), one target per element and hazard;
* known vulnerabilities on elements no scenario enters at, one target per threat (TH-n).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace

from mdrisk.assessment import Assessment
from mdrisk.assessment.scenarios import AttackScenario
from mdrisk.assessment.stpa import FDIPoint, LossScenario
from mdrisk.assessment.threats import ElementThreat
from mdrisk.kb.catalog_ids import natural
from mdrisk.model.schema import ComponentKind, Link, LinkKind

SCENARIO, LOSS_SCENARIO, VULNERABILITY = "scenario", "loss_scenario", "vulnerability"
DISCLOSURE = "disclosure"
# Components that hold the data of many patients: where a disclosure hazard is rated.
_STORES = {ComponentKind.cloud, ComponentKind.storage, ComponentKind.ehr}

# What kind of attack a loss scenario's unsafe control action points to, for deciding which
# controls address it (see the matrix's residual rule).
_ATTACK_OF_UCA = {
    "provided_unsafe": "false_values",
    "not_provided": "false_values",
    "wrong_timing": "replay",
    "wrong_duration": "replay",
}


_WHAT = {
    "feedback": "False data entering",
    "controller": "A tampered setting or controller software",
    "ml_model": "A substituted or poisoned model",
    "control_path": "A control action tampered with",
}


@dataclass(frozen=True)
class Attacker:
    """An attacker profile of the scenarios behind a target (scenario stage's profiles)."""

    id: str
    access_vector: str | None  # physical | local | adjacent | network
    reach: float | None


@dataclass(frozen=True)
class RiskTarget:
    key: str  # stable: scenario id, "element|hazard", or threat id
    source: str  # scenario | loss_scenario | vulnerability
    title: str
    element: str
    element_type: str  # component | link
    scenario: str | None = None  # the most exploitable scenario of the group
    scenarios: tuple[str, ...] = ()
    loss_scenarios: tuple[str, ...] = ()
    fdi_points: tuple[str, ...] = ()
    threats: tuple[str, ...] = ()
    hazards: tuple[str, ...] = ()
    losses: tuple[str, ...] = ()
    uca_types: frozenset[str] = frozenset()
    fdi_targets: frozenset[str] = frozenset()  # inference_input | model_update
    ml_engines: tuple[str, ...] = ()
    # Components the false data crosses between the entry and the ML engine (shortest path).
    crossed: tuple[str, ...] = ()
    attack_kinds: frozenset[str] = frozenset()
    attackers: tuple[Attacker, ...] = ()
    # Keys under which an analyst's answers file may address this target.
    answer_keys: tuple[str, ...] = ()


def _crossed(point: FDIPoint, components: set[str]) -> tuple[str, ...]:
    steps = [s.element for s in point.path if s.element_type == "component"]
    inner = steps[1:-1] if point.element_type == "component" else steps[:-1]
    return tuple(s for s in inner if s in components)


def _threats_on(threats: Sequence[ElementThreat], element: str) -> tuple[str, ...]:
    return tuple(t.id for t in threats if t.element == element)


def _ordered(ids: Iterable[str]) -> tuple[str, ...]:
    return tuple(sorted(set(ids), key=natural))


def loss_scenario_targets(
    assessment: Assessment, skip: frozenset[str] = frozenset()
) -> list[RiskTarget]:
    """One target per (entry element, hazard) of the loss-scenario classes not in ``skip``
    (those an attack scenario already stands for), in the order of the first class."""
    points = {p.id: p for p in assessment.fdi_points}
    ucas = {u.id: u for u in assessment.ucas}
    hazard_losses = {h.id: set(h.losses) for h in assessment.device.hazards}
    components = {c.id for c in assessment.device.components}
    groups: dict[tuple[str, str], list[LossScenario]] = {}
    for scenario in assessment.loss_scenarios:
        # The model's own error has no attacker: a safety cause, not a security risk.
        if scenario.id in skip or scenario.manipulation == "error":
            continue
        for hazard in scenario.hazards:
            groups.setdefault((scenario.element, hazard), []).append(scenario)
    targets = []
    for (element, hazard), scenarios in groups.items():
        fdi = [points[p] for s in scenarios for p in s.fdi_points if p in points]
        shortest = min(fdi, key=lambda p: (len(p.path), natural(p.id))) if fdi else None
        uca_types = frozenset(ucas[s.uca].type.value for s in scenarios if s.uca in ucas)
        fdi_targets = frozenset(p.target for p in fdi)
        kinds = {_ATTACK_OF_UCA[t] for t in uca_types if t in _ATTACK_OF_UCA}
        if "model_update" in fdi_targets:
            kinds.add("model_tampering")
        losses = {loss for s in scenarios for loss in s.losses} & hazard_losses.get(hazard, set())
        targets.append(
            RiskTarget(
                key=f"{element}|{hazard}",
                source=LOSS_SCENARIO,
                title=f"{_WHAT[scenarios[0].family]} at {element} → {hazard}",
                element=element,
                element_type="component" if element in components else "link",
                loss_scenarios=_ordered(s.id for s in scenarios),
                fdi_points=_ordered(p.id for p in fdi),
                threats=_threats_on(assessment.threats, element),
                hazards=(hazard,),
                losses=_ordered(losses),
                uca_types=uca_types,
                fdi_targets=fdi_targets,
                ml_engines=_ordered(s.ml_engine for s in scenarios if s.ml_engine),
                crossed=_crossed(shortest, components) if shortest else (),
                attack_kinds=frozenset(kinds),
                answer_keys=(element,),
            )
        )
    return targets


def vulnerability_targets(assessment: Assessment, covered: set[str]) -> list[RiskTarget]:
    """Threats with known vulnerabilities on elements no other target enters at.

    Their hazards are those of the control actions the element issues or receives, when
    any; the analyst gives the rest (answers file ``severity``).
    """
    hazards_of: dict[str, set[str]] = {}
    for action in assessment.control_actions:
        for element in (action.controller, action.controlled, action.link):
            hazards_of.setdefault(element, set()).update(action.hazards)
    hazard_losses = {h.id: set(h.losses) for h in assessment.device.hazards}
    kinds = {c.id: c.kind for c in assessment.device.components}
    targets = []
    for threat in assessment.threats:
        if not threat.vulnerabilities or threat.element in covered:
            continue
        hazards = _ordered(hazards_of.get(threat.element, ()))
        losses = _ordered(loss for h in hazards for loss in hazard_losses.get(h, ()))
        attack = {"false_values", "disclosure"}
        if kinds.get(threat.element) == ComponentKind.ml_engine:
            attack.add("model_tampering")
        targets.append(
            RiskTarget(
                key=threat.id,
                source=VULNERABILITY,
                title=f"Known vulnerabilities in {threat.technology or threat.element} "
                f"on {threat.element}",
                element=threat.element,
                element_type=threat.element_type,
                threats=(threat.id,),
                hazards=hazards,
                losses=losses,
                attack_kinds=frozenset(attack),
                answer_keys=(threat.element, threat.id),
            )
        )
    return targets


_ATTACK_OF_CATEGORY = {
    "model_update": "model_tampering",
    "poisoning": "training_poisoning",
    "extraction": "disclosure",
    "inversion": "disclosure",
    "resource_exhaustion": "denial_of_service",
}
_ATTACK_OF_INJECTION = {
    "spoof": "false_values",
    "bias": "false_values",
    "suppress": "false_values",
    "delay": "replay",
    "replay": "replay",
    "freeze": "replay",
    "query": "disclosure",
}


def _attack_kind(category: str, injection: str) -> str:
    """What a scenario does at its entry, as the policy's controls are written against.

    A model copied or inverted to craft inputs offline still harms through the inputs it
    injects, and an old genuine release rolled back is a replay, so there the injection names
    the attack; a forged model or update is tampering, reading data or the model on its own
    disclosure."""
    of_category = _ATTACK_OF_CATEGORY.get(category, "")
    of_injection = _ATTACK_OF_INJECTION.get(injection, "")
    if of_injection == "replay" or (of_category == "disclosure" and of_injection):
        return of_injection
    return of_category or of_injection


def scenario_targets(
    assessment: Assessment, profiles: dict[str, tuple[str, float]] | None = None
) -> list[RiskTarget]:
    """Attack scenarios grouped like loss scenarios: one target per (entry element, hazard),
    listing every scenario (attacker, exploit family) that leads there. Scenarios without a
    hazard (reading data, stealing the model) group by entry element and losses.

    ``profiles``: attacker id -> (CVSS access vector, reach score), where known.
    """
    profiles = profiles or {}
    points = {p.id: p for p in assessment.fdi_points}
    hazard_losses = {h.id: set(h.losses) for h in assessment.device.hazards}
    components = {c.id for c in assessment.device.components}
    ucas = {u.id: u.type.value for u in assessment.ucas}
    groups: dict[tuple[str, str], list[AttackScenario]] = {}
    for scenario in assessment.scenarios:
        for hazard in scenario.hazards or [""]:
            key = hazard or "+".join(sorted(scenario.losses, key=natural))
            groups.setdefault((scenario.element, key), []).append(scenario)
    targets = []
    for (element, key), members in groups.items():
        members = sorted(members, key=lambda s: natural(s.id))
        lead = max(members, key=lambda s: s.exploitability.score)  # first of the most exploitable
        hazard = key if key in hazard_losses else ""
        fdi = [
            points[i]
            for i in dict.fromkeys(i for s in members for i in s.fdi_points)
            if i in points
        ]
        losses = {x for s in members for x in s.losses}
        if hazard:
            losses &= hazard_losses[hazard]
        kinds = {_attack_kind(s.category, s.injection) for s in members}
        kinds.discard("")
        attackers: dict[str, Attacker] = {}
        for s in members:
            access, _ = profiles.get(s.attacker, (None, None))
            kept = attackers.get(s.attacker)
            if kept is None or s.exploitability.parts.reach > (kept.reach or 0.0):
                attackers[s.attacker] = Attacker(s.attacker, access, s.exploitability.parts.reach)
        shortest = min(fdi, key=lambda p: (len(p.path), natural(p.id))) if fdi else None
        targets.append(
            RiskTarget(
                key=f"{element}|{key}",
                source=SCENARIO,
                title=lead.title
                if len(members) == 1
                else f"{len(members)} attack scenarios at {element} leading to {key or 'no hazard'}",
                element=element,
                element_type=lead.element_type,
                scenario=lead.id,
                scenarios=tuple(s.id for s in members),
                loss_scenarios=_ordered(i for s in members for i in s.loss_scenarios),
                fdi_points=_ordered(p.id for p in fdi),
                threats=_ordered(t for s in members for t in s.threats),
                hazards=(hazard,) if hazard else (),
                losses=_ordered(losses),
                uca_types=frozenset(ucas[s.uca] for s in members if s.uca in ucas),
                fdi_targets=frozenset(p.target for p in fdi),
                ml_engines=_ordered([p.ml_engine for p in fdi] + [s.ml_engine for s in members]),
                crossed=_crossed(shortest, components) if shortest else (),
                attack_kinds=frozenset(kinds),
                attackers=tuple(attackers[name] for name in sorted(attackers)),
                answer_keys=(element,),
            )
        )
    return targets


def disclosure_targets(assessment: Assessment, covered: set[str]) -> list[RiskTarget]:
    """Hazards that ``concerns: disclosure``, rated where the data can be read: every
    channel between machines without encryption that carries patients' data (an update
    channel carries software, models and settings, which the rubric's system-secrets
    questions cover), and every store that patients' data flows into (a cloud that only
    publishes model versions holds none), unless an attack scenario already stands for that
    element and hazard. A hazard that names its ``data`` is rated only where those signals
    pass or are kept."""
    device = assessment.device
    components = {c.id: c for c in device.components}
    targets = []
    for hazard in device.hazards:
        if hazard.concerns != "disclosure":
            continue
        named = set(hazard.data)

        def carries_it(link: Link, named: set[str] = named) -> bool:
            return link.kind != LinkKind.update and (
                not named or any(signal.name in named for signal in link.carries)
            )

        fed = {link.target for link in device.links if carries_it(link)}
        places: list[tuple[str, str, str]] = []
        for link in device.links:
            if not carries_it(link):
                continue
            ends = (components.get(link.source), components.get(link.target))
            machines = all(
                e is not None
                and e.kind not in (ComponentKind.human, ComponentKind.controlled_process)
                for e in ends
            )
            readable = not link.channel.in_process and not link.channel.protections.encryption
            if machines and readable:
                places.append((link.id, "link", f"{link.id} carries its data unencrypted"))
        for component in device.components:
            if component.kind in _STORES and component.id in fed:
                places.append(
                    (component.id, "component", f"{component.id} holds many patients' data")
                )
        for element, kind, why in places:
            key = f"{element}|{hazard.id}"
            if key in covered:
                continue
            targets.append(
                RiskTarget(
                    key=key,
                    source=DISCLOSURE,
                    title=f"Data read at {element} → {hazard.id}: {hazard.description} ({why})",
                    element=element,
                    element_type=kind,
                    threats=_threats_on(assessment.threats, element),
                    hazards=(hazard.id,),
                    losses=_ordered(hazard.losses),
                    attack_kinds=frozenset({"disclosure"}),
                    answer_keys=(element,),
                )
            )
    return targets


def risk_targets(
    assessment: Assessment,
    profiles: dict[str, tuple[str, float]] | None = None,
    reachers: Callable[[str], tuple[Attacker, ...]] | None = None,
) -> list[RiskTarget]:
    """Every target, scenarios (or loss scenarios) first, then uncovered vulnerabilities.
    ``reachers``: the attacker profiles that reach an element, for targets no attack scenario
    stands for (without it they take the scenario attackers at the same element)."""
    from_scenarios = scenario_targets(assessment, profiles)
    # Loss-scenario classes no attack scenario stands for (the control path, a setting, the
    # model's own error) still carry risk.
    represented = frozenset(i for t in from_scenarios for i in t.loss_scenarios)
    primary = from_scenarios + loss_scenario_targets(assessment, represented)
    primary += disclosure_targets(assessment, {t.key for t in from_scenarios})
    covered = {t.element for t in primary}
    return _with_attackers(primary + vulnerability_targets(assessment, covered), reachers)


def _with_attackers(
    targets: list[RiskTarget], reachers: Callable[[str], tuple[Attacker, ...]] | None
) -> list[RiskTarget]:
    """Targets no attack scenario stands for (reading data, a setting, a vulnerability) get
    the attacker profiles that reach their element, or else the attackers of the scenarios
    at the same element: whoever can inject there can read or tamper there too."""
    at: dict[str, dict[str, Attacker]] = {}
    for target in targets:
        for attacker in target.attackers:
            kept = at.setdefault(target.element, {}).get(attacker.id)
            if kept is None or (attacker.reach or 0.0) > (kept.reach or 0.0):
                at[target.element][attacker.id] = attacker
    found = []
    for target in targets:
        if not target.attackers:
            reaching = reachers(target.element) if reachers is not None else ()
            borrowed = at.get(target.element, {})
            attackers = reaching or tuple(borrowed[k] for k in sorted(borrowed))
            target = replace(target, attackers=attackers) if attackers else target
        found.append(target)
    return found
