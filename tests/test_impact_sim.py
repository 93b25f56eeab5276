"""The closed loop as an analyst relies on it: reproducible noise, taps that see every signal,
rows that do not influence each other, scenarios, pump and sensors as simglucose has them.

The patient tables come from the installed simglucose; without it these tests are skipped,
except under CI=true, where its absence is a failure.
"""

from __future__ import annotations

import numpy as np
import pytest

from mdrisk.impact import (
    SIGNALS,
    Controller,
    FunctionTap,
    MealScenario,
    Severity,
    TapChain,
    cross,
    load_patients,
    load_pump,
    load_sensor,
    make_controller,
    simulate,
)
from mdrisk.impact.cgm import CGMNoise, not_a_knot_weights
from mdrisk.impact.controllers import base as controller_registry
from mdrisk.impact.pump import InsulinPump
from mdrisk.impact.taps import RecordingTap

DAY = MealScenario.from_hours([(7, 45), (12, 70), (18, 80), (21, 15)], name="day")


pytestmark = pytest.mark.usefixtures("simglucose_tables")


def _one(name: str = "adult#002", **kwargs):
    return simulate(load_patients([name]), kwargs.pop("scenario", DAY), **kwargs)


# -- sensor noise ----------------------------------------------------------------------------
def test_noisy_readings_are_reproducible_for_a_seed() -> None:
    first = _one(noise=True, seed=11, record=("cgm", "bg"))
    again = _one(noise=True, seed=11, record=("cgm", "bg"))
    other = _one(noise=True, seed=12, record=("cgm",))
    np.testing.assert_array_equal(first.trace("cgm").values, again.trace("cgm").values)
    np.testing.assert_array_equal(first.trace("bg").values, again.trace("bg").values)
    assert np.abs(first.trace("cgm").values - other.trace("cgm").values).max() > 1.0


def test_noise_free_readings_are_the_clipped_glucose() -> None:
    result = _one(record=("cgm", "bg"))
    np.testing.assert_array_equal(result.trace("cgm").values, result.trace("bg").values[:, :-1])


def test_noise_is_simglucose_cgmnoise_value_for_value() -> None:
    noise_gen = pytest.importorskip("simglucose.sensor.noise_gen")
    for sensor in ("Dexcom", "GuardianRT", "Navigator"):
        spec = load_sensor(sensor)
        params = {
            "PACF": spec.PACF,
            "gamma": spec.gamma,
            "lambda": spec.lambda_,
            "delta": spec.delta,
            "xi": spec.xi,
            "sample_time": spec.sample_time,
        }
        theirs = noise_gen.CGMNoise(params, seed=5)
        expected = np.array([next(theirs) for _ in range(400)])
        ours = CGMNoise(spec, [5, 6])
        got = np.array([ours.next() for _ in range(400)])
        np.testing.assert_allclose(got[:, 0], expected, rtol=1e-9, atol=1e-9)
        assert np.abs(got[:, 1] - expected).max() > 0.1  # another seed, another sequence


def test_spline_weights_match_scipys_cubic_interpolation() -> None:
    interpolate = pytest.importorskip("scipy.interpolate")
    knots = np.arange(11) * 15.0
    at = np.arange(0, 151, 3.0)
    values = np.random.default_rng(0).normal(size=11)
    expected = interpolate.interp1d(knots, values, kind="cubic")(at)
    np.testing.assert_allclose(not_a_knot_weights(11, 15.0, at) @ values, expected, atol=1e-12)


# -- batches -----------------------------------------------------------------------------------
def test_a_patient_run_does_not_depend_on_the_rest_of_the_batch() -> None:
    variants = [DAY, MealScenario.from_hours([(6, 100)], name="big breakfast")]
    patients, scenarios = cross(load_patients(["child#003", "adult#007"]), variants)
    batch = simulate(patients, scenarios, record=("bg",))
    alone = simulate(load_patients(["adult#007"]), variants[1], record=("bg",))
    np.testing.assert_array_equal(batch.trace("bg").values[3], alone.trace("bg").values[0])
    assert batch.patient_names == ("child#003", "child#003", "adult#007", "adult#007")
    assert batch.scenario_names == ("day", "big breakfast", "day", "big breakfast")


def test_recording_nothing_still_gives_metrics() -> None:
    result = _one(record=())
    assert result.traces == {}
    assert result.metrics.n_samples == 480 and result.metrics.min_bg[0] > 70
    with pytest.raises(KeyError, match="not recorded"):
        result.trace("bg")


def test_glucose_can_be_recorded_every_minute() -> None:
    result = _one(record=("bg", "plasma_glucose"), record_every_min=1, duration_min=60)
    assert result.trace("bg").values.shape == (1, 61)
    assert list(result.trace("plasma_glucose").times_min[:3]) == [0, 1, 2]


def test_bad_arguments_are_refused_with_the_fix() -> None:
    with pytest.raises(ValueError, match="multiple of the Dexcom sample time"):
        _one(duration_min=100)
    with pytest.raises(ValueError, match="cannot record"):
        _one(record=("glucose",))
    with pytest.raises(ValueError, match="unknown controller"):
        make_controller("mpc")
    with pytest.raises(ValueError, match="one per row"):
        simulate(load_patients(["adult#001", "adult#002"]), [DAY, DAY, DAY])


