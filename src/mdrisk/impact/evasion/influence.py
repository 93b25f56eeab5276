"""Signed influence of each model input, measured from the trained model.

The device model declares, for each input of its ML engine, whether a higher value raises or
lowers the output (``effect:``); STPA's signed-influence walk (:mod:`mdrisk.stpa.signed`)
derives the direction of every manipulation from those declarations. Here the direction is
measured instead: for each input the forecaster's rows over the evaluation data are moved as a
higher value of that input would move them, and the mean forecast is followed along the move
(partial dependence). A curve that only rises is ``increases``, only falls ``decreases``,
rises and falls by more than ``tolerance`` of each other ``non_monotonic``, barely moves
``unknown``.

How a higher value of each input moves the feature row (:data:`PROBES`):

* ``cgm_glucose``: every reading of the history higher by the same amount (``cgm`` up,
  every ``delta_*`` and ``slope`` unchanged): what "the readings overstate glucose" means;
  two more probes, reported but not decisive, move only the newest reading (the trend
  steepens) or only the reading two hours ago (the trend flattens);
* ``fingerstick_glucose``: the app calibrates the CGM with it, so a higher meter reading
  shifts the readings from its time on: the newest history value up (``cgm``, every
  ``delta_*``, and ``slope`` by ``1/S`` per mg/dL);
* ``carb_entry``: grams entered in the last period (``cob``, ``carbs_30`` and
  ``carb_effect = cob * CF / CR``);
* ``insulin_on_board``: units on board now (``iob``, ``insulin_effect`` and
  ``iob_change_15``, both times ``CF``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

import numpy as np

from mdrisk.impact.evasion.models import HeldOutModels, row_folds
from mdrisk.impact.forecast_model.features import FEATURE_NAMES
from mdrisk.impact.forecasting.training import TrainingData
from mdrisk.model.schema import DeviceModel, Effect

PERIOD_MIN = 3.0  # the Dexcom sample time the forecaster's features are built at
_COLUMN = {name: i for i, name in enumerate(FEATURE_NAMES)}


def _unit(
    *names: str, scale: Mapping[str, float] | None = None
) -> Callable[[np.ndarray], np.ndarray]:
    def move(rows: np.ndarray) -> np.ndarray:
        out = np.zeros_like(rows)
        for name in names:
            out[:, _COLUMN[name]] = (scale or {}).get(name, 1.0)
        return out

    return move


def _carbs(rows: np.ndarray) -> np.ndarray:
    out = np.zeros_like(rows)
    out[:, _COLUMN["cob"]] = 1.0
    out[:, _COLUMN["carbs_30"]] = 1.0
    out[:, _COLUMN["carb_effect"]] = rows[:, _COLUMN["cf"]] / rows[:, _COLUMN["cr"]]
    return out


def _insulin(rows: np.ndarray) -> np.ndarray:
    out = np.zeros_like(rows)
    out[:, _COLUMN["iob"]] = 1.0
    out[:, _COLUMN["insulin_effect"]] = rows[:, _COLUMN["cf"]]
    out[:, _COLUMN["iob_change_15"]] = rows[:, _COLUMN["cf"]]
    return out


_DELTAS = ("delta_15", "delta_30", "delta_60", "delta_120")


@dataclass(frozen=True)
class Probe:
    """One way of making an input higher: the feature change per unit, and the steps tried."""

    name: str
    signal: str  # the device's signal (bgms.yaml ML input)
    unit: str
    steps: tuple[float, ...]
    direction: Callable[[np.ndarray], np.ndarray]
    decisive: bool = True  # the probe that gives the signal's effect


def _grid(low: float, high: float, step: float) -> tuple[float, ...]:
    return tuple(float(v) for v in np.round(np.arange(low, high + step / 2, step), 6))


PROBES: tuple[Probe, ...] = (
    Probe("cgm level", "cgm_glucose", "mg/dL", _grid(-40, 40, 5), _unit("cgm")),
    Probe(
        "cgm newest reading",
        "cgm_glucose",
        "mg/dL",
        _grid(-40, 40, 5),
        _unit("cgm", *_DELTAS, "slope", scale={"slope": 1.0 / PERIOD_MIN}),
        decisive=False,
    ),
    Probe(
        "cgm reading 2 h ago",
        "cgm_glucose",
        "mg/dL",
        _grid(-40, 40, 5),
        _unit("delta_120", scale={"delta_120": -1.0}),
        decisive=False,
    ),
    Probe(
        "fingerstick calibration",
        "fingerstick_glucose",
        "mg/dL",
        _grid(-40, 40, 5),
        _unit("cgm", *_DELTAS, "slope", scale={"slope": 1.0 / PERIOD_MIN}),
    ),
    Probe("carbs entered", "carb_entry", "g", _grid(0, 60, 5), _carbs),
    Probe("insulin on board", "insulin_on_board", "U", _grid(-2, 4, 0.5), _insulin),
)


@dataclass(frozen=True)
class MeasuredInfluence:
    """The partial-dependence curve of one probe and the effect read from it."""

    probe: str
    signal: str
    effect: Effect
    steps: tuple[float, ...]
    mean_forecast: tuple[float, ...]  # mg/dL, at each step
    rise: float  # total of the curve's increases, mg/dL
    fall: float  # total of its decreases, mg/dL
    rows_up: float  # share of rows whose forecast is higher at the largest step than at 0
    rows_down: float
    decisive: bool
    queries: int

    def summary(self) -> str:
        return (
            f"{self.probe}: {self.effect.value} (mean forecast {self.mean_forecast[0]:.1f} -> "
            f"{self.mean_forecast[-1]:.1f} mg/dL over {self.steps[0]:g}..{self.steps[-1]:g}; "
            f"rows up {100 * self.rows_up:.0f} %, down {100 * self.rows_down:.0f} %)"
        )


def effect_of_curve(
    curve: np.ndarray, tolerance: float = 0.1, floor: float = 0.5
) -> tuple[Effect, float, float]:
    """``(effect, rise, fall)`` of a partial-dependence curve (mg/dL): monotone unless the
    smaller of rise and fall exceeds ``tolerance`` of the larger; ``unknown`` when the curve
    moves less than ``floor`` mg/dL in all."""
    steps = np.diff(curve)
    rise = float(steps[steps > 0].sum())
    fall = float(-steps[steps < 0].sum())
    if rise + fall < floor:
        return Effect.unknown, rise, fall
    if fall <= tolerance * rise:
        return Effect.increases, rise, fall
    if rise <= tolerance * fall:
        return Effect.decreases, rise, fall
    return Effect.non_monotonic, rise, fall


def measure_influence(
    models: HeldOutModels,
    data: TrainingData,
    *,
    every: int = 20,
    probes: tuple[Probe, ...] = PROBES,
) -> list[MeasuredInfluence]:
    """Every probe's curve over every ``every``-th row of ``data`` (each row forecast by its
    patient's fold model)."""
    rows = np.asarray(data.features[::every], dtype=float)
    folds = row_folds(data.patient[::every])
    out = []
    for probe in probes:
        direction = probe.direction(rows)
        steps = np.array(probe.steps)
        # Start from the smallest step at or above 0, so "rows up" compares with the data.
        moved = rows[None, :, :] + steps[:, None, None] * direction[None, :, :]
        forecast = models.predict(
            moved.reshape(-1, rows.shape[1]), np.tile(folds, len(steps))
        ).reshape(len(steps), len(rows))
        curve = forecast.mean(axis=1)
        effect, rise, fall = effect_of_curve(curve)
        at_zero = int(np.argmin(np.abs(steps)))
        change = forecast[-1] - forecast[at_zero]
        out.append(
            MeasuredInfluence(
                probe=probe.name,
                signal=probe.signal,
                effect=effect,
                steps=probe.steps,
                mean_forecast=tuple(round(float(v), 3) for v in curve),
                rise=round(rise, 3),
                fall=round(fall, 3),
                rows_up=float(np.mean(change > 1e-9)),
                rows_down=float(np.mean(change < -1e-9)),
                decisive=probe.decisive,
                queries=int(forecast.size),
            )
        )
    return out


