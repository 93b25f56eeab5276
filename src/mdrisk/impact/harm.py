"""Attack-induced harm: an attacked run against the same patient's clean run.

Some virtual patients reach a harmful class on an ordinary day (a sensitive child can spend
hours below 54 mg/dL with no attack at all), so the harm of an attack is never the attacked
run's severity alone. Per patient:

* the metrics of both runs and their difference (attacked minus clean);
* both runs' ISO 14971 severity classes (:func:`mdrisk.impact.metrics.assess_severity`);
* the **attack-induced severity**: the attacked run's class when it is worse than the clean
  run's, else ``None`` (the attack made the day no worse in class, whatever the numbers did),
  and the severity criteria the attack newly met.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from mdrisk.impact.metrics import HarmAssessment, HarmMetrics, Severity, assess_severity

if TYPE_CHECKING:
    import numpy as np

DELTA_METRICS = (
    "min_bg",
    "max_bg",
    "mean_bg",
    "minutes_below_54",
    "minutes_below_70",
    "minutes_above_180",
    "minutes_above_250",
    "longest_below_54_min",
    "lbgi",
    "hbgi",
    "gri",
)
# What findings and tables report of a run: every compared metric but the maximum.
REPORTED_METRICS = tuple(name for name in DELTA_METRICS if name != "max_bg")


@dataclass(frozen=True)
class PatientHarm:
    """One patient's clean and attacked runs compared."""

    patient: str
    clean: dict[str, float]
    attacked: dict[str, float]
    clean_severity: HarmAssessment
    attacked_severity: HarmAssessment

    @property
    def delta(self) -> dict[str, float]:
        return {name: self.attacked[name] - self.clean[name] for name in DELTA_METRICS}

    @property
    def induced_severity(self) -> Severity | None:
        worse = self.attacked_severity.severity > self.clean_severity.severity
        return self.attacked_severity.severity if worse else None

    @property
    def new_criteria(self) -> tuple[str, ...]:
        before = set(self.clean_severity.criteria)
        return tuple(c for c in self.attacked_severity.criteria if c not in before)


def compare_runs(
    patients: tuple[str, ...], clean: HarmMetrics, attacked: HarmMetrics
) -> list[PatientHarm]:
    """Row ``i`` of ``attacked`` against row ``i`` of ``clean`` (same patient)."""
    if len(clean) != len(attacked) or len(patients) != len(clean):
        raise ValueError("clean, attacked and patients must have one row per patient")
    clean_classes = assess_severity(clean)
    attacked_classes = assess_severity(attacked)
    return [
        PatientHarm(
            patient=name,
            clean=clean.row(i),
            attacked=attacked.row(i),
            clean_severity=clean_classes[i],
            attacked_severity=attacked_classes[i],
        )
        for i, name in enumerate(patients)
    ]


def take_rows(metrics: HarmMetrics, rows: np.ndarray) -> HarmMetrics:
    """The metrics of some rows of a batch, in the order given."""
    values = {}
    for name in HarmMetrics.__dataclass_fields__:
        value = getattr(metrics, name)
        values[name] = value if name in ("sample_time_min", "n_samples") else value[rows]
    return HarmMetrics(**values)
