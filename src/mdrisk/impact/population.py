"""Harm of an attack over Monte Carlo days: per patient, and over a population and its cohorts.

Each simulated row is one patient on one day, attacked against the same day clean
(:class:`~mdrisk.impact.harm.PatientHarm`). Per patient the days are summed up as means and
worst days; over a group of patients (everyone, or one cohort: adults, adolescents,
children) the patient-days give a distribution (median, 95th percentile, worst) of the harm
metrics and of their change under attack.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from mdrisk.assessment.impact import ImpactPatient, ImpactPopulation, Spread
from mdrisk.impact.harm import REPORTED_METRICS, PatientHarm
from mdrisk.impact.metrics import Severity

# The harm metrics whose worst day and distribution are kept (the mean has no harmful side).
HARM_METRICS = tuple(name for name in REPORTED_METRICS if name != "mean_bg")
LOWER_IS_WORSE = frozenset({"min_bg"})
EVERYONE = "all"


def cohort_of(patient: str) -> str:
    """``adult`` for ``adult#001``."""
    return patient.partition("#")[0]


@dataclass(frozen=True)
class DayOutcome:
    """One patient-day: the harm of the attack and whether the attacked run went unnoticed."""

    harm: PatientHarm
    stealthy: bool
    alarms: tuple[str, ...]


def _worst(name: str, values: np.ndarray) -> float:
    return float(values.min() if name in LOWER_IS_WORSE else values.max())


def _spread(name: str, values: np.ndarray) -> Spread:
    lower = name in LOWER_IS_WORSE
    return Spread(
        median=round(float(np.median(values)), 2),
        p95=round(float(np.percentile(values, 5 if lower else 95)), 2),
        worst=round(_worst(name, values), 2),
    )


def _label(severity: Severity | None) -> str | None:
    return severity.label if severity is not None else None


def patient_record(outcomes: Sequence[DayOutcome]) -> ImpactPatient:
    """One patient's days (at least one) summed up; see :class:`ImpactPatient`."""
    harms = [o.harm for o in outcomes]
    patient = harms[0].patient

    def column(side: str, name: str) -> np.ndarray:
        return np.array([getattr(h, side)[name] for h in harms], dtype=float)

    def means(side: str) -> dict[str, float]:
        return {n: round(float(column(side, n).mean()), 2) for n in REPORTED_METRICS}

    def worst(side: str) -> dict[str, float]:
        return {n: round(_worst(n, column(side, n)), 2) for n in HARM_METRICS}

    induced = [h.induced_severity for h in harms if h.induced_severity is not None]
    new_criteria = dict.fromkeys(c for h in harms for c in h.new_criteria)
    alarms = dict.fromkeys(a for o in outcomes for a in o.alarms)
    return ImpactPatient(
        patient=patient,
        clean=means("clean"),
        attacked=means("attacked"),
        clean_severity=max(h.clean_severity.severity for h in harms).label,
        attacked_severity=max(h.attacked_severity.severity for h in harms).label,
        induced_severity=_label(max(induced)) if induced else None,
        new_criteria=list(new_criteria),
        stealthy=all(o.stealthy for o in outcomes),
        alarms=list(alarms),
        cohort=cohort_of(patient),
        days=len(harms),
        harmed_days=len(induced),
        harmed_share=round(len(induced) / len(harms), 4),
        stealthy_days=sum(o.stealthy for o in outcomes),
        clean_worst=worst("clean"),
        attacked_worst=worst("attacked"),
    )


def population_record(group: str, outcomes: Sequence[DayOutcome]) -> ImpactPopulation:
    """The distribution over the patient-days of ``group`` (at least one)."""
    harms = [o.harm for o in outcomes]
    induced = [h.induced_severity for h in harms if h.induced_severity is not None]
    attacked, delta = {}, {}
    for name in HARM_METRICS:
        values = np.array([h.attacked[name] for h in harms], dtype=float)
        changes = values - np.array([h.clean[name] for h in harms], dtype=float)
        attacked[name] = _spread(name, values)
        delta[name] = _spread(name, changes)
    return ImpactPopulation(
        group=group,
        patients=len({h.patient for h in harms}),
        patients_harmed=len({h.patient for h in harms if h.induced_severity is not None}),
        patient_days=len(harms),
        patient_days_harmed=len(induced),
        worst_induced_severity=_label(max(induced)) if induced else None,
        attacked=attacked,
        delta=delta,
    )


def summarise(outcomes: Sequence[DayOutcome]) -> tuple[list[ImpactPatient], list[ImpactPopulation]]:
    """Per-patient records (in order of first appearance) and the population records:
    everyone first, then each cohort present, in order of first appearance."""
    by_patient: dict[str, list[DayOutcome]] = {}
    by_cohort: dict[str, list[DayOutcome]] = {}
    for outcome in outcomes:
        by_patient.setdefault(outcome.harm.patient, []).append(outcome)
        by_cohort.setdefault(cohort_of(outcome.harm.patient), []).append(outcome)
    patients = [patient_record(days) for days in by_patient.values()]
    population = [population_record(EVERYONE, outcomes)]
    population += [population_record(group, days) for group, days in by_cohort.items()]
    return patients, population
