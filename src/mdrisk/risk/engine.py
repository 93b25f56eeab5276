"""The risk stage: every target rated, scored and traced, before and after its controls.

In: an Assessment (after STPA, threats, scenarios and impact, whichever ran) and
:class:`RiskInputs` (rubric, matrix, analyst answers, knowledge-base lookups; all optional).
Out: ``RiskItem`` records R-1, R-2, ... in target order. Pure: no I/O, no clock.

For each target:

1. severity: measured harm, the analyst, or the worst case (``severity.py``);
2. the medical-device rubric walked twice: as designed (the CVSS vector reported, 3.1 and
   4.0) and with the device's controls not credited (the attack the controls face);
3. known vulnerabilities on the entry element recomputed and put in the device's context;
4. initial exploitability: the CVSS exploitability sub-score before controls (or of a
   published vector when higher), raised for KEV and EPSS, lowered for a long path;
5. risk level and acceptability from the matrix;
6. controls in place and catalogue mitigations, and the residual risk under the matrix's rule.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from mdrisk.assessment import Assessment
from mdrisk.assessment.risk import (
    ContextMetric,
    CvssResult,
    ExploitabilityRating,
    ResidualRisk,
    RiskItem,
    SeverityRating,
    VulnerabilityRating,
)
from mdrisk.kb.catalog_ids import natural
from mdrisk.kb.pack import TechnologyPack
from mdrisk.risk.answers import NO_ANSWERS, LoadedAnswers, check_keys
from mdrisk.risk.controls import (
    MitigationLookup,
    MitigationRef,
    catalogue_mitigations,
    credit,
    device_controls,
    mitigation_controls,
)
from mdrisk.risk.cvss_scores import exploitability_3, map_3_to_4, score
from mdrisk.risk.derive import SEVERITY_ORDER, DeviceFacts, Facts
from mdrisk.risk.matrix import LoadedMatrix, RiskMatrix, shift
from mdrisk.risk.rubric import LoadedRubric, Rubric, RubricResult, evaluate
from mdrisk.risk.severity import rate_severity
from mdrisk.risk.targets import RiskTarget, risk_targets
from mdrisk.risk.vulnerabilities import rate_vulnerability
from mdrisk.stable_ids import stable_ids

# Attacker id -> (CVSS access vector, reach score), from the scenario stage's profiles.
AttackerReach = Mapping[str, tuple[str, float]]


@dataclass(frozen=True)
class RiskInputs:
    """What the risk stage reads besides the assessment, all loaded before it runs
    (``mdrisk.bundled.risk_inputs`` fills what the user did not give with the built-in
    files)."""

    rubric: LoadedRubric
    matrix: LoadedMatrix
    pack: TechnologyPack
    attackers: AttackerReach
    answers: LoadedAnswers = NO_ANSWERS
    mitigations_for: MitigationLookup | None = None


def _cvss_of_rubric(result: RubricResult, facts: Facts) -> list[CvssResult]:
    v3 = score(
        result.vector,
        origin="rubric",
        source="medical-device CVSS rubric",
        metrics=result.decisions,
    )
    mapped, notes = map_3_to_4(result.vector)
    metrics = dict(part.split(":") for part in mapped.split("/")[1:])
    for key, value in result.cvss4_base.items():
        notes.append(f"{key}:{value} from the rubric's CVSS 4.0 question")
        metrics[key] = value
    context = list(result.cvss4_context)
    if any(c.value == "S" for c in context):
        context.append(
            ContextMetric(
                metric="S",
                value="P",
                reason="supplemental Safety: the rubric found the exploit can harm the patient",
            )
        )
    vector4 = "CVSS:4.0/" + "/".join(f"{k}:{v}" for k, v in metrics.items())
    v4 = score(
        vector4,
        origin="rubric",
        source="medical-device CVSS rubric (4.0 from the 3.1 answers)",
        context=context,
        notes=notes,
    )
    return [v3, v4]


def _exploitability(
    target: RiskTarget,
    before: RubricResult,
    vulnerabilities: Sequence[VulnerabilityRating],
    matrix: RiskMatrix,
) -> ExploitabilityRating:
    levels = matrix.exploitability_levels
    rule = matrix.exploitability
    base = exploitability_3(before.vector)
    source = f"the attack before controls ({before.vector.split('/', 1)[1]})"
    for vulnerability in vulnerabilities:
        for result in vulnerability.cvss:
            if (
                result.origin == "published"
                and result.exploitability is not None
                and result.exploitability > base
            ):
                base = result.exploitability
                source = f"{vulnerability.id} as published ({result.base_vector})"
    level = matrix.exploitability_from_cvss(base)
    steps = [f"CVSS exploitability {base:.1f} of {source} → {level}"]
    kev = sorted((v.id for v in vulnerabilities if v.kev), key=natural)
    if kev and rule.kev.raise_:
        level = shift(levels, level, rule.kev.raise_)
        steps.append(f"in CISA KEV ({', '.join(kev)}): +{rule.kev.raise_} → {level}")
    epss = [(v.epss, v.id) for v in vulnerabilities if v.epss is not None]
    if epss:
        highest, vuln_id = max(epss, key=lambda pair: (pair[0], natural(pair[1])))
        for step in sorted(rule.epss, key=lambda s: -s.min):
            if highest >= step.min:
                if step.raise_:
                    level = shift(levels, level, step.raise_)
                    steps.append(
                        f"EPSS {highest:.3f} ({vuln_id}) >= {step.min}: +{step.raise_} → {level}"
                    )
                break
    reaches = [a.reach for a in target.attackers if a.reach is not None]
    if (
        rule.attacker is not None
        and reaches
        and max(reaches) < rule.attacker.min_reach
        and rule.attacker.lowers
    ):
        level = shift(levels, level, -rule.attacker.lowers)
        best = max(
            (a for a in target.attackers if a.reach is not None), key=lambda a: a.reach or 0.0
        )
        steps.append(
            f"the best placed attacker, {best.id}, reaches the device with "
            f"difficulty (reach {best.reach:g} < {rule.attacker.min_reach:g}): "
            f"-{rule.attacker.lowers} → {level}"
        )
    hops = len(target.crossed)
    extra = max(0, hops - rule.path.free_hops) // rule.path.hops_per_level
    if extra:
        level = shift(levels, level, -extra)
        steps.append(
            f"the false data crosses {hops} component(s) "
            f"({', '.join(target.crossed)}) before the ML engine: -{extra} → {level}"
        )
    return ExploitabilityRating(level=level, steps=steps)


def _open_questions(*groups: Sequence[str]) -> list[str]:
    seen: dict[str, None] = {}
    for group in groups:
        for item in group:
            seen.setdefault(item, None)
    return list(seen)


def _rate(
    target: RiskTarget,
    risk_id: str,
    assessment: Assessment,
    device: DeviceFacts,
    inputs: RiskInputs,
    losses: dict,
    refs: list[MitigationRef],
) -> RiskItem:
    rubric: Rubric = inputs.rubric.rubric
    matrix: RiskMatrix = inputs.matrix.matrix
    answers = inputs.answers
    severity, severity_open = rate_severity(target, losses, answers, assessment.impact)
    analyst = answers.lookup(target.answer_keys)
    designed = evaluate(rubric, Facts(target, device, severity, True), analyst)
    before = evaluate(rubric, Facts(target, device, severity, False), analyst)
    harmful = SEVERITY_ORDER.index(severity.level) >= SEVERITY_ORDER.index("serious")
    safety = (harmful, harmful and bool(device.data_use & {"therapy", "monitoring"}))
    threats = {t.id: t for t in assessment.threats}
    vulnerabilities = [
        rate_vulnerability(v, threats[t], device, safety)
        for t in target.threats
        if t in threats
        for v in threats[t].vulnerabilities
    ]
    exploitability = _exploitability(target, before, vulnerabilities, matrix)
    level = matrix.level_of(severity.level, exploitability.level)
    controls = device_controls(target, device) + mitigation_controls(refs, answers)
    credited, reduction, credit_steps = credit(controls, target.attack_kinds, matrix.residual)
    residual_level = shift(matrix.exploitability_levels, exploitability.level, -reduction)
    residual_risk = matrix.level_of(severity.level, residual_level)
    residual = ResidualRisk(
        exploitability=residual_level,
        severity=severity.level,
        level=residual_risk,
        acceptability=matrix.label_of(matrix.acceptability_of(residual_risk)),
        rule=" ".join(matrix.residual.rule.split()) + f" (cap: {matrix.residual.max_reduction}"
        " level(s); an implemented catalogue mitigation lowers "
        f"{matrix.residual.implemented_mitigation.lowers})",
        steps=credit_steps
        + [
            f"exploitability {exploitability.level} -{reduction} → {residual_level}"
            if reduction
            else f"no control credited: exploitability stays {residual_level}",
            f"severity stays {severity.level}",
        ],
    )
    return RiskItem(
        id=risk_id,
        title=_title(target, assessment),
        source=target.source,
        scenario=target.scenario,
        scenarios=list(target.scenarios),
        attackers=[a.id for a in target.attackers],
        loss_scenarios=list(target.loss_scenarios),
        fdi_points=list(target.fdi_points),
        threats=list(target.threats),
        hazards=list(target.hazards),
        losses=list(target.losses),
        element=target.element,
        cvss=_cvss_of_rubric(designed, Facts(target, device, severity, True)),
        vulnerabilities=vulnerabilities,
        severity=severity,
        exploitability=exploitability,
        level=level,
        acceptability=matrix.label_of(matrix.acceptability_of(level)),
        controls=credited,
        residual=residual,
        open_questions=_open_questions(
            severity_open, designed.open_questions, before.open_questions
        ),
        matrix=matrix.name,
    )


def _title(target: RiskTarget, assessment: Assessment) -> str:
    if target.source == "vulnerability":
        return target.title
    if target.source == "scenario" and len(target.scenarios) == 1:
        return target.title
    hazards = {h.id: h.description for h in assessment.device.hazards}
    if not target.hazards:
        return f"Attacks at {target.element} → {', '.join(target.losses) or 'no loss'}"
    hazard = target.hazards[0]
    if target.source == "loss_scenario":  # its title says what kind of manipulation it is
        return f"{target.title}: {hazards.get(hazard, '')}".strip()
    what = f"{len(target.scenarios)} attack scenarios"
    return f"{what} at {target.element} → {hazard}: {hazards.get(hazard, '')}".strip()


def assess_risks(assessment: Assessment, inputs: RiskInputs) -> list[RiskItem]:
    """Rate every target of the assessment (see the module docstring)."""
    device = DeviceFacts(assessment.device, inputs.pack)
    targets = risk_targets(assessment, dict(inputs.attackers))
    lookup = inputs.mitigations_for
    if lookup is not None:
        lookup = functools.cache(lookup)  # many risks share an entry and its vulnerabilities
    refs = [catalogue_mitigations(target, assessment.threats, lookup) for target in targets]
    keys = {key for target in targets for key in target.answer_keys}
    check_keys(inputs.answers, keys, {ref.id for found in refs for ref in found})
    losses = {loss.id: loss for loss in assessment.device.losses}
    ids = stable_ids("R", [(target.source, target.key) for target in targets])
    return [
        _rate(target, ids[(target.source, target.key)], assessment, device, inputs, losses, found)
        for target, found in zip(targets, refs, strict=True)
    ]


def severity_rank(rating: SeverityRating) -> int:
    return SEVERITY_ORDER.index(rating.level)
