"""The ML engine under attack: error grids, the forecaster's clean accuracy on patients it never
saw, its determinism and cache, and the ML-advised controller it drives."""

from __future__ import annotations

import importlib.util
import json
import os

import numpy as np
import pytest

from mdrisk.impact.forecasting import (
    FEATURE_NAMES,
    HELD_OUT_PATIENTS,
    TRAIN_PATIENTS,
    TrainingConfig,
    clarke_zones,
    default_forecaster,
    forecast_accuracy,
    parkes_zones,
    train_forecaster,
    zone_shares,
)
from mdrisk.impact.forecasting import cache as forecaster_cache

# -- error grids (no simulator needed) --------------------------------------------------------
CLARKE_POINTS = [
    ((100, 100), "A"),
    ((100, 120), "A"),
    ((100, 80), "A"),
    ((50, 65), "A"),
    ((300, 250), "A"),
    ((100, 121), "B"),
    ((100, 185), "B"),
    ((250, 181), "B"),
    ((400, 300), "B"),
    ((100, 215), "C"),
    ((150, 25), "C"),
    ((70, 181), "E"),
    ((300, 100), "D"),
    ((50, 100), "D"),
    ((65, 80), "D"),
    ((240, 71), "D"),
    ((200, 50), "E"),
    ((50, 200), "E"),
    ((180, 70), "E"),
]
PARKES_POINTS = [
    ((100, 100), "A"),
    ((65, 80), "A"),
    ((40, 10), "A"),
    ((600, 600), "A"),
    ((100, 130), "B"),
    ((300, 200), "B"),
    ((300, 150), "B"),
    ((20, 55), "B"),
    ((100, 185), "C"),
    ((300, 100), "C"),
    ((200, 50), "C"),
    ((100, 400), "D"),
    ((50, 200), "D"),
    ((300, 50), "D"),
    ((20, 200), "E"),
    ((0, 151), "E"),
]


@pytest.mark.parametrize("point, zone", CLARKE_POINTS)
def test_clarke_zone_of_a_known_point(point, zone) -> None:
    assert clarke_zones(np.array([point[0]]), np.array([point[1]]))[0] == zone


@pytest.mark.parametrize("point, zone", PARKES_POINTS)
def test_parkes_type1_zone_of_a_known_point(point, zone) -> None:
    assert parkes_zones(np.array([point[0]]), np.array([point[1]]))[0] == zone


def test_points_on_a_border_belong_to_the_better_zone() -> None:
    # Parkes A/B upper border passes through (140, 170) and (30, 50).
    assert parkes_zones(np.array([140.0, 30.0]), np.array([170.0, 50.0])).tolist() == ["A", "A"]
    assert parkes_zones(np.array([140.0]), np.array([170.01]))[0] == "B"


def test_a_perfect_estimate_is_all_zone_a_in_both_grids() -> None:
    reference = np.linspace(20, 550, 400)
    assert zone_shares(clarke_zones(reference, reference))["A"] == 1.0
    assert zone_shares(parkes_zones(reference, reference))["A"] == 1.0


def test_error_grids_refuse_mismatched_lengths() -> None:
    with pytest.raises(ValueError):
        clarke_zones(np.ones(3), np.ones(2))


# -- the trained forecaster -------------------------------------------------------------------
needs_simglucose = pytest.mark.skipif(
    importlib.util.find_spec("simglucose") is None and os.environ.get("CI") != "true",
    reason="simglucose is not installed: no patient tables (pip install -e '.[sim]')",
)


@pytest.fixture(scope="module")
def forecaster(tmp_path_factory):
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("MDRISK_CACHE_DIR", str(tmp_path_factory.mktemp("cache")))
        yield default_forecaster()


@needs_simglucose
def test_training_and_held_out_patients_do_not_overlap() -> None:
    assert not set(TRAIN_PATIENTS) & set(HELD_OUT_PATIENTS)
    assert len(TRAIN_PATIENTS) + len(HELD_OUT_PATIENTS) == 30


@needs_simglucose
def test_forecasts_30_minutes_ahead_accurately_for_patients_it_never_saw(forecaster) -> None:
    accuracy = forecast_accuracy(forecaster)
    assert accuracy.patients == HELD_OUT_PATIENTS
    assert accuracy.n_points > 20_000
    assert accuracy.rmse < 25.0  # mg/dL, with simglucose's CGM noise
    assert accuracy.rmse < 0.8 * accuracy.naive_rmse  # clearly better than "no change"
    assert accuracy.clarke_ab >= 0.97
    assert accuracy.parkes_ab >= 0.98
    assert "held-out" in accuracy.summary()


