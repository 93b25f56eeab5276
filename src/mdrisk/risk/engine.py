"""The risk stage: every target rated, scored and traced, before and after its controls.

In: an Assessment (after STPA, threats, scenarios and impact, whichever ran) and
:class:`RiskInputs` (rubric, matrix, analyst answers, knowledge-base lookups; all optional).
Out: ``RiskItem`` records R-1, R-2, ... in target order. Pure: no I/O, no clock.

For each target:

1. severity: measured harm, the analyst (answers file, the hazard's severity in the model,
   its losses), or the worst case (``severity.py``);
2. the medical-device rubric walked on the device as designed, twice: open questions at
   their worst and at their best answers; the policy's ``unanswered`` picks the vector used
   (one vector per risk, the one the exploitability comes from), the other end is shown as
   the range;
3. known vulnerabilities on the entry element recomputed and put in the device's context;
4. initial exploitability (as designed): the CVSS exploitability sub-score (or of a
   published vector when higher), raised for KEV and EPSS, lowered for a hard-to-place
   attacker and a long path, and for the device's own controls the rubric does not read
   (the policy's ``residual.device_controls``);
5. risk level and acceptability from the policy's matrix;
6. controls: the device's, catalogue mitigations the analyst marks implemented, and the
   controls the policy recommends for this attack path (``recommend.py``); the residual
   risk with the implemented mitigations and the recommended controls the policy applies.
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
    PolicyView,
    ResidualRisk,
    RiskControl,
    RiskItem,
    SeverityRating,
    VulnerabilityRating,
)
from mdrisk.assessment.threats import ElementThreat
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
from mdrisk.risk.cvss_scores import exploitability_3, exploitability_in_context, score
from mdrisk.risk.deployment import DeployedVector, deployment_vector
from mdrisk.risk.derive import SEVERITY_ORDER, DeviceFacts, Facts
from mdrisk.risk.detection import DETECTOR_CONTROL, detector_controls
from mdrisk.risk.matrix import LoadedMatrix, RiskMatrix, applies, shift
from mdrisk.risk.reachers import attackers_at
from mdrisk.risk.recommend import recommend
from mdrisk.risk.rubric import LoadedRubric, Rubric, RubricResult, evaluate
from mdrisk.risk.severity import rate_severity
from mdrisk.risk.targets import RiskTarget, risk_targets
from mdrisk.risk.vulnerabilities import rate_vulnerability
from mdrisk.risk.weakest_path import ALL_KINDS, Credit, weakest_path
from mdrisk.scenarios.data import ProfileSet
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
    # The attacker profiles with their reach rules: who reaches elements no scenario enters.
    profiles: ProfileSet | None = None


def _cvss4_of_rubric(result: RubricResult) -> tuple[str, list[str]]:
    """The CVSS 4.0 base vector the rubric's answers give, each metric with the answers that
    set it: AV and PR are the same questions in both versions; AC and AT come from what
    stands in the attacker's way (AC-2: a defence is AC:H, a condition AT:P); UI from whether
    the act is passive or active (UI-2); the vulnerable system's impacts from the C, I and A
    flows; the subsequent systems' from the scope question (S-1)."""
    decided = {d.metric: d.value for d in result.decisions}
    given = result.cvss4_base
    notes = ["AV, PR: the rubric's attack-vector and privilege questions (the same in 4.0)"]
    if "AC" in given or "AT" in given:
        ac, at = given.get("AC", decided["AC"]), given.get("AT", "N")
        notes.append(f"AC:{ac}, AT:{at}: what stands in the way (the rubric's AC-2 answer)")
    else:
        ac, at = decided["AC"], "N"
        notes.append(
            f"AC:{ac}, AT:N: nothing to defeat or wait for (AC-1)"
            if ac == "L"
            else f"AC:{ac}, AT:N: a defence to defeat (AC-1), no condition given"
        )
    if "UI" in given:
        ui = given["UI"]
        notes.append(
            f"UI:{ui}: the act the attack needs is {'passive' if ui == 'P' else 'active'} (UI-2)"
        )
    else:
        ui = "N" if decided["UI"] == "N" else "P"
        notes.append("UI:N: no one else needs to act (UI-1)" if ui == "N" else "UI:P assumed")
    changed = decided["S"] == "C"
    notes.append(
        "SC/SI/SA: the exploit reaches systems under another authority (S-1), with the same impacts"
        if changed
        else "SC/SI/SA:N: the exploit stays within the vulnerable system's authority (S-1)"
    )
    metrics = {
        "AV": decided["AV"],
        "AC": ac,
        "AT": at,
        "PR": decided["PR"],
        "UI": ui,
        "VC": decided["C"],
        "VI": decided["I"],
        "VA": decided["A"],
        "SC": decided["C"] if changed else "N",
        "SI": decided["I"] if changed else "N",
        "SA": decided["A"] if changed else "N",
    }
    return "CVSS:4.0/" + "/".join(f"{k}:{v}" for k, v in metrics.items()), notes


