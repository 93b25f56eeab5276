"""The per-patient worst-case search: budgets, determinism, the grid's best as a floor,
stealth of what it returns, pluggable monitors, Monte Carlo days, held-out forecasters."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from mdrisk.impact.attacks.spec import SpecError
from mdrisk.impact.search import Candidate, SearchBudget
from mdrisk.impact.search_space import (
    BudgetError,
    SearchSpace,
    WorstCaseBudget,
    parse_worst_case_budget,
)

PATIENTS = ("adult#001", "adult#008")
SMALL = 60  # patient-days per patient: 10 members x 6 generations, a few seconds

pytestmark = pytest.mark.usefixtures("simglucose_tables", "isolated_model_cache")


@pytest.fixture(scope="module")
def runner():
    from mdrisk.impact.candidate_runs import CandidateRunner

    return CandidateRunner(PATIENTS, SearchSpace(WorstCaseBudget()))


@pytest.fixture(scope="module")
def searched(runner):
    from mdrisk.impact.worst_case import search_worst_case

    return search_worst_case(PATIENTS, evaluations=SMALL, seed=3, runner=runner)


# -- budgets --------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"max_magnitude": (-5.0,)}, "positive number"),
        ({"max_magnitude": (math.nan,)}, "positive number"),
        ({"max_magnitude": (math.inf,)}, "positive number"),
        ({"min_duration_min": 300, "max_duration_min": 60}, "duration range is inverted"),
        ({"min_duration_min": -10}, "between 1 minute and 24 h"),
        ({"earliest_onset_min": 600, "latest_onset_min": 300}, "onset window is inverted"),
        ({"earliest_onset_min": math.nan}, "time of day"),
        ({"objective": "fun"}, "unknown objective"),
        ({"signals": ("cgm", "cgm"), "max_magnitude": (1.0, 2.0)}, "listed twice"),
        ({"signals": ("glucagon",)}, "unknown signal"),
    ],
)
def test_a_budget_that_cannot_bound_a_search_is_refused_with_the_reason(settings, message):
    with pytest.raises(BudgetError, match=message):
        WorstCaseBudget(**settings)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("cgm=-60", "not a positive number"),
        ("cgm=nan", "not a positive number"),
        ("duration=4h-30min", "inverted"),
        ("onset=22:00-06:00", "inverted"),
        ("duration=4h", "range FROM-TO"),
        ("carbs=40", "not an attacked signal"),
        ("speed=3", "not a budget setting"),
    ],
)
def test_budget_text_errors_say_what_is_wrong(text, message):
    with pytest.raises(SpecError, match=message):
        parse_worst_case_budget(text, ("cgm",))


def test_budget_text_sets_every_bound():
    budget = parse_worst_case_budget(
        "cgm=40,carbs=30,duration=15min-2h,onset=06:00-22:00,objective=below70", ("cgm", "carbs")
    )
    assert budget.max_magnitude == (40.0, 30.0)
    assert (budget.min_duration_min, budget.max_duration_min) == (15, 120)
    assert (budget.earliest_onset_min, budget.latest_onset_min) == (360, 1320)
    assert parse_worst_case_budget(budget.text, budget.signals) == budget


def test_too_small_an_evaluation_budget_is_refused(runner):
    from mdrisk.impact.worst_case import search_worst_case

    for evaluations in (0, -5, 2.5, math.nan, 10):
        with pytest.raises(BudgetError):
            search_worst_case(PATIENTS, evaluations=evaluations, runner=runner)


# -- the search space -----------------------------------------------------------------------
def test_a_grid_candidate_decodes_to_itself():
    space = SearchSpace(WorstCaseBudget.for_signals(("cgm", "carbs")))
    for candidate in (
        Candidate("cgm", 60.0, 1050, 240, 30.0),
        Candidate("cgm", -9.0, 0, 240),
        Candidate("cgm", 60.0, 695, 140, 11.25),
    ):
        vector = space.encode(candidate)
        assert vector is not None
        assert space.plan(vector).text == candidate.text  # carbs are off (0 g)


def test_several_signals_decode_to_one_plan():
    space = SearchSpace(WorstCaseBudget.for_signals(("cgm", "carbs")))
    assert space.names == (
        "cgm.magnitude",
        "cgm.onset",
        "cgm.duration",
        "cgm.ramp_share",
        "carbs.amount",
        "carbs.onset",
    )
    plan = space.plan(np.array([45.0, 600.0, 120.0, 0.25, 30.0, 780.0]))
    assert plan.text == "ramp:+45/30min@cgm,10:00-12:00;spoof:30@carbs,13:00"


# -- the search -----------------------------------------------------------------------------
def test_the_search_is_deterministic_for_a_seed(runner, searched):
    from mdrisk.impact.worst_case import search_worst_case

    again = search_worst_case(PATIENTS, evaluations=SMALL, seed=3, runner=runner)
    assert [p.vector for p in again.patients] == [p.vector for p in searched.patients]
    assert [p.harm_mean for p in again.patients] == [p.harm_mean for p in searched.patients]


def test_the_search_reports_each_patient_and_the_patient_days_used(searched):
    assert [p.patient for p in searched.patients] == list(PATIENTS)
    for found in searched.patients:
        assert found.candidates == SMALL  # 10 members x 6 generations, one day each
        assert found.patient_days == SMALL
    assert searched.patient_days >= 2 * SMALL + len(PATIENTS)  # clean runs included
    assert set(searched.distribution) == {"median", "p95", "worst"}
    assert searched.distribution["worst"] == max(p.harm_mean for p in searched.patients)


def test_the_grid_s_best_in_the_first_generation_is_a_floor(runner):
    from mdrisk.impact.grid_baseline import grid_per_patient
    from mdrisk.impact.worst_case import search_worst_case

    grid = grid_per_patient(runner, SearchBudget(grid_min=240), refine=1)
    # A known harmful candidate for adult#008 too, so the floor is not 0.
    harmful = runner.space.encode(Candidate("cgm", 60.0, 1050, 240, 30.0))
    initial = {
        name: [best.vector] + ([harmful] if name == "adult#008" else [])
        for name, best in grid.items()
        if best.vector is not None
    }
    found = search_worst_case(PATIENTS, evaluations=SMALL, seed=5, runner=runner, initial=initial)
    floor_008 = runner.run(np.array([1]), harmful[None, :])
    for result in found.patients:
        best = grid[result.patient]
        assert (result.harm_mean, result.tie_breaker_mean) >= (
            best.harm_mean,
            best.tie_breaker_mean - 1e-9,
        )
    assert found.patients[1].harm_mean >= floor_008.primary_mean[0] > 0


def test_the_returned_attack_trips_no_stealth_alarm_on_its_patient():
    """Checked on an independent path: the ordinary attacked run with today's monitor."""
    from mdrisk.impact.experiment import RunSetup, run_attacks
    from mdrisk.impact.worst_case import search_worst_case

    found = search_worst_case(PATIENTS, evaluations=SMALL, seed=1, forecaster="default")
    for result in found.patients:
        assert result.plan is not None
        runs = run_attacks(RunSetup(patients=(result.patient,)), [result.plan])
        assert runs.plan_stealth(0).stealthy.all(), result.attack
        assert runs.harm(0)[0].delta["minutes_below_54"] == pytest.approx(result.harm_mean)