@needs_simglucose
def test_training_is_deterministic(forecaster) -> None:
    again = train_forecaster(TrainingConfig())
    assert again.estimator == forecaster.estimator
    assert len(again.estimator.coef) == len(FEATURE_NAMES)


@needs_simglucose
def test_the_model_is_cached_as_json_outside_the_repository(
    tmp_path, monkeypatch, forecaster
) -> None:
    monkeypatch.setenv("MDRISK_CACHE_DIR", str(tmp_path))
    monkeypatch.setattr(forecaster_cache, "_MEMORY", {})
    first = default_forecaster()
    files = list(tmp_path.glob("forecaster-*.json"))
    assert len(files) == 1
    record = json.loads(files[0].read_text())
    assert len(record["coef"]) == len(FEATURE_NAMES)
    monkeypatch.setattr(forecaster_cache, "_MEMORY", {})
    from_disk = default_forecaster()
    features = np.random.default_rng(0).uniform(0, 200, (50, len(FEATURE_NAMES)))
    np.testing.assert_array_equal(first.predict(features), from_disk.predict(features))


@needs_simglucose
def test_a_damaged_cache_file_is_ignored_and_replaced(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("MDRISK_CACHE_DIR", str(tmp_path))
    monkeypatch.setattr(forecaster_cache, "_MEMORY", {})
    path = forecaster_cache.cache_file(TrainingConfig())
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("{not json")
    model = default_forecaster()
    assert json.loads(path.read_text())["coef"] == list(model.estimator.coef)


# -- the ML-advised controller ----------------------------------------------------------------
@needs_simglucose
def test_the_ml_advised_controller_keeps_clean_adults_safe(forecaster) -> None:
    from mdrisk.impact import Severity, load_patients, simulate
    from mdrisk.impact.controllers.ml_advised import MLAdvisedController
    from mdrisk.impact.experiment import DEFAULT_DAY

    adults = load_patients([f"adult#{i:03d}" for i in range(1, 11)])
    result = simulate(adults, DEFAULT_DAY, MLAdvisedController(forecaster))
    assert all(a.severity == Severity.NEGLIGIBLE for a in result.severity())
    assert result.metrics.minutes_below_70.max() == 0.0


@needs_simglucose
def test_the_forecast_and_insulin_on_board_pass_through_the_tap(forecaster) -> None:
    from mdrisk.impact import load_patients, simulate
    from mdrisk.impact.controllers.ml_advised import MLAdvisedController
    from mdrisk.impact.experiment import DEFAULT_DAY
    from mdrisk.impact.taps import RecordingTap

    tap = RecordingTap()
    patient = load_patients(["adult#001"])
    simulate(
        patient, DEFAULT_DAY, MLAdvisedController(forecaster, tap=tap), tap=tap, duration_min=60
    )
    seen = {signal for signal, _, _ in tap.calls}
    assert {"iob", "forecast", "cgm", "carbs", "bolus"} <= seen
    order = [signal for signal, t, _ in tap.calls if t == 3.0]
    assert order.index("iob") < order.index("forecast") < order.index("basal")


@needs_simglucose
def test_a_falsely_high_forecast_makes_the_controller_dose_more(forecaster) -> None:
    from mdrisk.impact import load_patients, simulate
    from mdrisk.impact.controllers.ml_advised import MLAdvisedController
    from mdrisk.impact.experiment import DEFAULT_DAY

    class HighForecast:
        def apply(self, signal, t, values):
            return values + 80.0 if signal == "forecast" else values

    patient = load_patients(["adult#001"])
    clean = simulate(
        patient, DEFAULT_DAY, MLAdvisedController(forecaster), record=("delivered_insulin",)
    )
    tap = HighForecast()
    attacked = simulate(
        patient,
        DEFAULT_DAY,
        MLAdvisedController(forecaster, tap=tap),
        record=("delivered_insulin",),
    )
    assert (
        attacked.trace("delivered_insulin").values.sum()
        > 1.2 * clean.trace("delivered_insulin").values.sum()
    )
    assert attacked.metrics.min_bg[0] < clean.metrics.min_bg[0] - 10