def _cvss_of_rubric(
    result: RubricResult, facts: Facts, deployed: DeployedVector | None = None
) -> list[CvssResult]:
    placed = (
        [
            ContextMetric(
                metric="MAV",
                value=deployed.letter,
                reason=f"only {deployed.who} reach the entry (attacker profiles' reach rules)",
            )
        ]
        if deployed is not None
        else []
    )
    v3 = score(
        result.vector,
        origin="rubric",
        source="medical-device CVSS rubric",
        metrics=result.decisions,
        context=placed,
    )
    vector4, notes = _cvss4_of_rubric(result)
    context = list(result.cvss4_context) + placed
    if any(c.value == "S" for c in context):
        context.append(
            ContextMetric(
                metric="S",
                value="P",
                reason="supplemental Safety: the rubric found the exploit can harm the patient",
            )
        )
    v4 = score(
        vector4,
        origin="rubric",
        source="medical-device CVSS rubric (CVSS 4.0 metrics from its answers)",
        context=context,
        notes=notes,
    )
    return [v3, v4]


def _exploitability(
    target: RiskTarget,
    rated: RubricResult,
    vulnerabilities: Sequence[VulnerabilityRating],
    matrix: RiskMatrix,
    device_credit: tuple[int, list[str]] = (0, []),
) -> tuple[str, list[str]]:
    levels = matrix.exploitability_levels
    rule = matrix.exploitability
    base = exploitability_3(rated.vector)
    source = f"the attack on the device as designed ({rated.vector.split('/', 1)[1]})"
    deployed = _deployed(rated.vector, target, matrix)
    if deployed is not None:
        base = exploitability_in_context(deployed.vector)
        source += (
            f" where only {deployed.who} reach {target.element}: the deployment's attack "
            f"vector MAV:{deployed.letter} (CVSS environmental)"
        )
    for vulnerability in vulnerabilities:
        for result in vulnerability.cvss:
            if result.origin != "published" or result.exploitability is None:
                continue
            published, where = result.exploitability, ""
            placed = _deployed(result.base_vector, target, matrix)
            if placed is not None:
                published = exploitability_in_context(placed.vector)
                where = f" with the deployment's MAV:{placed.letter}"
            if published > base:
                base = published
                source = f"{vulnerability.id} as published ({result.base_vector}){where}"
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
    lowered, credit_steps = device_credit
    if lowered:
        level = shift(levels, level, -lowered)
        steps += credit_steps + [f"the device's own controls: -{lowered} → {level}"]
    return level, steps


def _deployed(vector: str, target: RiskTarget, matrix: RiskMatrix) -> DeployedVector | None:
    """The vector read in the deployment the policy asks for (None: the base vector)."""
    if not matrix.exploitability.deployment_vector:
        return None
    return deployment_vector(vector, target.attackers)