def measured_effects(measured: list[MeasuredInfluence]) -> dict[str, Effect]:
    """Signal -> its measured effect (from its decisive probe)."""
    return {m.signal: m.effect for m in measured if m.decisive}


def _engine_inputs(device: DeviceModel, engine: str | None) -> list:
    return [
        ml_input
        for component in device.components
        if component.ml is not None and (engine is None or component.id == engine)
        for ml_input in component.ml.inputs
    ]


def disagreements(
    device: DeviceModel, effects: Mapping[str, Effect], engine: str | None = None
) -> list[tuple[str, str, str]]:
    """``(signal, declared, measured)`` for every input whose declared ``effect:`` differs
    from the measured one."""
    out = []
    for ml_input in _engine_inputs(device, engine):
        measured = effects.get(ml_input.signal)
        declared = ml_input.effect if isinstance(ml_input.effect, Effect) else None
        if measured is not None and declared is not measured:
            shown = declared.value if declared is not None else str(ml_input.effect)
            out.append((ml_input.signal, shown, measured.value))
    return out


def with_measured_effects(
    device: DeviceModel, effects: Mapping[str, Effect], engine: str | None = None
) -> DeviceModel:
    """A copy of ``device`` whose ML inputs carry the measured effects in place of the
    declared ones (inputs not measured keep theirs): give it to the STPA stage and scenario
    generation follows the model as trained, not as described. ``unknown`` measurements
    keep the declaration."""
    components = []
    for component in device.components:
        if component.ml is None or (engine is not None and component.id != engine):
            components.append(component)
            continue
        inputs = [
            ml_input.model_copy(update={"effect": effects[ml_input.signal]})
            if effects.get(ml_input.signal, Effect.unknown) is not Effect.unknown
            else ml_input
            for ml_input in component.ml.inputs
        ]
        ml = component.ml.model_copy(update={"inputs": inputs})
        components.append(component.model_copy(update={"ml": ml}))
    return device.model_copy(update={"components": components})
