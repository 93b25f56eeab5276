"""The forecaster's inputs, built online one control period at a time for a whole batch.

The glucose forecaster of the reference device (examples/bgms.yaml) takes the last two hours
of CGM readings, the carbohydrate entries of the last three hours and the insulin on board.
:class:`FeatureBuilder` keeps those histories for every row of a batch and turns them into
one feature row per patient and period:

=========================  ===================================================================
feature                    meaning
=========================  ===================================================================
``cgm``                    the CGM value the controller sees now (mg/dL)
``delta_15`` ... ``_120``  now minus 15, 30, 60 and 120 minutes ago (mg/dL)
``slope``                  change over the last control period, per minute (mg/dL/min)
``cob``                    carbohydrate on board (g, linear absorption over 3 h)
``carbs_30``               carbohydrate entered in the last 30 minutes (g)
``carb_effect``            ``cob * CF / CR``: the glucose rise the carbs on board stand for
``iob``                    insulin on board (U), as the forecaster is given it
``insulin_effect``         ``iob * CF``: the glucose fall the insulin on board stands for
``iob_change_15``          ``(iob - iob 15 minutes ago) * CF``: insulin arriving or leaving
``cf``, ``cr``             the patient's correction factor and carb ratio (therapy settings)
=========================  ===================================================================

The order of one period, as the ML-advised controller uses it: :meth:`observe` the CGM value
and carbs; :meth:`insulin_on_board` from the doses recorded so far; :meth:`features` with
the insulin on board the forecaster is given (which an attacker may have falsified);
then, once the controller has decided, :meth:`record_insulin`.

Insulin on board counts boluses and basal above or below the patient's programmed basal,
so a suspension makes it negative, as in Loop and oref0.
"""

from __future__ import annotations

import copy

import numpy as np

from mdrisk.impact.forecast_model.curves import (
    CARB_ABSORPTION_MIN,
    INSULIN_DURATION_MIN,
    cob_fraction,
    history_weights,
    iob_fraction,
)
from mdrisk.impact.params import PatientTable

CGM_HISTORY_MIN = 120
DELTA_LAGS_MIN = (15, 30, 60, 120)
RECENT_CARBS_MIN = 30
IOB_CHANGE_MIN = 15

FEATURE_NAMES: tuple[str, ...] = (
    "cgm",
    "delta_15",
    "delta_30",
    "delta_60",
    "delta_120",
    "slope",
    "cob",
    "carbs_30",
    "carb_effect",
    "iob",
    "insulin_effect",
    "iob_change_15",
    "cf",
    "cr",
)


def check_sample_time(sample_time_min: int) -> None:
    """The feature lags are whole multiples of 15 minutes, so the period must divide 15."""
    if sample_time_min < 1 or 15 % sample_time_min:
        raise ValueError(
            f"the forecaster's features need a CGM sample time that divides 15 minutes "
            f"(got {sample_time_min} min)"
        )


class _History:
    """The last ``length`` values of every row, in a ring (no copying as time moves on)."""

    def __init__(self, size: int, length: int) -> None:
        self.values = np.zeros((size, length))
        self.length = length
        self.head = 0  # column of the newest value

    def fill(self, values: np.ndarray) -> None:
        self.values[:] = np.asarray(values, dtype=float)[:, None]

    def push(self, values: np.ndarray) -> None:
        self.head = (self.head + 1) % self.length
        self.values[:, self.head] = values

    def copy(self) -> _History:
        twin = _History.__new__(_History)
        twin.values, twin.length, twin.head = self.values.copy(), self.length, self.head
        return twin

    def ago(self, periods: int) -> np.ndarray:
        """The values ``periods`` pushes ago (0: the newest)."""
        return self.values[:, (self.head - periods) % self.length]

    def weighted(self, weights: np.ndarray) -> np.ndarray:
        """``sum_j weights[j] * ago(j)`` for every row."""
        return self.values @ weights[(self.head - np.arange(self.length)) % self.length]

    def newest(self, count: int) -> np.ndarray:
        """Sum of the ``count`` newest values of every row."""
        columns = (self.head - np.arange(count)) % self.length
        return self.values[:, columns].sum(axis=1)