def _rated_exploitability(
    target: RiskTarget,
    worst: RubricResult,
    best: RubricResult,
    vulnerabilities: Sequence[VulnerabilityRating],
    matrix: RiskMatrix,
    device_credit: tuple[int, list[str]],
) -> ExploitabilityRating:
    worst_level, worst_steps = _exploitability(
        target, worst, vulnerabilities, matrix, device_credit
    )
    best_level, best_steps = _exploitability(target, best, vulnerabilities, matrix, device_credit)
    use_best = matrix.unanswered == "best"
    steps = best_steps if use_best else worst_steps
    if best_level != worst_level:
        steps = steps + [
            f"open rubric questions span {best_level} (best answers) to {worst_level} "
            f"(worst answers); the policy counts them at their {matrix.unanswered}"
        ]
    return ExploitabilityRating(
        level=best_level if use_best else worst_level,
        steps=steps,
        best=best_level,
        worst=worst_level,
        vector=(best if use_best else worst).vector,
        unanswered=matrix.unanswered,
    )


def _open_questions(*groups: Sequence[str]) -> list[str]:
    seen: dict[str, None] = {}
    for group in groups:
        for item in group:
            seen.setdefault(item, None)
    return list(seen)


def _recommended_controls(
    target: RiskTarget, device: DeviceFacts, matrix: RiskMatrix, threats: Sequence[ElementThreat]
) -> list[RiskControl]:
    found = []
    for rec in recommend(target, device, matrix.recommended_controls, threats):
        on = applies(matrix.apply, rec.control.id, rec.id)
        found.append(
            RiskControl(
                id=rec.id,
                name=rec.title,
                kind="recommended",
                framework="risk policy",
                source=rec.why,
                justification=" ".join(rec.control.reason.split()),
                applied=on,
                model_change=[
                    f"{link}.{name}" for link, names in rec.model_change for name in names
                ],
            )
        )
    return found


