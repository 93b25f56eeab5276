"""What the attacker at the CGM link controls, and within which limits.

The FDI point is the CGM's Bluetooth link to the app (bgms.yaml ``cgm_to_app``: LE Legacy
pairing, Just Works, no MITM protection). An attacker there forges the readings the app
receives, so it controls the forecaster's CGM-history features (``cgm``, ``delta_15`` ...
``delta_120``, ``slope``) and nothing else: not the carbs, not the insulin on board, not the
therapy settings. Its readings must stay

* within the input's declared range (bgms.yaml: ``cgm_glucose`` ``range: [40, 400]``, the
  same as the ``cgm_range`` detector); outside it the app shows LOW/HIGH and doses nothing;
* within a rate of change between consecutive readings: 4 mg/dL/min when stealthy (faster
  than glucose physiologically moves, see :mod:`mdrisk.impact.stealth`), or the declared
  ``cgm_rate`` detector's threshold (6 mg/dL/min in bgms.yaml) when it only has to avoid that
  alarm.

:func:`cgm_capabilities` gives the variants the experiments compare: no constraint (any
reading, any step), the declared range only, the range and the declared rate detector, and
the range and the physiological rate, and, when the device declares residual CUSUM detectors
(bgms.yaml proposes ``cgm_physiology_cusum`` and ``forecast_monitor``), the same pushing
only while those statistics are near rest (``stealthy``, :data:`STEALTHY_CUSUM_BUDGET`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from mdrisk.model.schema import DetectorKind, DeviceModel

CGM_SIGNAL = "cgm_glucose"
CGM_LINK = "cgm_to_app"
CGM_HISTORY_FEATURES = ("cgm", "delta_15", "delta_30", "delta_60", "delta_120", "slope")
PHYSIOLOGIC_MAX_RATE = 4.0  # mg/dL/min
# The residual a push causes shows 30 minutes (ten readings) later, when the push is done: an
# attacker that stopped at half or a fifth of the threshold raised the CUSUM alarms on as many
# patient-days as one ignoring them (37 % of the 30 patients' reference days; 23 % clean),
# one that pushes only while both statistics are within 5 % of it (15 of 300) on 27 %.
STEALTHY_CUSUM_BUDGET = 0.05
# Without a declared range, readings stay within what a sensor link can carry at all.
UNBOUNDED_LOW, UNBOUNDED_HIGH = 0.0, 1000.0


@dataclass(frozen=True)
class CgmCapability:
    """The forged readings' limits: ``[low, high]`` mg/dL and ``max_rate`` mg/dL/min between
    consecutive readings (``inf``: none)."""

    name: str
    low: float
    high: float
    max_rate: float
    features: tuple[str, ...] = CGM_HISTORY_FEATURES
    link: str = CGM_LINK
    # The attacker also keeps the residual CUSUM detectors (the declared cusum and
    # forecast_residual kinds) below this share of their threshold: it stops pushing a row
    # whose statistic is above it. None: it ignores them.
    cusum_budget: float | None = None

    def step(self, period_min: float) -> float:
        """The largest change between two readings ``period_min`` apart."""
        return self.max_rate * period_min

    def describe(self) -> str:
        rate = "any rate" if math.isinf(self.max_rate) else f"<= {self.max_rate:g} mg/dL/min"
        cusum = (
            ""
            if self.cusum_budget is None
            else f", residual CUSUMs under {100 * self.cusum_budget:g} % of their threshold"
        )
        return f"{self.name}: readings {self.low:g}-{self.high:g} mg/dL, {rate}{cusum}"


def declared_range(device: DeviceModel, signal: str = CGM_SIGNAL) -> tuple[float, float] | None:
    """The range an ML engine's input ``signal`` declares, if any."""
    for component in device.components:
        if component.ml is None:
            continue
        for ml_input in component.ml.inputs:
            if ml_input.signal == signal and ml_input.range is not None:
                return float(ml_input.range[0]), float(ml_input.range[1])
    return None


def declared_max_rate(device: DeviceModel, signal: str = CGM_SIGNAL) -> float | None:
    """The lowest rate threshold of the device's implemented rate detectors on ``signal``."""
    rates = [
        d.settings()["max_per_min"]
        for d in device.detectors
        if d.kind == DetectorKind.rate and d.signal == signal and d.status.value == "implemented"
    ]
    return min(rates) if rates else None


def cgm_capabilities(
    device: DeviceModel, signal: str = CGM_SIGNAL, link: str = CGM_LINK
) -> dict[str, CgmCapability]:
    """The constraint sets compared, from the loosest: ``unconstrained``, ``range``,
    ``detector`` (range and the declared rate detector), ``physiologic`` (range and
    4 mg/dL/min, or the detector's threshold if lower) and ``stealthy`` (physiologic, and the
    residual CUSUMs near rest when it pushes; only with such detectors declared)."""
    low, high = declared_range(device, signal) or (UNBOUNDED_LOW, UNBOUNDED_HIGH)
    detector_rate = declared_max_rate(device, signal)
    out = {
        "unconstrained": CgmCapability(
            "unconstrained", UNBOUNDED_LOW, UNBOUNDED_HIGH, math.inf, link=link
        ),
        "range": CgmCapability("range", low, high, math.inf, link=link),
    }
    if detector_rate is not None:
        out["detector"] = CgmCapability("detector", low, high, detector_rate, link=link)
    physiologic = min(PHYSIOLOGIC_MAX_RATE, detector_rate or math.inf)
    out["physiologic"] = CgmCapability("physiologic", low, high, physiologic, link=link)
    if declares_residual_cusum(device):
        out["stealthy"] = CgmCapability(
            "stealthy", low, high, physiologic, cusum_budget=STEALTHY_CUSUM_BUDGET, link=link
        )
    return out


def declares_residual_cusum(device: DeviceModel) -> bool:
    """Whether the device has (or proposes) a residual CUSUM on the CGM or the forecast."""
    kinds = {DetectorKind.cusum, DetectorKind.forecast_residual}
    return any(d.kind in kinds for d in device.detectors)
