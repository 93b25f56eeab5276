"""The device's declared runtime detectors as controls of one risk, with their measured effect.

A detector counts for a risk when the simulator evaluated it against an attack that stands for
the risk's loss scenarios (``Assessment.impact`` and ``Assessment.detectors``, both from
``--simulate``). Each becomes a control of the risk that states what was measured: detected
patient-days, time to detect, false alarms per clean patient-day and, for a detector whose
response changes the loop (safe mode, suspension), the harm left once it acts.

An implemented detector is part of the design: it is listed in place, and the measured harm
already includes it only where the impact stage ran it (today it does not, so its effect is
stated, not credited). A proposed one is recommended only where it was measured to help: a
response that spares patients, or an alarm that fires while the attack acts on at least half
the attacked patient-days. The severity it takes off is measured: the worst attack-induced
severity over the patients with the response acting, against the same without it, over every
attack of the risk it was evaluated on. It takes nothing off exploitability (a detector does
not make the attack harder, it limits the harm).
"""

from __future__ import annotations

from collections.abc import Sequence

from mdrisk.assessment.detectors import DetectorEvaluation
from mdrisk.assessment.impact import ImpactFinding
from mdrisk.assessment.risk import RiskControl
from mdrisk.risk.derive import SEVERITY_ORDER
from mdrisk.risk.matrix import applies
from mdrisk.risk.targets import RiskTarget

DETECTOR_CONTROL = "deploy_detector"
# A proposed alarm is recommended only where it fires while the attack acts on at least this
# share of the attacked patient-days.
ALARM_WORTH = 0.5


def _worst(levels: Sequence[str]) -> str:
    ranked = [level for level in levels if level in SEVERITY_ORDER]
    return max(ranked, key=SEVERITY_ORDER.index) if ranked else SEVERITY_ORDER[0]


def _summary(evaluations: Sequence[DetectorEvaluation]) -> str:
    days = sum(e.patient_days for e in evaluations)
    detected = sum(e.detected_days for e in evaluations)
    during = sum(e.detected_during_attack_days for e in evaluations)
    medians = [e.time_to_detect_median_min for e in evaluations if e.time_to_detect_median_min]
    false = [e.false_alarms_per_patient_day for e in evaluations]
    false_rate = max((f for f in false if f is not None), default=None)
    parts = [
        f"measured on {len(evaluations)} attack(s) of this risk: detected {detected} of {days} "
        f"attacked patient-days ({during} while the attack acted)"
    ]
    if medians:
        parts.append(f"median time to detect {min(medians):g}-{max(medians):g} min")
    if false_rate is not None:
        parts.append(f"{false_rate:.2f} false alarms per clean patient-day")
    return ", ".join(parts)


def _severity_taken_off(evaluations: Sequence[DetectorEvaluation]) -> tuple[int, str]:
    attacked = _worst([row.attacked_severity for e in evaluations for row in e.harm])
    responded = _worst([row.responded_severity for e in evaluations for row in e.harm])
    down = SEVERITY_ORDER.index(attacked) - SEVERITY_ORDER.index(responded)
    harmed = sum(e.patients_harmed_attacked for e in evaluations)
    after = sum(e.patients_harmed_responded for e in evaluations)
    worse_clean = sum(e.clean_days_harmed_by_response for e in evaluations)
    why = (
        f"worst measured severity {attacked} without the response, {responded} with it "
        f"(patients harmed {harmed} → {after}, summed over the attacks"
        + (f"; the response made {worse_clean} clean day(s) worse" if worse_clean else "")
        + ")"
    )
    if after > harmed:
        return 0, why + "; not credited: the response harms more patients than it spares"
    return max(down, 0), why


def detector_controls(
    target: RiskTarget,
    impact: Sequence[ImpactFinding],
    evaluations: Sequence[DetectorEvaluation],
    apply: str | list[str],
) -> list[RiskControl]:
    """The declared detectors evaluated on the attacks that stand for ``target``."""
    mine = set(target.loss_scenarios)
    attacks = {
        f.attack
        for f in impact
        if f.status == "simulated" and f.attack and mine & set(f.loss_scenarios)
    }
    by_detector: dict[str, list[DetectorEvaluation]] = {}
    for evaluation in evaluations:
        # The pipeline names each evaluated plan by the impact finding's attack text.
        ran = evaluation.attack_name or evaluation.attack
        if evaluation.status == "simulated" and ran in attacks:
            by_detector.setdefault(evaluation.detector, []).append(evaluation)
    controls = []
    for detector, found in by_detector.items():
        first = found[0]
        summary = _summary(found)
        covered = {e.attack_name or e.attack for e in found} >= attacks
        if first.declared_as == "implemented":
            controls.append(
                RiskControl(
                    id=f"{target.element}.detector.{detector}",
                    name=f"runtime detector {detector} ({first.kind} on {first.signal}, "
                    f"response {first.response})",
                    kind="device",
                    framework="device model",
                    source=f"detectors[{detector}]",
                    in_place=True,
                    justification=summary,
                )
            )
            continue
        if first.response == "alarm":
            days = sum(e.patient_days for e in found)
            during = sum(e.detected_during_attack_days for e in found)
            if not days or during / days < ALARM_WORTH:
                continue  # an alarm that mostly comes too late or never is no control here
            down, why = (
                0,
                (
                    f"an alarm changes nothing in the loop: its benefit is the user's response, "
                    f"which is not simulated (detected while the attack acted on {during} of "
                    f"{days} patient-days)"
                ),
            )
        else:
            harmed = sum(e.patients_harmed_attacked for e in found)
            spared = harmed - sum(e.patients_harmed_responded for e in found)
            if spared <= 0:
                continue  # measured to spare no one: not recommended (the table still shows it)
            down, why = _severity_taken_off(found)
            if not covered:
                down, why = 0, why + "; not evaluated on every attack of the risk, so not credited"
        control_id = f"{DETECTOR_CONTROL}@{detector}"
        on = applies(apply, DETECTOR_CONTROL, control_id)
        controls.append(
            RiskControl(
                id=control_id,
                name=f"Deploy the proposed runtime detector {detector} ({first.kind} on "
                f"{first.signal}, response {first.response})",
                kind="recommended",
                framework="risk policy",
                source=summary,
                justification=why,
                applied=on,
                severity_levels=down,
            )
        )
    return controls