def _residual(
    matrix: RiskMatrix,
    exploitability: str,
    severity: str,
    controls: Sequence[RiskControl],
    attack_kinds: frozenset[str],
) -> tuple[list[RiskControl], ResidualRisk]:
    rules = {c.id: c for c in matrix.recommended_controls}
    cap = matrix.residual.max_reduction
    credits: list[Credit] = []
    downs: list[int] = []
    for control in controls:
        levels, down = 0, 0
        stops: frozenset[str] | None = frozenset()
        if control.kind == "mitigation" and control.in_place:
            levels, stops = matrix.residual.implemented_mitigation.lowers, ALL_KINDS
        elif control.kind == "recommended" and control.applied:
            if control.id.startswith(f"{DETECTOR_CONTROL}@"):
                down = control.severity_levels  # measured, not a policy figure
            else:
                rule = rules[control.id.split("@", 1)[0]]
                if set(rule.against) & attack_kinds:
                    levels, stops = rule.lowers, frozenset(rule.against)
                    down = rule.severity_lowers
        # Device controls were credited in the initial rating already.
        credits.append(Credit(0 if control.kind == "device" else levels, stops))
        downs.append(down)
    path = weakest_path(credits, attack_kinds, cap)
    total, steps, credited = path.total, [], []
    severity_down, severity_steps = 0, []
    for control, given, share, down in zip(controls, credits, path.levels, downs, strict=True):
        if control.kind == "device":
            credited.append(control)
            continue
        if share:
            steps.append(f"{control.name} ({control.id}): -{share}")
        elif given.levels and given.stops is not ALL_KINDS and path.binding not in given.stops:
            steps.append(
                f"{control.name} ({control.id}): no credit, the reduction is that of the "
                f"{path.binding} path (the least protected), which it does not stop"
            )
        if down:
            severity_down = max(severity_down, down)
            severity_steps.append(
                f"{control.name} ({control.id}) stops or limits the harm: severity "
                f"-{down} ({control.justification})"
            )
        credited.append(
            control.model_copy(update={"credited_levels": share, "severity_levels": down})
        )
    residual_level = shift(matrix.exploitability_levels, exploitability, -total)
    residual_severity = SEVERITY_ORDER[max(0, SEVERITY_ORDER.index(severity) - severity_down)]
    level = matrix.level_of(residual_severity, residual_level)
    applied = matrix.apply if isinstance(matrix.apply, str) else ", ".join(matrix.apply)
    residual = ResidualRisk(
        exploitability=residual_level,
        severity=residual_severity,
        level=level,
        acceptability=matrix.label_of(matrix.acceptability_of(level)),
        rule=" ".join(matrix.residual.rule.split())
        + f" (cap: {cap} level(s); recommended controls applied: {applied})",
        steps=steps
        + [
            f"exploitability {exploitability} -{total} → {residual_level}"
            if total
            else f"no control credited: exploitability stays {residual_level}",
        ]
        + (severity_steps or [f"severity stays {severity}"]),
    )
    return credited, residual


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
    hazards = {h.id: h for h in assessment.device.hazards}
    severity, severity_open = rate_severity(
        target, losses, answers, assessment.impact, hazards, matrix.measured_harm.when_no_harm
    )
    analyst = answers.lookup(target.answer_keys)
    facts = Facts(target, device, severity, True)
    worst = evaluate(rubric, facts, analyst, "worst")
    best = evaluate(rubric, facts, analyst, "best")
    used = best if matrix.unanswered == "best" else worst
    harmful = SEVERITY_ORDER.index(severity.level) >= SEVERITY_ORDER.index("serious")
    safety = (harmful, harmful and bool(device.data_use & {"therapy", "monitoring"}))
    threats = {t.id: t for t in assessment.threats}
    vulnerabilities = [
        rate_vulnerability(v, threats[t], device, safety)
        for t in target.threats
        if t in threats
        for v in threats[t].vulnerabilities
    ]
    in_place = device_controls(target, device)
    device_credited, lowered, credit_steps = credit(in_place, target.attack_kinds, matrix.residual)
    exploitability = _rated_exploitability(
        target, worst, best, vulnerabilities, matrix, (lowered, credit_steps)
    )
    deployed = _deployed(used.vector, target, matrix)
    cvss = _cvss_of_rubric(used, facts, deployed)
    if deployed is not None:  # the vector shown is the one the level was read from
        exploitability = exploitability.model_copy(update={"vector": cvss[0].vector})
    level = matrix.level_of(severity.level, exploitability.level)
    controls = (
        device_credited
        + mitigation_controls(refs, answers)
        + _recommended_controls(target, device, matrix, assessment.threats)
        + detector_controls(target, assessment.impact, assessment.detectors, matrix.apply)
    )
    credited, residual = _residual(
        matrix, exploitability.level, severity.level, controls, target.attack_kinds
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
        cvss=cvss,
        vulnerabilities=vulnerabilities,
        severity=severity,
        exploitability=exploitability,
        level=level,
        acceptability=matrix.label_of(matrix.acceptability_of(level)),
        controls=credited,
        residual=residual,
        open_questions=_open_questions(severity_open, worst.open_questions),
        matrix=matrix.name,
    )


def _title(target: RiskTarget, assessment: Assessment) -> str:
    if target.source in ("vulnerability", "disclosure"):
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
    reachers = attackers_at(assessment, inputs.pack, inputs.profiles) if inputs.profiles else None
    targets = risk_targets(assessment, dict(inputs.attackers), reachers)
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


def policy_view(inputs: RiskInputs) -> PolicyView:
    """The policy as the assessment records it (for the report's heat maps)."""
    matrix = inputs.matrix.matrix
    return PolicyView(
        name=matrix.name,
        source=inputs.matrix.source.label,
        sha256=inputs.matrix.source.sha256,
        severities=list(matrix.severity),
        exploitability=matrix.exploitability_levels,
        cells={level: list(matrix.matrix[level]) for level in matrix.exploitability_levels},
        acceptability={
            r.id: matrix.label_of(matrix.acceptability_of(r.id)) for r in matrix.risk_levels
        },
        unanswered=matrix.unanswered,
        apply=matrix.apply if isinstance(matrix.apply, str) else list(matrix.apply),
        max_reduction=matrix.residual.max_reduction,
    )


def severity_rank(rating: SeverityRating) -> int:
    return SEVERITY_ORDER.index(rating.level)