class FeatureBuilder:
    """Histories of CGM, carbs and insulin for a batch, and the features they give."""

    def __init__(self, patients: PatientTable, sample_time_min: int) -> None:
        check_sample_time(sample_time_min)
        size = len(patients)
        self.size = size
        self.period = int(sample_time_min)
        self.cf = np.asarray(patients.params["CF"], dtype=float)
        self.cr = np.asarray(patients.params["CR"], dtype=float)
        self.nominal_basal = np.asarray(patients.basal_u_per_min, dtype=float)
        self._cgm = _History(size, CGM_HISTORY_MIN // self.period + 1)
        self._started = False
        self._iob_weights = history_weights(iob_fraction, self.period, INSULIN_DURATION_MIN)
        self._doses = _History(size, len(self._iob_weights))
        # A carb entry seen now was entered during the period that just ended.
        self._cob_weights = history_weights(
            cob_fraction, self.period, CARB_ABSORPTION_MIN, offset_periods=0.0
        )
        self._carbs = _History(size, len(self._cob_weights))
        self._recent = int(np.ceil(RECENT_CARBS_MIN / self.period))
        self._iob_seen = _History(size, IOB_CHANGE_MIN // self.period + 1)
        self._iob_started = False

    def observe(self, cgm: np.ndarray, carbs: np.ndarray) -> None:
        """The CGM value (mg/dL) and carbs entered (g) the controller sees at a period start."""
        cgm = np.asarray(cgm, dtype=float)
        if not self._started:
            # Before the run the patient is taken to have been steady at the first value.
            self._cgm.fill(cgm)
            self._started = True
        else:
            self._cgm.push(cgm)
        self._carbs.push(np.asarray(carbs, dtype=float))

    def insulin_on_board(self) -> np.ndarray:
        """Insulin on board (U) from the doses recorded so far."""
        return self._doses.weighted(self._iob_weights)

    def features(self, iob: np.ndarray) -> np.ndarray:
        """The feature rows ``(batch, len(FEATURE_NAMES))`` now, with ``iob`` as given."""
        iob = np.asarray(iob, dtype=float)
        if not self._iob_started:
            self._iob_seen.fill(iob)
            self._iob_started = True
        else:
            self._iob_seen.push(iob)
        g = self._cgm
        now = g.ago(0)
        out = np.empty((self.size, len(FEATURE_NAMES)))
        out[:, 0] = now
        for column, lag in enumerate(DELTA_LAGS_MIN, start=1):
            out[:, column] = now - g.ago(lag // self.period)
        out[:, 5] = (now - g.ago(1)) / self.period
        cob = self._carbs.weighted(self._cob_weights)
        out[:, 6] = cob
        out[:, 7] = self._carbs.newest(self._recent)
        out[:, 8] = cob * self.cf / self.cr
        out[:, 9] = iob
        out[:, 10] = iob * self.cf
        out[:, 11] = (iob - self._iob_seen.ago(self._iob_seen.length - 1)) * self.cf
        out[:, 12] = self.cf
        out[:, 13] = self.cr
        return out

    def preview(self, cgm: np.ndarray, carbs: np.ndarray, iob: np.ndarray) -> np.ndarray:
        """The feature rows :meth:`observe` then :meth:`features` would give now, without
        changing the histories (what an attacker who knows the app's state can compute
        before choosing the reading it sends)."""
        twin = copy.copy(self)
        twin._cgm = self._cgm.copy()
        twin._carbs = self._carbs.copy()
        twin._iob_seen = self._iob_seen.copy()
        twin.observe(cgm, carbs)
        return twin.features(iob)

    def record_insulin(self, basal: np.ndarray, bolus: np.ndarray) -> None:
        """The basal and bolus rates (U/min) decided for the period that starts now."""
        net = (
            np.asarray(basal, dtype=float) - self.nominal_basal + np.asarray(bolus, dtype=float)
        ) * self.period
        self._doses.push(net)
