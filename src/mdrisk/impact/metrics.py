"""Harm metrics of a glucose trace, and their mapping to ISO 14971 severity classes.

Metrics (per patient and run), computed from the true glucose (simglucose's BG, mg/dL) at
each sample, every sample standing for ``sample_time`` minutes:

* ``min_bg``, ``max_bg``, ``mean_bg``;
* time below 54 and 70 mg/dL and above 180 and 250 mg/dL (minutes; ``percent_*`` too);
* the longest run of consecutive samples below 70, 54 and 40 mg/dL and above 250 and
  300 mg/dL (minutes): the duration of the worst event. A single sample back across the
  threshold ends a run, which is stricter than the consensus rule (an event ends after 15
  minutes back in range), so event durations are never overstated;
* LBGI and HBGI (Kovatchev): ``f = 1.509 * (ln(BG)^1.084 - 5.381)``, ``r = 10 f^2``;
  LBGI is the mean over all samples of ``r`` where ``f < 0`` (0 elsewhere), HBGI the same
  for ``f > 0``. This is simglucose's ``risk_index`` for one sample and its report's
  ``risk_index_trace`` over a window (simglucose's ``risk_index`` over several samples
  averages over the low, or high, samples only; the standard definition is used here).
  BG is floored at 1 mg/dL for the logarithm;
* the Glycemia Risk Index (Klonoff et al., J Diabetes Sci Technol 2023;17:1226-42):
  ``GRI = 3.0 VLow + 2.4 Low + 1.6 VHigh + 0.8 High``, capped at 100, with VLow = % time
  < 54, Low = % time in [54, 70), VHigh = % time > 250, High = % time in (180, 250].
  Zones: A 0-20, B 20-40, C 40-60, D 60-80, E 80-100.

Severity uses the five-level qualitative scale of ISO 14971's guidance (ISO/TR 24971):
catastrophic (results in patient death), critical (permanent impairment or life-threatening
injury), serious (injury or impairment requiring professional medical intervention), minor
(temporary injury or impairment not requiring professional medical intervention), negligible
(inconvenience or temporary discomfort). The default criteria, :data:`SEVERITY_CRITERIA`,
are data (one record each, with its clinical basis) and a run's class is the worst class any
criterion reaches; a manufacturer with other thresholds passes its own list. Time thresholds
refer to the longest consecutive run, so a run of samples is needed, not one sample.

=====================  ============  =================================================
criterion              class         condition (clinical basis)
=====================  ============  =================================================
HYPO-40-EXTENDED       catastrophic  < 40 mg/dL for >= 120 min. Prolonged profound
                                     hypoglycaemia: seizures, coma, lasting brain
                                     injury, death ("dead-in-bed"); no one recovers
                                     unaided from two hours at this level.
HYPO-40                critical      < 40 mg/dL (2.2 mmol/L) for >= 15 min. Severe
                                     neuroglycopenia (confusion, seizure, loss of
                                     consciousness): a glucose proxy for the level 3
                                     (severe) event, which IHSG/ADA define by its
                                     consequence (another person's help is needed),
                                     not by a threshold; 40 mg/dL is also the lower
                                     reporting limit of most CGMs.
HYPO-54-EXTENDED       critical      < 54 mg/dL for >= 120 min. "Extended
                                     hypoglycaemia" of the CGM consensus for clinical
                                     trials (Battelino et al., Lancet Diabetes
                                     Endocrinol 2023).
HYPER-300-EXTENDED     critical      > 300 mg/dL for >= 240 min. Sustained severe
                                     hyperglycaemia, typically interrupted insulin
                                     delivery in a pump user: ketones rise within
                                     hours and diabetic ketoacidosis needs emergency
                                     treatment.
HYPO-54                serious       < 54 mg/dL (3.0 mmol/L) for >= 15 min. Level 2,
                                     clinically significant hypoglycaemia event (IHSG
                                     2017, ADA Standards of Care, CGM consensus
                                     2019/2023): needs immediate treatment, impairs
                                     cognition and raises the risk of a severe event.
HYPER-250-EXTENDED     serious       > 250 mg/dL for >= 120 min. Persistent level 2
                                     hyperglycaemia: pump users are commonly told to
                                     check ketones and suspect infusion failure after
                                     about 2 h above 250; compare the 2023 consensus's
                                     "extended hyperglycaemia" event.
HYPO-70                minor         < 70 mg/dL (3.9 mmol/L) for >= 15 min. Level 1
                                     hypoglycaemia event: self-treated with fast
                                     carbohydrate, temporary.
HYPER-250              minor         > 250 mg/dL for >= 15 min. Level 2 hyperglycaemia
                                     event: temporary, corrected by the user.
GRI-ZONE-D             minor         GRI >= 60 (zones D and E). Quality of glycaemia
                                     over the run among the worst fifth of CGM users.
(none)                 negligible    no criterion met.
=====================  ============  =================================================

These classes describe the harm of one simulated run. Whether a run's harm is *caused* by
an attack is for the caller to judge by comparing it with the same patient's run without
the attack (a sensitive virtual patient can reach HYPO-70 on an ordinary day).
"""

