"""Fingerstick readings in the closed loop: the app calibrates the CGM with them, so a
falsified meter reading biases every CGM value the controller sees until the next reading;
Monte Carlo days; and the mapping's run fields, read with errors that name file and field.

The patient tables come from the installed simglucose; without it the simulation tests are
skipped, except under CI=true, where its absence is a failure.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from mdrisk.errors import InputError
from mdrisk.impact.attacks.spec import parse_plan
from mdrisk.impact.attacks.tap import AttackTap
from mdrisk.impact.experiment import DEFAULT_DAY, RunSetup, controller_for, run_attacks
from mdrisk.impact.fingerstick import (
    Fingerstick,
    FingerstickMeter,
    OnePointCalibration,
    meter_error_sd,
)
from mdrisk.impact.mc_days import DayVariation, random_days
from mdrisk.impact.simulate import SimulationResult
from mdrisk.impact.taps import RecordingTap, TapChain

PERIOD = 3  # min, the Dexcom sample time
BEFORE_MEALS = Fingerstick()  # readings at 07:00, 12:00, 18:00 and 21:00 on the default day
TRACES = ("bg", "cgm", "controller_cgm", "fingerstick", "delivered_insulin")


def _run(
    attack: str | None = None, fingerstick: Fingerstick | None = BEFORE_MEALS, **kwargs: Any
) -> SimulationResult:
    from mdrisk.impact import load_patients, simulate

    attacks = [] if attack is None else [a.build() for a in parse_plan(attack).attacks]
    chain = TapChain([AttackTap(attacks, PERIOD), *kwargs.pop("taps", ())])
    return simulate(
        load_patients([kwargs.pop("patient", "adult#001")]),
        kwargs.pop("scenario", DEFAULT_DAY),
        controller_for(kwargs.pop("controller", "ml_advised"), chain),
        tap=chain,
        record=TRACES,
        fingerstick=fingerstick,
        **kwargs,
    )


def _offset(result: SimulationResult) -> np.ndarray:
    """Per period: the glucose the controller got minus the period mean of the raw readings
    (what the calibration added)."""
    raw = result.trace("cgm").values[0]
    mean = np.concatenate([[raw[0]], (2.0 * raw[:-1] + raw[1:]) / 3.0])
    return result.trace("controller_cgm").values[0] - mean


def _between(start_min: int, end_min: int) -> slice:
    return slice(start_min // PERIOD, end_min // PERIOD)


def _insulin(result: SimulationResult, start_min: int = 0, end_min: int = 1440) -> float:
    """Units delivered from ``start_min`` to ``end_min``."""
    return (
        float(result.trace("delivered_insulin").values[0, _between(start_min, end_min)].sum())
        * PERIOD
    )


@pytest.fixture(scope="module")
def clean() -> SimulationResult:
    return _run()


simulation = pytest.mark.usefixtures("simglucose_tables", "isolated_model_cache")


@simulation
def test_a_raised_reading_raises_what_the_controller_sees_until_the_next_one(
    clean: SimulationResult,
) -> None:
    raised = _run("bias:+60@fingerstick,06:00-08:00")  # the 07:00 reading only
    offset = _offset(raised)
    # Full effect from the second period after the 07:00 calibration to the 12:00 one.
    assert np.allclose(offset[_between(426, 720)], offset[426 // PERIOD], atol=1e-6)
    assert 50 < offset[426 // PERIOD] < 70
    assert np.all(np.abs(offset[_between(726, 1440)]) < 10)  # the honest 12:00 reading
    assert np.all(np.abs(_offset(clean)[_between(426, 720)]) < 10)
    assert _insulin(raised, 420, 720) > _insulin(clean, 420, 720) + 1.0
    assert _insulin(raised) > _insulin(clean) + 1.0


@simulation
def test_a_lowered_reading_lowers_it_and_less_insulin_is_given(clean: SimulationResult) -> None:
    lowered = _run("bias:-60@fingerstick,06:00-08:00")
    offset = _offset(lowered)
    assert -70 < offset[_between(426, 720)].max() < -50
    # Until the next reading; later the higher glucose draws corrections.
    assert _insulin(lowered, 420, 720) < _insulin(clean, 420, 720) - 1.0


@simulation
def test_every_reading_raised_harms_an_adult_more_than_the_clean_day(
    clean: SimulationResult,
) -> None:
    raised = _run("bias:+60@fingerstick")
    assert raised.metrics.minutes_below_70[0] > clean.metrics.minutes_below_70[0]
    assert raised.metrics.min_bg[0] < clean.metrics.min_bg[0] - 15


@simulation
def test_without_a_meter_the_loop_is_the_one_without_calibration() -> None:
    tap = RecordingTap()
    plain = _run(fingerstick=None, taps=[tap])
    assert "fingerstick" not in {signal for signal, _, _ in tap.calls}
    assert np.isnan(plain.trace("fingerstick").values).all()
    assert np.all(_offset(plain) == 0.0)
    # A meter the user never uses calibrates nothing: bit for bit the same day.
    unused = _run(fingerstick=Fingerstick(before_meals=False))
    for name in ("bg", "cgm", "controller_cgm", "delivered_insulin"):
        assert np.array_equal(plain.trace(name).values, unused.trace(name).values), name
    assert plain.metrics.row(0) == unused.metrics.row(0)


@simulation
def test_readings_are_the_plasma_glucose_before_each_meal(clean: SimulationResult) -> None:
    readings = clean.trace("fingerstick").values[0]
    taken = np.flatnonzero(~np.isnan(readings)) * PERIOD
    assert taken.tolist() == [420, 720, 1080, 1260]


@simulation
def test_the_meter_error_is_seeded_and_within_iso_15197_mostly() -> None:
    first = _run(fingerstick=Fingerstick(meter_error=True), seed=7, controller="basal_bolus")
    again = _run(fingerstick=Fingerstick(meter_error=True), seed=7, controller="basal_bolus")
    other = _run(fingerstick=Fingerstick(meter_error=True), seed=8, controller="basal_bolus")
    values = first.trace("fingerstick").values
    assert np.array_equal(values, again.trace("fingerstick").values, equal_nan=True)
    assert not np.array_equal(values, other.trace("fingerstick").values, equal_nan=True)


def test_meter_errors_follow_iso_15197_bounds() -> None:
    glucose = np.array([60.0, 99.0, 100.0, 200.0])
    assert meter_error_sd(glucose) * 1.96 == pytest.approx([15.0, 15.0, 15.0, 30.0])
    scenarios = [DEFAULT_DAY] * 2000
    meter = FingerstickMeter(Fingerstick(meter_error=True), scenarios, PERIOD, 1440, range(2000))
    true = np.full(2000, 180.0)
    readings = meter.read(420, true)
    within = np.abs(readings - true) <= 0.15 * 180.0
    assert 0.93 < within.mean() < 0.97
    assert np.isnan(meter.read(423, true)).all()


def test_a_calibration_holds_or_fades_and_only_rows_with_a_reading_change() -> None:
    held = OnePointCalibration(2)
    held.calibrate(0.0, np.array([160.0, np.nan]), np.array([100.0, 100.0]))
    assert held.apply(600.0, np.array([120.0, 120.0])).tolist() == [180.0, 120.0]
    fading = OnePointCalibration(1, half_life_min=60.0)
    fading.calibrate(0.0, np.array([160.0]), np.array([100.0]))
    assert fading.apply(60.0, np.array([100.0]))[0] == pytest.approx(130.0)


def _tapped(spec: str, readings: list[float], times: list[float]) -> list[float]:
    tap = AttackTap([a.build() for a in parse_plan(spec).attacks], PERIOD)
    tap.reset(1)
    return [
        float(tap.apply("fingerstick", t, np.array([v]))[0])
        for v, t in zip(readings, times, strict=True)
    ]


NAN = float("nan")
TIMES = [0.0, 3.0, 6.0, 9.0, 12.0]


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        ("bias:+60@fingerstick", [NAN, 160.0, NAN, 180.0, NAN]),
        ("scale:1.5@fingerstick", [NAN, 150.0, NAN, 180.0, NAN]),
        ("drop@fingerstick", [NAN] * 5),
        ("spoof:300@fingerstick,00:06", [NAN, 100.0, 300.0, 120.0, NAN]),
        ("replay:6min@fingerstick", [NAN, NAN, NAN, 100.0, NAN]),
        ("freeze@fingerstick,00:05-00:15", [NAN, 100.0, NAN, 100.0, NAN]),
    ],
)
def test_every_attack_kind_applies_to_readings(spec: str, expected: list[float]) -> None:
    got = _tapped(spec, [NAN, 100.0, NAN, 120.0, NAN], TIMES)
    np.testing.assert_array_equal(got, expected)


@pytest.mark.usefixtures("simglucose_tables")
def test_an_attack_on_readings_needs_a_meter_in_the_run() -> None:
    with pytest.raises(ValueError, match="no fingerstick schedule"):
        run_attacks(RunSetup(patients=("adult#001",)), [parse_plan("bias:+60@fingerstick")])


def test_monte_carlo_days_are_seeded_and_differ_from_day_to_day() -> None:
    days = random_days(DEFAULT_DAY, 6, seed=3)
    assert days == random_days(DEFAULT_DAY, 6, seed=3)
    assert random_days(DEFAULT_DAY, 3, seed=3) == days[:3]  # a day does not depend on the count
    assert len({d.meals for d in days}) == 6
    assert days != random_days(DEFAULT_DAY, 6, seed=4)
    variation = DayVariation()
    for day in days:
        assert len(day.meals) == len(DEFAULT_DAY.meals)
        for meal, reference in zip(day.meals, DEFAULT_DAY.meals, strict=True):
            assert abs(meal.time_min - reference.time_min) <= variation.time_limit_min
            assert 0.5 * reference.carbs_g <= meal.carbs_g <= 1.5 * reference.carbs_g


@pytest.mark.usefixtures("simglucose_tables", "isolated_model_cache")
def test_monte_carlo_rows_are_patient_major_with_common_random_numbers() -> None:
    setup = RunSetup(
        patients=("adult#001", "child#001"),
        mc_days=3,
        fingerstick=Fingerstick(meter_error=True),
    )
    runs = run_attacks(setup, [parse_plan("bias:+60@fingerstick")])
    assert runs.row_patients == ("adult#001",) * 3 + ("child#001",) * 3
    assert len(runs.result.patient_names) == 12
    assert len(runs.harm(0)) == 6
    days = runs.result.scenario_names[:3]
    assert len(set(days)) == 3 and runs.result.scenario_names[3:6] == days
    clean_min = runs.result.metrics.min_bg[:6]
    assert len(set(np.round(clean_min[:3], 6))) == 3  # the days differ


MAPPING = """
run:
  patients: adult#001-002
  meals: "07:00=45"
{run}
inputs: {{}}
control_actions: {{deliver_bolus: simulated}}
"""


@pytest.mark.parametrize(
    ("run", "field"),
    [
        ("  mc_days: -3", "mc_days"),
        ("  mc_days: many", "mc_days"),
        ("  seed: -1", "seed"),
        ("  fingerstick: {times: ['25:00']}", "times"),
        ("  fingerstick: {lead_min: soon}", "lead_min"),
        ("  fingerstick: {before_meal: true}", "before_meal"),
        ("  fingerstick: {half_life_min: 0}", "half_life_min"),
        ("  variation: {carbs_cv: -0.1}", "carbs_cv"),
        ("  days: 0", "days"),
    ],
)
def test_a_malformed_run_field_names_the_file_and_the_field(run: str, field: str) -> None:
    from mdrisk.impact.bridge import ImpactMapping

    with pytest.raises(InputError) as raised:
        ImpactMapping.from_text(MAPPING.format(run=run), "my-impact.yaml")
    message = str(raised.value)
    assert "my-impact.yaml" in message and field in message


@pytest.mark.usefixtures("simglucose_tables")
def test_a_patient_selection_that_cannot_be_read_names_the_file_and_field() -> None:
    from mdrisk.impact.bridge import ImpactMapping

    mapping = ImpactMapping.from_text(
        MAPPING.format(run="").replace("adult#001-002", "adult#001-099"), "my-impact.yaml"
    )
    with pytest.raises(InputError) as raised:
        mapping.setup()
    assert "my-impact.yaml" in str(raised.value) and "run.patients" in str(raised.value)


def test_the_mapping_reads_the_meter_schedule_and_random_days() -> None:
    from mdrisk.impact.bridge import ImpactMapping

    run = "  mc_days: 4\n  fingerstick: {before_meals: false, times: ['07:30', '22:00']}"
    mapping = ImpactMapping.from_text(MAPPING.format(run=run), "my-impact.yaml")
    assert mapping.fingerstick() == Fingerstick(before_meals=False, times_min=(450, 1320))
    assert mapping.run["mc_days"] == 4
