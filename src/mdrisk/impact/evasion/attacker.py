"""The evasion attacker at the CGM link, inside the closed loop.

Each CGM reading passes the attacker on its way to the app (the ``cgm`` signal tap, so the
stealth monitor and the detectors see what the app receives). The attacker knows the
forecaster (white box: the model file ships in the app and its updates are unsigned) and, as
a worst case, the app's other inputs (insulin on board, when the advisor last dosed); it
assumes no carbs are being entered now (it cannot see the phone's screen).

Its goal is the advisor's correction bolus between meals: a forecast above
``correction_above`` (200 mg/dL) when no bolus was given for ``correction_interval_min``
(180 min) doses ``(forecast - target) / CF - insulin on board``. Inside the attack window,
from ``lead_min`` before the advisor would accept such a correction, at every reading it
chooses **the smallest change of the reading it forwards that puts the forecast the app will
compute at or above the threshold** (``threshold + margin``), among readings allowed by its
capability (range; rate against the reading it forwarded last). When no allowed reading
does, it forwards the highest allowed one, so the forged trace ramps up at the rate limit.
Outside those times it steers back to the true reading as fast as the rate allows, and once
it has reached it, forwards readings unchanged.

Why a search over one number, not a library attack: the app's history is what the attacker
already forwarded, so at each reading only the newest one is free, and the forecast is a
piecewise-constant function of it (trees). An exhaustive search over the allowed interval
(``resolution`` mg/dL apart, every row of the batch in one prediction) finds the smallest
change exactly up to the resolution, with a known number of model queries; a gradient is
zero almost everywhere, and a decision-based attack (ART's HopSkipJump, used offline in
:mod:`mdrisk.impact.evasion.offline` where the whole window is free) would need hundreds of
queries per reading for what a 25-point grid settles.

How a reading reaches the features: simglucose's app sees the mean over the period of the
held reading, ``((S - 1) * previous + new) / S``; a change ``d`` of the new reading moves the
newest history value by ``d / S`` (so ``cgm`` and every ``delta_*`` by ``d / S`` and
``slope`` by ``d / S**2``). The run must have no fingerstick calibration (which would shift
what the app holds by an offset the attacker does not model).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from mdrisk.impact.controllers.ml_advised import MLAdvisedController
from mdrisk.impact.evasion.capability import CgmCapability
from mdrisk.impact.evasion.models import HeldOutModels, row_folds
from mdrisk.impact.fdi_signals import FORECAST
from mdrisk.impact.forecast_model.features import CGM_HISTORY_MIN, FEATURE_NAMES
from mdrisk.impact.taps import CARBS, CGM

STEP_MARGIN = 1e-6  # mg/dL


@dataclass(frozen=True)
class EvasionGoal:
    """What the attacker aims at, and when."""

    threshold: float = 200.0  # the advisor's correction_above, mg/dL
    margin: float = 1.0  # mg/dL beyond the threshold, against rounding
    start_min: float = 8 * 60.0  # the attack window, as the bias attacks of glucose-impact.yaml
    end_min: float = 14 * 60.0
    # Start building the offset this long before a correction is due. 0: only at the
    # decision points themselves (the smallest perturbation; a push the rate limit does not
    # allow at once ramps over the next decision points).
    lead_min: float = 0.0
    resolution: float = 1.0  # mg/dL between candidate readings
    max_candidates: int = 201  # per row and reading (an unbounded step is searched coarser)

    def in_window(self, t: float) -> bool:
        return self.start_min <= t % 1440.0 < self.end_min


def _history_direction(period: float) -> np.ndarray:
    """How the feature row moves per mg/dL of change of the newest reading."""
    direction = np.zeros(len(FEATURE_NAMES))
    for name in ("cgm", "delta_15", "delta_30", "delta_60", "delta_120"):
        direction[FEATURE_NAMES.index(name)] = 1.0 / period
    direction[FEATURE_NAMES.index("slope")] = 1.0 / period**2
    return direction


@dataclass
class _Record:
    """What happened at the decision points (eligible, no meal, in the window) of each row."""

    decisions: np.ndarray
    pushed: np.ndarray  # decisions at which the forecast was at or above the threshold
    queries: np.ndarray  # forecaster rows evaluated for this row
    # per pushed decision: the row, |offset| of the newest reading, and the largest |offset|
    # over the history window the forecaster reads (the perturbation of its CGM history)
    decision_rows: list[np.ndarray]
    newest_offset: list[np.ndarray]
    window_offset: list[np.ndarray]

    def offsets(self, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """``(newest, window)`` |offsets| at the pushed decisions of ``rows`` (mg/dL)."""
        if not self.decision_rows:
            return np.zeros(0), np.zeros(0)
        where = np.isin(np.concatenate(self.decision_rows), rows)
        return (
            np.concatenate(self.newest_offset)[where],
            np.concatenate(self.window_offset)[where],
        )


class EvasionAttacker:
    """A signal tap: the attacker on the rows given, each with its capability.

    ``blocks``: ``(rows, capability)`` pairs (rows of the batch); other rows pass unchanged.
    ``row_patients``: every batch row's patient (for the held-out model of its fold).
    ``cusum``: the residual CUSUM statistics of every row now (the stealth monitor's), for
    capabilities with a ``cusum_budget`` of ``cusum_threshold``.
    """

    def __init__(
        self,
        controller: MLAdvisedController,
        models: HeldOutModels,
        row_patients: Sequence[str],
        blocks: Sequence[tuple[np.ndarray, CgmCapability]],
        period_min: int,
        goal: EvasionGoal = EvasionGoal(),
        cusum: Callable[[], np.ndarray] | None = None,
        cusum_threshold: float = 300.0,
    ) -> None:
        self.controller = controller
        self.models = models
        self.folds = row_folds(row_patients)
        self.goal = goal
        self.period = float(period_min)
        size = len(row_patients)
        self.attacked = np.zeros(size, dtype=bool)
        self.low = np.full(size, -np.inf)
        self.high = np.full(size, np.inf)
        self.step = np.full(size, np.inf)
        # Per row, the CUSUM level above which the attacker does not push (inf: no guard).
        self.cusum_limit = np.full(size, np.inf)
        self.cusum = cusum
        for rows, capability in blocks:
            self.attacked[rows] = True
            self.low[rows] = capability.low
            self.high[rows] = capability.high
            # A hair inside the limit: a step of exactly the limit could read as faster than
            # it once the detector divides by the period.
            self.step[rows] = capability.step(self.period) - STEP_MARGIN
            if capability.cusum_budget is not None:
                if cusum is None:
                    raise ValueError(f"{capability.name}: a CUSUM budget needs the statistics")
                self.cusum_limit[rows] = capability.cusum_budget * cusum_threshold
        self._direction = _history_direction(self.period)
        self.reset(size)

    def reset(self, batch_size: int) -> None:
        if batch_size != len(self.attacked):
            raise ValueError(
                f"the attacker was built for {len(self.attacked)} rows, not {batch_size}"
            )
        self._sent = np.full(batch_size, np.nan)  # the reading forwarded last
        self._offset = np.zeros(batch_size)
        self._carbs = np.zeros(batch_size)
        self.true_readings: list[np.ndarray] = []
        self.sent_readings: list[np.ndarray] = []
        self.touched: list[np.ndarray] = []
        self.record = _Record(
            decisions=np.zeros(batch_size, dtype=int),
            pushed=np.zeros(batch_size, dtype=int),
            queries=np.zeros(batch_size, dtype=int),
            decision_rows=[],
            newest_offset=[],
            window_offset=[],
        )

    def apply(self, signal: str, t_minutes: float, values: np.ndarray) -> np.ndarray:
        if signal == CGM:
            return self._reading(float(t_minutes), np.asarray(values, dtype=float))
        if signal == CARBS:
            self._carbs = np.asarray(values, dtype=float)
        elif signal == FORECAST:
            self._decision(float(t_minutes), np.asarray(values, dtype=float))
        return values

    def _eligible(self, t: float, lead: float = 0.0) -> np.ndarray:
        since = t - self.controller.last_bolus_min
        return since >= self.controller.correction_interval_min - lead

    def _decision(self, t: float, forecast: np.ndarray) -> None:
        if not self.goal.in_window(t):
            return
        rows = self.attacked & self._eligible(t) & (self._carbs <= 0)
        pushed = rows & (forecast >= self.goal.threshold)
        self.record.decisions += rows
        self.record.pushed += pushed
        chosen = np.flatnonzero(pushed)
        window = CGM_HISTORY_MIN // int(self.period) + 1
        recent = np.abs(
            np.stack(self.sent_readings[-window:], axis=1)[chosen]
            - np.stack(self.true_readings[-window:], axis=1)[chosen]
        )
        self.record.decision_rows.append(chosen)
        self.record.newest_offset.append(np.abs(self._offset[chosen]))
        self.record.window_offset.append(recent.max(axis=1))

    def _reading(self, t: float, reading: np.ndarray) -> np.ndarray:
        sent = reading.copy()
        if t > 0 and self.attacked.any():
            previous = self._sent
            lo = np.maximum(self.low, previous - self.step) - reading
            hi = np.minimum(self.high, previous + self.step) - reading
            active = self.attacked & self._eligible(t, self.goal.lead_min)
            active &= self.goal.in_window(t)
            if self.cusum is not None:
                active &= self.cusum() <= self.cusum_limit
            returning = self.attacked & ~active & (self._offset != 0.0)
            offset = np.zeros(len(reading))
            offset[returning] = np.clip(0.0, lo[returning], hi[returning])
            rows = np.flatnonzero(active)
            if len(rows):
                offset[rows] = self._smallest_push(rows, reading, previous, lo, hi)
            touched = active | returning
            sent[touched] = reading[touched] + offset[touched]
            self._offset = np.where(touched, offset, 0.0)
            self.touched.append(touched)
        else:
            self.touched.append(np.zeros(len(reading), dtype=bool))
        self.true_readings.append(reading)
        self.sent_readings.append(sent)
        self._sent = sent
        return sent

    def _smallest_push(
        self,
        rows: np.ndarray,
        reading: np.ndarray,
        previous: np.ndarray,
        lo: np.ndarray,
        hi: np.ndarray,
    ) -> np.ndarray:
        """Per row of ``rows``: the smallest allowed offset putting the forecast past the
        threshold, else the highest allowed one."""
        goal = self.goal
        builder = self.controller.feature_builder
        observed = ((self.period - 1.0) * previous + reading) / self.period
        iob = builder.insulin_on_board()
        base = builder.preview(observed, np.zeros(len(reading)), iob)[rows]
        lo, hi = lo[rows], hi[rows]
        span = np.where(np.isfinite(hi - lo), hi - lo, 0.0)
        count = int(min(goal.max_candidates, np.ceil(span.max() / goal.resolution) + 1))
        grid = np.linspace(0.0, 1.0, max(count, 2))
        candidates = lo[:, None] + span[:, None] * grid[None, :]  # (rows, count)
        candidates = np.concatenate([candidates, np.clip(0.0, lo, hi)[:, None]], axis=1)
        features = base[:, None, :] + candidates[:, :, None] * self._direction[None, None, :]
        folds = np.repeat(self.folds[rows], candidates.shape[1])
        forecast = self.models.predict(features.reshape(-1, features.shape[2]), folds)
        forecast = forecast.reshape(candidates.shape)
        self.record.queries[rows] += candidates.shape[1]
        reaching = forecast >= goal.threshold + goal.margin
        size = np.where(reaching, np.abs(candidates), np.inf)
        best = np.argmin(size, axis=1)
        chosen = candidates[np.arange(len(rows)), best]
        return np.where(np.isfinite(size.min(axis=1)), chosen, hi)

    def traces(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """``(true, sent, touched)`` readings, each ``(rows, readings)``, in reading order."""
        return (
            np.stack(self.true_readings, axis=1),
            np.stack(self.sent_readings, axis=1),
            np.stack(self.touched, axis=1),
        )