from __future__ import annotations

import enum
import operator
from collections.abc import Callable, Sequence
from dataclasses import dataclass, fields

import numpy as np

LOW_THRESHOLDS = (70.0, 54.0, 40.0)  # longest runs below these (mg/dL)
HIGH_THRESHOLDS = (250.0, 300.0)  # longest runs above these (mg/dL)
GRI_CAP = 100.0


class Severity(enum.IntEnum):
    """ISO 14971 severity classes, ordered: a larger value is a worse harm."""

    NEGLIGIBLE = 1
    MINOR = 2
    SERIOUS = 3
    CRITICAL = 4
    CATASTROPHIC = 5

    @property
    def label(self) -> str:
        return self.name.lower()


def risk_function(bg: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Kovatchev's low and high risk of each glucose value (mg/dL): ``(rl, rh)``."""
    f = 1.509 * (np.log(np.maximum(bg, 1.0)) ** 1.084 - 5.381)
    r = 10.0 * f * f
    return np.where(f < 0, r, 0.0), np.where(f > 0, r, 0.0)


def glycemia_risk_index(
    vlow_pct: np.ndarray, low_pct: np.ndarray, vhigh_pct: np.ndarray, high_pct: np.ndarray
) -> np.ndarray:
    """GRI from the percentages of time in the four bands (Klonoff 2023), capped at 100."""
    gri = 3.0 * vlow_pct + 2.4 * low_pct + 1.6 * vhigh_pct + 0.8 * high_pct
    return np.minimum(gri, GRI_CAP)


@dataclass(frozen=True, eq=False)
class HarmMetrics:
    """Harm metrics of every row of a batch; each field is a float array of shape (batch,)."""

    sample_time_min: float
    n_samples: int
    min_bg: np.ndarray
    max_bg: np.ndarray
    mean_bg: np.ndarray
    minutes_below_54: np.ndarray
    minutes_below_70: np.ndarray
    minutes_above_180: np.ndarray
    minutes_above_250: np.ndarray
    longest_below_70_min: np.ndarray
    longest_below_54_min: np.ndarray
    longest_below_40_min: np.ndarray
    longest_above_250_min: np.ndarray
    longest_above_300_min: np.ndarray
    lbgi: np.ndarray
    hbgi: np.ndarray

    @property
    def duration_min(self) -> float:
        return self.n_samples * self.sample_time_min

    def percent(self, minutes: np.ndarray) -> np.ndarray:
        return 100.0 * minutes / self.duration_min if self.n_samples else minutes * 0.0

    @property
    def percent_below_54(self) -> np.ndarray:
        return self.percent(self.minutes_below_54)

    @property
    def percent_below_70(self) -> np.ndarray:
        return self.percent(self.minutes_below_70)

    @property
    def percent_above_180(self) -> np.ndarray:
        return self.percent(self.minutes_above_180)

    @property
    def percent_above_250(self) -> np.ndarray:
        return self.percent(self.minutes_above_250)

    @property
    def gri(self) -> np.ndarray:
        """Glycemia Risk Index, 0-100."""
        vlow = self.percent_below_54
        vhigh = self.percent_above_250
        return glycemia_risk_index(
            vlow, self.percent_below_70 - vlow, vhigh, self.percent_above_180 - vhigh
        )

    def row(self, index: int) -> dict[str, float]:
        """One row's metrics as plain floats (with ``gri`` and the percentages)."""
        values = {
            f.name: float(getattr(self, f.name)[index])
            for f in fields(self)
            if f.name not in ("sample_time_min", "n_samples")
        }
        for name in (
            "percent_below_54",
            "percent_below_70",
            "percent_above_180",
            "percent_above_250",
            "gri",
        ):
            values[name] = float(getattr(self, name)[index])
        return values

    def __len__(self) -> int:
        return len(self.min_bg)


class HarmAccumulator:
    """Builds :class:`HarmMetrics` one sample at a time, so no trace need be kept."""

    def __init__(self, size: int, sample_time_min: float) -> None:
        self.sample_time = float(sample_time_min)
        self.n = 0
        self._min = np.full(size, np.inf)
        self._max = np.full(size, -np.inf)
        self._sum = np.zeros(size)
        self._count = {key: np.zeros(size) for key in ("b54", "b70", "a180", "a250")}
        self._run_low = {t: np.zeros(size) for t in LOW_THRESHOLDS}
        self._run_high = {t: np.zeros(size) for t in HIGH_THRESHOLDS}
        self._longest_low = {t: np.zeros(size) for t in LOW_THRESHOLDS}
        self._longest_high = {t: np.zeros(size) for t in HIGH_THRESHOLDS}
        self._rl = np.zeros(size)
        self._rh = np.zeros(size)

    def add(self, bg: np.ndarray) -> None:
        """Add the glucose of every row at one sample (mg/dL, shape ``(batch,)``)."""
        self.n += 1
        np.minimum(self._min, bg, out=self._min)
        np.maximum(self._max, bg, out=self._max)
        self._sum += bg
        self._count["b54"] += bg < 54.0
        self._count["b70"] += bg < 70.0
        self._count["a180"] += bg > 180.0
        self._count["a250"] += bg > 250.0
        for threshold in LOW_THRESHOLDS:
            run = (self._run_low[threshold] + 1.0) * (bg < threshold)
            self._run_low[threshold] = run
            np.maximum(self._longest_low[threshold], run, out=self._longest_low[threshold])
        for threshold in HIGH_THRESHOLDS:
            run = (self._run_high[threshold] + 1.0) * (bg > threshold)
            self._run_high[threshold] = run
            np.maximum(self._longest_high[threshold], run, out=self._longest_high[threshold])
        rl, rh = risk_function(bg)
        self._rl += rl
        self._rh += rh

    def result(self) -> HarmMetrics:
        n = max(self.n, 1)
        dt = self.sample_time
        return HarmMetrics(
            sample_time_min=dt,
            n_samples=self.n,
            min_bg=self._min.copy(),
            max_bg=self._max.copy(),
            mean_bg=self._sum / n,
            minutes_below_54=self._count["b54"] * dt,
            minutes_below_70=self._count["b70"] * dt,
            minutes_above_180=self._count["a180"] * dt,
            minutes_above_250=self._count["a250"] * dt,
            longest_below_70_min=self._longest_low[70.0] * dt,
            longest_below_54_min=self._longest_low[54.0] * dt,
            longest_below_40_min=self._longest_low[40.0] * dt,
            longest_above_250_min=self._longest_high[250.0] * dt,
            longest_above_300_min=self._longest_high[300.0] * dt,
            lbgi=self._rl / n,
            hbgi=self._rh / n,
        )


def glucose_metrics(bg: np.ndarray, sample_time_min: float) -> HarmMetrics:
    """Harm metrics of glucose traces ``bg`` (mg/dL): shape ``(batch, samples)`` or
    ``(samples,)``, one sample every ``sample_time_min`` minutes."""
    trace = np.atleast_2d(np.asarray(bg, dtype=float))
    accumulator = HarmAccumulator(trace.shape[0], sample_time_min)
    for column in trace.T:
        accumulator.add(column)
    return accumulator.result()


_OPERATORS: dict[str, Callable[[np.ndarray, float], np.ndarray]] = {
    ">=": operator.ge,
    ">": operator.gt,
    "<=": operator.le,
    "<": operator.lt,
}


@dataclass(frozen=True)
class SeverityCriterion:
    """One rule: a run whose ``metric`` ``op`` ``threshold`` is at least ``severity``."""

    id: str
    severity: Severity
    metric: str
    op: str
    threshold: float
    basis: str

    def met(self, metrics: HarmMetrics) -> np.ndarray:
        return _OPERATORS[self.op](getattr(metrics, self.metric), self.threshold)


SEVERITY_CRITERIA: tuple[SeverityCriterion, ...] = (
    SeverityCriterion(
        "HYPO-40-EXTENDED",
        Severity.CATASTROPHIC,
        "longest_below_40_min",
        ">=",
        120.0,
        "profound hypoglycaemia (< 40 mg/dL) for 2 h or more: seizures, coma, lasting brain "
        "injury or death",
    ),
    SeverityCriterion(
        "HYPO-40",
        Severity.CRITICAL,
        "longest_below_40_min",
        ">=",
        15.0,
        "glucose < 40 mg/dL (2.2 mmol/L) for 15 min or more: severe neuroglycopenia, the "
        "level 3 event that needs another person's help",
    ),
    SeverityCriterion(
        "HYPO-54-EXTENDED",
        Severity.CRITICAL,
        "longest_below_54_min",
        ">=",
        120.0,
        "extended hypoglycaemia: < 54 mg/dL for 2 h or more (CGM consensus for clinical "
        "trials, 2023)",
    ),
    SeverityCriterion(
        "HYPER-300-EXTENDED",
        Severity.CRITICAL,
        "longest_above_300_min",
        ">=",
        240.0,
        "glucose > 300 mg/dL for 4 h or more: ketoacidosis risk needing emergency care",
    ),
    SeverityCriterion(
        "HYPO-54",
        Severity.SERIOUS,
        "longest_below_54_min",
        ">=",
        15.0,
        "level 2 hypoglycaemia event: < 54 mg/dL (3.0 mmol/L) for 15 min or more (IHSG 2017, "
        "ADA, CGM consensus)",
    ),
    SeverityCriterion(
        "HYPER-250-EXTENDED",
        Severity.SERIOUS,
        "longest_above_250_min",
        ">=",
        120.0,
        "persistent level 2 hyperglycaemia: > 250 mg/dL for 2 h or more (ketone check, "
        "suspected infusion failure)",
    ),
    SeverityCriterion(
        "HYPO-70",
        Severity.MINOR,
        "longest_below_70_min",
        ">=",
        15.0,
        "level 1 hypoglycaemia event: < 70 mg/dL (3.9 mmol/L) for 15 min or more, self-treated",
    ),
    SeverityCriterion(
        "HYPER-250",
        Severity.MINOR,
        "longest_above_250_min",
        ">=",
        15.0,
        "level 2 hyperglycaemia event: > 250 mg/dL for 15 min or more",
    ),
    SeverityCriterion(
        "GRI-ZONE-D",
        Severity.MINOR,
        "gri",
        ">=",
        60.0,
        "Glycemia Risk Index zone D or E over the run",
    ),
)


@dataclass(frozen=True)
class HarmAssessment:
    """The severity class of one run and the criteria that put it there (worst first)."""

    severity: Severity
    criteria: tuple[str, ...]


def assess_severity(
    metrics: HarmMetrics, criteria: Sequence[SeverityCriterion] = SEVERITY_CRITERIA
) -> list[HarmAssessment]:
    """The severity of every row: the worst class among the criteria it meets."""
    met = [(c, c.met(metrics)) for c in sorted(criteria, key=lambda c: -c.severity)]
    assessments = []
    for row in range(len(metrics)):
        hits = [c for c, mask in met if mask[row]]
        severity = hits[0].severity if hits else Severity.NEGLIGIBLE
        assessments.append(HarmAssessment(severity=severity, criteria=tuple(c.id for c in hits)))
    return assessments