def test_a_monitor_that_always_alarms_leaves_no_stealthy_attack():
    from mdrisk.impact.worst_case import search_worst_case

    class Alarmed:
        stealthy = np.zeros(0, dtype=bool)

        def tripped(self, row: int) -> list[str]:
            return ["always"]

    class AlwaysAlarm:
        def __init__(self, patients, sample_time_min, forecaster) -> None:
            self.size = len(patients)

        def apply(self, signal, t_minutes, values):
            return values

        def report(self):
            report = Alarmed()
            report.stealthy = np.zeros(self.size, dtype=bool)
            return report

    found = search_worst_case(PATIENTS[:1], evaluations=SMALL, monitors=[AlwaysAlarm])
    assert found.patients[0].plan is None
    assert found.patients[0].clean_alarms == ("always",)


def test_harm_is_averaged_over_monte_carlo_days():
    from mdrisk.impact.candidate_runs import CandidateRunner
    from mdrisk.impact.monte_carlo_days import MonteCarloDays

    days = MonteCarloDays(days=3, seed=7)
    scenarios = days.scenarios("adult#008")
    assert scenarios[0] == days.reference
    assert scenarios == MonteCarloDays(days=3, seed=7).scenarios("adult#008")
    assert scenarios[1] != scenarios[2] != scenarios[0]
    assert days.noise_seed("adult#008", 1) != days.noise_seed("adult#008", 2)
    space = SearchSpace(WorstCaseBudget())
    harmful = space.encode(Candidate("cgm", 60.0, 1050, 240, 30.0))
    runner = CandidateRunner(("adult#008",), space, days=days)
    results = runner.run(np.array([0]), harmful[None, :])
    assert runner.patient_days == 3 + 3  # clean and attacked, each on 3 days
    assert results.primary_worst[0] >= results.primary_mean[0]
    with pytest.raises(ValueError):
        MonteCarloDays(days=0)


# -- held-out forecaster --------------------------------------------------------------------
def test_each_patient_is_dosed_by_a_model_never_trained_on_them(runner):
    from mdrisk.impact.forecast_model.features import FEATURE_NAMES
    from mdrisk.impact.forecasting.held_out import (
        fold_forecaster,
        fold_of,
        held_out_forecaster,
        trained_on,
    )

    for patient in (*PATIENTS, "adult#005", "adult#006", "child#010"):
        assert patient not in trained_on(patient)
        assert len(trained_on(patient)) == 15
    rows = ["adult#001", "adult#008", "adult#002"]
    features = np.random.default_rng(0).uniform(1, 100, (3, len(FEATURE_NAMES)))
    combined = held_out_forecaster(rows).predict(features)
    for row, patient in enumerate(rows):
        own = fold_forecaster(fold_of(patient)).predict(features[row : row + 1])
        assert combined[row] == pytest.approx(own[0])
    assert "held out" in runner.forecaster_text


