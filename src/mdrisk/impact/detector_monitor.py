"""Declared runtime detectors as a stealth monitor of the worst-case search.

:func:`declared_detectors_monitor` turns detectors a device declares
(:class:`~mdrisk.impact.detectors.DetectorSpec`) into a monitor factory for
:mod:`mdrisk.impact.candidate_runs`: a :class:`~mdrisk.impact.detector_signals.DetectorSignals`
recorder rides in the loop, and after the run each detector's rule
(:func:`~mdrisk.impact.detectors.detector_alarms`) decides where it alarmed. An attack stays
stealthy on a row when no declared detector alarmed there at any time. The learned detector
(``isolation_forest``) needs forests trained per patient and is not supported here.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from mdrisk.impact.candidate_runs import Monitor, MonitorFactory
from mdrisk.impact.detector_signals import DetectorSignals
from mdrisk.impact.detectors import DetectorSpec, detector_alarms
from mdrisk.impact.forecast_model.model import Forecaster
from mdrisk.impact.params import PatientTable

UNSUPPORTED = ("isolation_forest",)


@dataclass(frozen=True, eq=False)
class DetectorReport:
    """Per detector id, whether it alarmed on each row during the run."""

    alarmed: dict[str, np.ndarray]

    @property
    def stealthy(self) -> np.ndarray:
        rows = len(next(iter(self.alarmed.values()))) if self.alarmed else 0
        caught = np.zeros(rows, dtype=bool)
        for mask in self.alarmed.values():
            caught |= mask
        return ~caught

    def tripped(self, row: int) -> list[str]:
        return [name for name, mask in self.alarmed.items() if mask[row]]


class DetectorMonitor:
    """Records what the detectors watch; :meth:`report` applies their rules."""

    def __init__(self, recorder: DetectorSignals, specs: Sequence[DetectorSpec]) -> None:
        self.recorder = recorder
        self.specs = tuple(specs)

    def reset(self, batch_size: int) -> None:
        self.recorder.reset(batch_size)

    def apply(self, signal: str, t_minutes: float, values: np.ndarray) -> np.ndarray:
        return self.recorder.apply(signal, t_minutes, values)

    def report(self) -> DetectorReport:
        series = self.recorder.series()
        return DetectorReport(
            {spec.id: np.asarray(detector_alarms(spec, series).any(axis=1)) for spec in self.specs}
        )


def declared_detectors_monitor(specs: Sequence[DetectorSpec]) -> MonitorFactory:
    """A monitor factory raising the alarms of ``specs``."""
    unsupported = [s.id for s in specs if s.kind in UNSUPPORTED]
    if unsupported:
        raise ValueError(
            f"{', '.join(unsupported)}: learned detectors cannot judge the worst-case search yet"
        )

    def build(patients: PatientTable, sample_time_min: int, forecaster: Forecaster) -> Monitor:
        return DetectorMonitor(DetectorSignals(patients, sample_time_min, forecaster), specs)

    return build
