"""From the detectors a device model declares to their measured evaluations.

The impact mapping (``data/glucose-impact.yaml``, :class:`~mdrisk.impact.bridge
.ImpactMapping`) says which simulator signal stands for each device signal (``cgm_glucose``
is ``cgm``) and, for the ML engine's output, that the forecast is ``forecast``; it also lists
the attacks of each signal. :func:`evaluate_model_detectors` turns each declared detector into
a :class:`~mdrisk.impact.detectors.DetectorSpec`, runs them against the attacks (by default,
the mapping's attacks of every signal a detector watches) on the mapping's patients and
reference day varied over Monte Carlo days, and returns one
:class:`~mdrisk.assessment.detectors.DetectorEvaluation` per detector and attack, plus one per
detector the simulator cannot stand for (with the reason).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from mdrisk.assessment.detectors import DetectorEvaluation, DetectorPatientHarm
from mdrisk.impact.attacks.spec import AttackPlan, parse_plan
from mdrisk.impact.bridge import MODEL, ImpactMapping
from mdrisk.impact.detectors import (
    WATCHABLE,
    DetectorOutcome,
    DetectorSpec,
    MonteCarloSetup,
    Progress,
    evaluate_detectors,
)
from mdrisk.impact.metrics import Severity
from mdrisk.model.schema import Detector, DeviceModel
from mdrisk.stable_ids import stable_id

DETECTION = (
    "an attacked patient-day is detected when the detector alarms at or after the attack's "
    "onset and the same day without the attack (same meals, same sensor noise) has not "
    "alarmed by then; false alarms are the alarms of the clean days (the detector re-arms "
    "after each); the response acts from the detection time on detected days and from the "
    "first false alarm on clean days, in a second run of the same batch"
)


def _ml_outputs(model: DeviceModel) -> set[str]:
    return {name for engine in model.ml_engines if engine.ml for name in engine.ml.outputs}


def simulator_signal(model: DeviceModel, mapping: ImpactMapping, signal: str) -> str | None:
    """The simulator signal that stands for the device's ``signal``, or None."""
    entry = mapping.inputs.get(signal)
    if entry is not None:
        return str(entry["signal"])
    if signal in _ml_outputs(model) and mapping.model is not None:
        return str(mapping.model["signal"])
    return None


def detector_spec(
    model: DeviceModel, mapping: ImpactMapping, detector: Detector
) -> DetectorSpec | str:
    """The simulator's form of ``detector``, or why it has none."""
    signal = simulator_signal(model, mapping, detector.signal)
    kind = detector.kind.value
    if signal is None:
        return (
            f"not simulated: the simulator has no counterpart of '{detector.signal}' "
            f"(it stands for {', '.join(mapping.inputs)} and the ML output)"
        )
    if signal not in WATCHABLE[kind]:
        return (
            f"not simulated: a {kind} detector in the simulator watches "
            f"{' or '.join(WATCHABLE[kind])}, not {signal} ('{detector.signal}')"
        )
    return DetectorSpec(
        id=detector.id,
        kind=kind,
        signal=signal,
        settings=detector.settings(),
        response=detector.response.value,
    )


def mapping_attacks(
    model: DeviceModel, mapping: ImpactMapping, signals: Sequence[str]
) -> list[AttackPlan]:
    """The mapping's attacks of each device signal in ``signals`` (the forecast's for an ML
    output), named '<signal> <manipulation>'."""
    plans: list[AttackPlan] = []
    outputs = _ml_outputs(model)
    for signal in dict.fromkeys(signals):
        if signal in mapping.inputs:
            attacks = mapping.inputs[signal].get("attacks", {})
        elif signal in outputs and mapping.model is not None:
            attacks = mapping.entry(MODEL).get("attacks", {})
        else:
            continue
        plans += [parse_plan(str(text), name=f"{signal} {name}") for name, text in attacks.items()]
    return plans


def _harm(outcome: DetectorOutcome) -> list[DetectorPatientHarm]:
    return [
        DetectorPatientHarm(
            patient=p.patient,
            days=p.days,
            days_detected=p.days_detected,
            clean_severity=p.severity["clean"],
            attacked_severity=p.severity["attacked"],
            responded_severity=p.severity["responded"],
            clean_minutes_below_54=round(p.minutes_below_54["clean"], 1),
            attacked_minutes_below_54=round(p.minutes_below_54["attacked"], 1),
            responded_minutes_below_54=round(p.minutes_below_54["responded"], 1),
            clean_minutes_above_250=round(p.minutes_above_250["clean"], 1),
            attacked_minutes_above_250=round(p.minutes_above_250["attacked"], 1),
            responded_minutes_above_250=round(p.minutes_above_250["responded"], 1),
        )
        for p in outcome.patients
    ]


