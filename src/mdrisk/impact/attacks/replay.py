"""Replay: the receiver gets, instead of the current value, the one sent a fixed time earlier
(recorded packets played back: a delayed or stale signal that still looks alive). A sporadic
reading (a fingerstick) arrives ``lag`` late: the app gets it then, in place of any new one."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from mdrisk.impact.attacks.base import Attack, AttackContext, duration_minutes
from mdrisk.impact.fdi_signals import EVENT_SIGNALS, READING_SIGNALS


class Replay(Attack):
    family = "replay"
    summary = "replaces the signal with its own honest values from a fixed time earlier"
    param_example = "30min"

    @classmethod
    def parse_param(cls, text: str) -> dict[str, float]:
        return {"lag_min": duration_minutes(text, "the replay delay")}

    @classmethod
    def format_param(cls, params: Mapping[str, float]) -> str:
        return f"{params['lag_min']:g}min"

    def reset(self, context: AttackContext) -> None:
        super().reset(context)
        self._times: list[float] = []
        self._values: list[np.ndarray] = []

    def transform(self, t: float, values: np.ndarray, active: np.ndarray) -> np.ndarray:
        lag = self.param("lag_min")
        self._times.append(float(t))
        self._values.append(np.array(values, dtype=float))
        # Keep what the longest delay can still ask for.
        keep = float(np.max(lag)) + 2.0 * self.context.sample_time_min
        while len(self._times) > 2 and self._times[1] <= t - keep:
            self._times.pop(0)
            self._values.pop(0)
        times = np.asarray(self._times)
        wanted = np.broadcast_to(t - lag, values.shape)
        index = np.searchsorted(times, wanted + 1e-9, side="right") - 1
        history = np.stack(self._values)
        replayed = history[np.clip(index, 0, None), np.arange(values.shape[0])]
        if self.signal in EVENT_SIGNALS:
            # Before the first message there was nothing to replay: no entry, no dose.
            replayed = np.where(index < 0, 0.0, replayed)
        elif self.signal in READING_SIGNALS:
            replayed = np.where(index < 0, np.nan, replayed)
        return replayed
