"""The severity of a risk: measured harm, else the analyst, else the worst case (stated).

The analyst's severity is the answers file's (``severity`` under the entry element or threat
id), else the severity the device model gives the risk's hazards (``hazards[].severity``,
the harm the hazardous situation credibly leads to, with its rationale), else the worst
among the losses the risk leads to as the model rates them (``losses[].severity``); with
none, catastrophic, with an open question saying what to answer.

Measured harm (the impact stage: simulated virtual patients, ``Assessment.impact``) decides
when the simulations cover every loss scenario of the risk and one of them induced harm: the
worst induced severity class. When they cover only some, the worse of measured and analyst's
severity stands (the rest was not measured). A simulation that induced no harm does not
lower the analyst's severity (one attack on one day shows what can happen, not what cannot);
it is named in the basis.
"""

from __future__ import annotations

from collections.abc import Sequence

from mdrisk.assessment.impact import ImpactFinding
from mdrisk.assessment.risk import SeverityRating
from mdrisk.kb.catalog_ids import natural
from mdrisk.model.schema import Hazard, Loss
from mdrisk.risk.answers import LoadedAnswers
from mdrisk.risk.derive import SEVERITY_ORDER
from mdrisk.risk.targets import RiskTarget

WORST = SEVERITY_ORDER[-1]


def _of_hazards(target: RiskTarget, hazards: dict[str, Hazard]) -> SeverityRating | None:
    rated = [hazards[h] for h in target.hazards if h in hazards and hazards[h].severity]
    if not rated or len(rated) < len(target.hazards):
        return None
    worst = max(rated, key=lambda h: SEVERITY_ORDER.index(h.severity or WORST))
    return SeverityRating(
        level=worst.severity or WORST,
        source="analyst",
        basis=f"{worst.id} ({worst.description}): {worst.severity} in the device model, "
        f"{' '.join(worst.severity_rationale.split())}",
    )


def _analyst(
    target: RiskTarget,
    losses: dict[str, Loss],
    answers: LoadedAnswers,
    hazards: dict[str, Hazard] | None = None,
) -> tuple[SeverityRating, list[str]]:
    given = answers.severity_for(target.answer_keys)
    if given is not None:
        key, entry = given
        return SeverityRating(
            level=entry.level,
            source="analyst",
            basis=(f"{entry.justification} [{answers.file}: severity.{key}]"),
        ), []
    of_hazards = _of_hazards(target, hazards or {})
    if of_hazards is not None:
        return of_hazards, []
    rated = [(losses[i].severity, i) for i in target.losses if i in losses and losses[i].severity]
    unrated = [i for i in target.losses if i not in losses or not losses[i].severity]
    if rated:
        level, loss = max(rated, key=lambda pair: SEVERITY_ORDER.index(pair[0]))
        via = f" via {', '.join(target.hazards)}" if target.hazards else ""
        basis = f"{loss} ({losses[loss].description}){via}: {level} in the device model"
        open_ = (
            [
                f"severity: losses {', '.join(unrated)} have no severity in the model "
                "(rated without them)"
            ]
            if unrated
            else []
        )
        return SeverityRating(level=level, source="analyst", basis=basis), open_
    where = (
        f"losses {', '.join(unrated)} have no severity" if unrated else "no loss is linked to it"
    )
    key = target.answer_keys[0] if target.answer_keys else target.key
    return (
        SeverityRating(level=WORST, source="worst_case", basis=f"{where}: worst case assumed"),
        [
            f"severity: {where}; give losses[].severity in the model or 'severity' for "
            f"{key} in the answers file (worst case {WORST} assumed)"
        ],
    )


def _harm(finding: ImpactFinding) -> str:
    text = (
        f"{finding.id} ({finding.attack}): {finding.worst_induced_severity} harm induced "
        f"in {finding.patients_harmed} of {len(finding.patients)} virtual patients"
    )
    groups = {group.group: group for group in finding.population}
    everyone = groups.get("all")
    if everyone is not None and everyone.patient_days:
        text += f" ({everyone.patient_days_harmed} of {everyone.patient_days} patient-days"
        below = everyone.delta.get("minutes_below_54")
        if below is not None:
            text += (
                f"; added minutes below 54 mg/dL per day: median {below.median:g}, "
                f"95th percentile {below.p95:g}, worst {below.worst:g}"
            )
        cohorts = [
            f"{g.group} {g.worst_induced_severity or 'none'} ({g.patients_harmed}/{g.patients})"
            for name, g in groups.items()
            if name != "all"
        ]
        if cohorts:
            text += f"; worst by cohort: {', '.join(cohorts)}"
        text += ")"
    return text


def rate_severity(
    target: RiskTarget,
    losses: dict[str, Loss],
    answers: LoadedAnswers,
    impact: Sequence[ImpactFinding] = (),
    hazards: dict[str, Hazard] | None = None,
    when_no_harm: str = "analyst",
) -> tuple[SeverityRating, list[str]]:
    """The rating and any open question it leaves. ``when_no_harm`` (the policy's): whether
    simulations covering every loss scenario of the risk that harmed no one keep the
    analyst's severity ("analyst") or rate it negligible ("measured")."""
    analyst, open_ = _analyst(target, losses, answers, hazards)
    mine = set(target.loss_scenarios)
    simulated = [f for f in impact if f.status == "simulated" and mine & set(f.loss_scenarios)]
    if not simulated:
        return analyst, open_
    covered = mine <= {ls for f in simulated for ls in f.loss_scenarios}
    harmful = [f for f in simulated if f.worst_induced_severity in SEVERITY_ORDER]
    ids = ", ".join(sorted((f.id for f in simulated), key=natural))
    if not harmful and covered and when_no_harm == "measured":
        patients = sum(len(f.patients) for f in simulated)
        return SeverityRating(
            level=SEVERITY_ORDER[0],
            source="measured",
            basis=f"simulations {ids} cover every loss scenario of the risk and induced no "
            f"harm in {patients} patient runs (the analyst rated it {analyst.level}; the "
            "policy takes measured no-harm as negligible)",
        ), []
    if not harmful:
        note = (
            f"; simulated ({ids}): no attack-induced harm, which does not lower the "
            "analyst's severity"
        )
        return analyst.model_copy(update={"basis": analyst.basis + note}), open_
    worst = max(
        harmful, key=lambda f: (SEVERITY_ORDER.index(f.worst_induced_severity), f.patients_harmed)
    )
    measured = worst.worst_induced_severity
    if covered:
        return SeverityRating(
            level=measured,
            source="measured",
            basis=(
                f"{_harm(worst)}; simulations {ids} cover every loss scenario of the risk "
                f"(the analyst rated it {analyst.level})"
            ),
        ), []
    if SEVERITY_ORDER.index(measured) >= SEVERITY_ORDER.index(analyst.level):
        return SeverityRating(
            level=measured,
            source="measured",
            basis=(f"{_harm(worst)}, at least the analyst's {analyst.level}"),
        ), []
    return analyst.model_copy(
        update={
            "basis": analyst.basis
            + (
                f"; simulated {ids} measured only {measured} ({_harm(worst)}) but do not cover every "
                "loss scenario of the risk, so the analyst's severity stands"
            )
        }
    ), open_