def _worse(row: DetectorPatientHarm, after: str) -> bool:
    return Severity[after.upper()] > Severity[row.clean_severity.upper()]


def _record(
    detector: Detector, outcome: DetectorOutcome, setup: MonteCarloSetup
) -> DetectorEvaluation:
    harm = _harm(outcome)
    times = outcome.detection_min
    spec = outcome.detector
    method = f"{setup.describe()}; {DETECTION}"
    if spec.kind == "isolation_forest":
        method += (
            f"; the isolation forest of each patient is trained on {setup.training_days} clean "
            "Monte Carlo days (own seeds) of each other patient of the pool"
        )
    return DetectorEvaluation(
        id=stable_id("DE", detector.id, outcome.plan.text),
        status="simulated",
        detector=detector.id,
        kind=spec.kind,
        signal=detector.signal,
        response=spec.response,
        declared_as=detector.status.value,
        settings=dict(spec.settings),
        attack=outcome.plan.text,
        attack_name=outcome.plan.name or None,
        simulator_signal=spec.signal,
        controller=setup.controller,
        patients=list(setup.patients),
        patient_days=outcome.patient_days,
        detected_days=outcome.detected_days,
        detected_during_attack_days=outcome.detected_during_attack,
        detection_rate=round(outcome.detection_rate, 4),
        time_to_detect_median_min=float(np.median(times)) if times else None,
        time_to_detect_max_min=float(max(times)) if times else None,
        false_alarms_per_patient_day=round(outcome.false_alarms_per_patient_day, 4),
        clean_days_with_false_alarm=outcome.clean_days_with_alarm,
        clean_days_harmed_by_response=outcome.clean_days_harmed_by_response,
        patients_harmed_attacked=sum(_worse(row, row.attacked_severity) for row in harm),
        patients_harmed_responded=sum(_worse(row, row.responded_severity) for row in harm),
        harm=harm,
        training_patients={k: list(v) for k, v in outcome.training.items()},
        method=method,
    )


def evaluate_model_detectors(
    model: DeviceModel,
    mapping: ImpactMapping,
    attacks: Sequence[AttackPlan] | None = None,
    *,
    patients: Sequence[str] | None = None,
    days: int = 5,
    seed: int = 1,
    training_days: int = 2,
    progress: Progress | None = None,
) -> list[DetectorEvaluation]:
    """Every detector ``model`` declares against every attack (default: the mapping's
    attacks of the signals the detectors watch), on ``patients`` (default: the mapping's)
    over ``days`` Monte Carlo days each. Detector-major, in the model's order; detectors the
    simulator cannot stand for come first as status "not_simulated"."""
    run = mapping.setup()
    setup = MonteCarloSetup(
        patients=tuple(patients) if patients is not None else run.patients,
        reference=run.scenario,
        controller=run.controller,
        days=days,
        seed=seed,
        training_days=training_days,
        fingerstick=run.fingerstick,
    )
    simulated: list[tuple[Detector, DetectorSpec]] = []
    evaluations: list[DetectorEvaluation] = []
    for detector in model.detectors:
        spec = detector_spec(model, mapping, detector)
        if isinstance(spec, str):
            evaluations.append(
                DetectorEvaluation(
                    id=stable_id("DE", detector.id),
                    status="not_simulated",
                    reason=spec,
                    detector=detector.id,
                    kind=detector.kind.value,
                    signal=detector.signal,
                    response=detector.response.value,
                    declared_as=detector.status.value,
                    settings=detector.settings(),
                )
            )
        else:
            simulated.append((detector, spec))
    if not simulated:
        return evaluations
    plans = (
        list(attacks)
        if attacks is not None
        else mapping_attacks(model, mapping, [d.signal for d, _ in simulated])
    )
    if not plans:
        return evaluations
    outcomes = evaluate_detectors(setup, [s for _, s in simulated], plans, progress=progress)
    by_id = {d.id: d for d, _ in simulated}
    evaluations += [_record(by_id[o.detector.id], o, setup) for o in outcomes]
    return evaluations