# -- command line ---------------------------------------------------------------------------
def test_the_command_prints_each_patient_and_the_population():
    from click.testing import CliRunner

    from mdrisk.cli import main

    args = ["simulate", "worst-case", "--patients", "adult#001,adult#008"]
    result = CliRunner().invoke(main, [*args, "--evaluations", "40", "--json"])
    assert result.exit_code == 0, result.output
    record = json.loads(result.output)
    assert [p["patient"] for p in record["patients"]] == list(PATIENTS)
    assert record["patient_days"] == 2 * 40 + 2
    assert "held out" in record["forecaster"]
    table = CliRunner().invoke(main, [*args, "--evaluations", "40", "--signals", "cgm,carbs"])
    assert table.exit_code == 0, table.output
    assert "adult#008" in table.output and "95th percentile" in table.output


def test_the_command_can_start_from_the_grid_s_best_and_never_fall_below_it():
    from click.testing import CliRunner

    from mdrisk.cli import main

    args = ["simulate", "worst-case", "--patients", "adult#008", "--evaluations", "40"]
    result = CliRunner().invoke(main, [*args, "--from-grid", "--json"])
    assert result.exit_code == 0, result.output
    record = json.loads(result.output)
    assert record["started_from_grid"]
    assert record["patient_days"] > 40 + 300  # the grid's patient-days are counted
    assert record["patients"][0]["harm_mean"] > 0  # the grid finds harm on adult#008


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--budget", "cgm=-5"], "not a positive number"),
        (["--budget", "duration=4h-1h"], "inverted"),
        (["--signals", "cgm,glucagon"], "unknown signal"),
        (["--evaluations", "5"], "too few"),
    ],
)
def test_the_command_refuses_a_bad_budget(args, message):
    from click.testing import CliRunner

    from mdrisk.cli import main

    result = CliRunner().invoke(main, ["simulate", "worst-case", "--patients", "adult#001", *args])
    assert result.exit_code == 2
    assert message in result.output


def test_declared_detectors_judge_stealth_when_given_as_the_monitor():
    from mdrisk.impact.candidate_runs import CandidateRunner
    from mdrisk.impact.detector_monitor import declared_detectors_monitor
    from mdrisk.impact.detectors import DetectorSpec

    rate = DetectorSpec("rate-check", "rate", "cgm", {"max_per_min": 4.0})
    space = SearchSpace(WorstCaseBudget())
    runner = CandidateRunner(("adult#008",), space, monitors=[declared_detectors_monitor([rate])])
    step = space.encode(Candidate("cgm", 60.0, 480, 240))  # a jump of 60 mg/dL
    ramp = space.encode(Candidate("cgm", 60.0, 1050, 240, 30.0))
    results = runner.run(np.array([0, 0]), np.vstack([step, ramp]))
    assert results.stealthy.tolist() == [False, True]
    assert results.alarms[0] == ("rate-check",)
    assert runner.clean_alarms == ((),)
    forest = DetectorSpec("forest", "isolation_forest", "cgm", {"persistence": 3})
    with pytest.raises(ValueError, match="learned detectors"):
        declared_detectors_monitor([forest])


def test_the_zoom_moves_a_scanned_attack_in_time_and_shape_but_not_in_strength():
    from mdrisk.impact.worst_case import zoom_moves

    space = SearchSpace(WorstCaseBudget())
    centre = np.array([60.0, 690.0, 240.0, 0.125])
    moves = zoom_moves(space, centre, 15.0)
    assert len(moves) == 29  # 5 onsets x 3 ramps x 2 durations, less the centre itself
    assert np.all(moves[:, 0] == 60.0)  # the magnitude stays at the box's edge
    assert set(np.round(moves[:, 1] - 690.0)) == {-30.0, -15.0, 0.0, 15.0, 30.0}
    assert set(moves[:, 2]) == {240.0, 225.0}
    assert np.all(moves >= space.lower) and np.all(moves <= space.upper)
    assert not any(np.allclose(m, centre) for m in moves)


def test_the_best_is_kept_per_time_of_day_for_the_refinement():
    from mdrisk.impact.worst_case import MODE_MIN, _Best

    best = _Best(onset_column=1)
    night = np.array([60.0, 80.0, 240.0, 0.1])
    lunch = np.array([60.0, 700.0, 240.0, 0.1])
    lunch_better = np.array([60.0, 705.0, 235.0, 0.1])
    best.offer(night, (0.0, 0.59), 0.0, False)
    best.offer(lunch, (0.0, 0.50), 0.0, False)
    best.offer(lunch_better, (0.0, 0.55), 0.0, False)
    assert best.key == (0.0, 0.59)
    leaders = best.leaders(2)
    assert [int(v[1] // MODE_MIN) for v in leaders] == [0, 3]
    assert np.allclose(leaders[1], lunch_better)