# -- signal taps -------------------------------------------------------------------------------
def test_an_honest_tap_changes_nothing() -> None:
    plain = _one(record=("bg", "delivered_insulin"))
    tapped = _one(record=("bg", "delivered_insulin"), tap=TapChain([FunctionTap()]))
    np.testing.assert_array_equal(plain.trace("bg").values, tapped.trace("bg").values)


def test_every_signal_passes_the_tap_in_loop_order() -> None:
    tap = RecordingTap()
    _one(tap=tap, duration_min=6)
    first_period = [(s, t) for s, t, _ in tap.calls[:7]]
    assert first_period == [
        ("cgm", 0.0),
        ("carbs", 0.0),
        ("basal", 0.0),
        ("bolus", 0.0),
        ("pump_basal", 0.0),
        ("pump_bolus", 0.0),
        ("delivered_insulin", 0.0),
    ]
    assert tap.calls[7][:2] == ("cgm", 3.0)
    assert {s for s, _, _ in tap.calls} == set(SIGNALS)
    assert all(v.shape == (1,) for _, _, v in tap.calls)


def test_a_cgm_reading_biased_upwards_makes_the_calculator_overdose() -> None:
    honest = _one("adolescent#001", record=("bolus",))
    biased = _one("adolescent#001", record=("bolus",), tap=FunctionTap(cgm=lambda t, v: v + 120.0))
    assert biased.trace("bolus").values.sum() > honest.trace("bolus").values.sum() * 1.5
    assert biased.metrics.min_bg[0] < honest.metrics.min_bg[0] - 20


def test_stopping_delivery_leads_to_severe_hyperglycaemia() -> None:
    stopped = _one("adult#001", tap=FunctionTap(delivered_insulin=lambda t, v: v * 0.0))
    assert stopped.metrics.max_bg[0] > 300
    assert stopped.severity()[0].severity >= Severity.SERIOUS


def test_a_tap_returning_the_wrong_shape_is_an_error() -> None:
    with pytest.raises(ValueError, match="shape"):
        _one(tap=FunctionTap(cgm=lambda t, v: np.zeros(3)), duration_min=3)


def test_an_unknown_signal_name_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown signal"):
        FunctionTap(cgn=lambda t, v: v)


# -- scenarios, pump, controllers -------------------------------------------------------------
def test_scenario_hours_become_minutes_and_same_minute_meals_add_up() -> None:
    scenario = MealScenario.from_hours([(7, 45), (7.0, 5), (12.5, 70)])
    assert [(m.time_min, m.carbs_g) for m in scenario.meals] == [(420, 50.0), (750, 70.0)]
    assert scenario.carb_entries == scenario.meals


def test_a_meal_not_entered_gets_no_bolus_and_glucose_runs_higher() -> None:
    entered = _one("adult#003", record=("bolus",))
    missed = _one(
        "adult#003",
        record=("bolus",),
        scenario=MealScenario.from_hours(
            [(7, 45), (12, 70), (18, 80), (21, 15)], announced=[(7, 45), (18, 80), (21, 15)]
        ),
    )
    assert missed.trace("bolus").values.sum() < entered.trace("bolus").values.sum()
    assert missed.metrics.max_bg[0] > entered.metrics.max_bg[0] + 20


def test_pump_rounds_and_limits_as_simglucose() -> None:
    pump_module = pytest.importorskip("simglucose.actuator.pump")
    theirs = pump_module.InsulinPump.withName("Insulet")
    ours = InsulinPump(load_pump("Insulet"))
    amounts = np.array([0.0, 1e-6, 0.0123456, 0.25, 3.3333333, 29.99, 31.0, -1.0])
    np.testing.assert_array_equal(ours.bolus(amounts), [theirs.bolus(a) for a in amounts])
    np.testing.assert_array_equal(ours.basal(amounts), [theirs.basal(a) for a in amounts])


@pytest.mark.parametrize("sensor", ["GuardianRT", "Navigator"])
def test_other_sensors_set_the_control_period(sensor: str) -> None:
    result = _one(sensor=sensor, record=("cgm",))
    period = load_sensor(sensor).sample_time
    assert result.sample_time_min == period
    assert result.trace("cgm").values.shape == (1, 1440 // period)
    assert 70 < result.metrics.min_bg[0] < result.metrics.max_bg[0] < 250


def test_a_new_controller_is_a_subclass_found_by_name(monkeypatch) -> None:
    # Registered in a copy of the registry, so that no later test sees this controller.
    monkeypatch.setattr(controller_registry, "CONTROLLERS", dict(controller_registry.CONTROLLERS))

    class ZeroInsulin(Controller):
        name = "test_zero_insulin"

        def reset(self, context):
            self._zero = np.zeros(context.size)

        def act(self, observation):
            from mdrisk.impact import InsulinCommand

            return InsulinCommand(basal=self._zero, bolus=self._zero)

    result = _one(controller="test_zero_insulin", record=("delivered_insulin",))
    assert result.trace("delivered_insulin").values.max() == 0.0
    assert result.metrics.max_bg[0] > 250


def test_pid_controller_by_name_with_basal_offset_holds_steady_state() -> None:
    controller = make_controller("pid", P=0.0, I=0.0, D=0.0, include_basal=True)
    result = _one(controller=controller, scenario=MealScenario(), duration_min=600)
    basal_only = _one(scenario=MealScenario(), duration_min=600)
    np.testing.assert_allclose(result.metrics.mean_bg, basal_only.metrics.mean_bg, rtol=1e-12)
