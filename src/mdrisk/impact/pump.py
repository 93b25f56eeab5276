"""An insulin pump for a batch: simglucose's InsulinPump, vectorised.

A command in U/min is converted to pmol/min (x 6000), rounded to the pump's increment
(``numpy.round``: halves go to the even neighbour, as in simglucose), converted back, then
limited to ``[min, max]`` (upper limit first, as simglucose does).
"""

from __future__ import annotations

import numpy as np

from mdrisk.impact.params import PumpSpec

U_TO_PMOL = 6000.0  # simglucose InsulinPump.U2PMOL


class InsulinPump:
    """Turns basal and bolus commands (U/min, shape ``(batch,)``) into delivered insulin."""

    def __init__(self, spec: PumpSpec) -> None:
        self.spec = spec

    @staticmethod
    def _quantise(amount: np.ndarray, increment: float, low: float, high: float) -> np.ndarray:
        pmol = np.round(np.asarray(amount, dtype=float) * U_TO_PMOL / increment) * increment
        delivered = pmol / U_TO_PMOL
        return np.maximum(np.minimum(delivered, high), low)

    def basal(self, amount: np.ndarray) -> np.ndarray:
        """Basal rate delivered for a commanded basal rate (U/min)."""
        s = self.spec
        return self._quantise(amount, s.inc_basal, s.min_basal, s.max_basal)

    def bolus(self, amount: np.ndarray) -> np.ndarray:
        """Bolus rate delivered for a commanded bolus rate (U/min)."""
        s = self.spec
        return self._quantise(amount, s.inc_bolus, s.min_bolus, s.max_bolus)
