"""Stealth limits, attack-induced harm and the worst-case search, on the glucose reference
device's ML-advised controller and its intended population (adults)."""

from __future__ import annotations

import numpy as np
import pytest

from mdrisk.impact.attacks import parse_plan
from mdrisk.impact.search import parse_budget

ADULTS = tuple(f"adult#{i:03d}" for i in range(1, 11))


pytestmark = pytest.mark.usefixtures("simglucose_tables", "isolated_model_cache")


@pytest.fixture(scope="module")
def runs():
    from mdrisk.impact.experiment import RunSetup, run_attacks

    plans = [
        parse_plan(text)
        for text in (
            "bias:+60@cgm,08:00-14:00",  # 0: the naive step
            "ramp:+60/30min@cgm,06:00-10:00",  # 1: the same offset, never jumping
            "bias:+300@cgm,02:00-03:00",  # 2: pushes readings above 400
            "bias:+60@forecast,08:00-14:00",  # 3: a poisoned model
            "spoof:60g@carbs,15:00",  # 4: a meal never eaten
            "scale:0.5@bolus,10:00-11:00",  # 5: no bolus in the window: no effect
        )
    ]
    return run_attacks(RunSetup(patients=ADULTS), plans)


# -- stealth ----------------------------------------------------------------------------------
def test_clean_adult_days_raise_no_alarm(runs) -> None:
    assert runs.clean_stealth().stealthy.all()
    assert runs.clean_stealth().peak_rate.max() < runs.setup.limits.max_rate


def test_a_constant_bias_is_caught_by_the_rate_of_change_check(runs) -> None:
    report = runs.plan_stealth(0)
    assert report.alarms["rate"].all()
    np.testing.assert_array_equal(report.first_alarm_min["rate"], 480.0)  # at 08:00
    assert not report.stealthy.any()


def test_the_same_offset_ramped_in_stays_under_the_rate_limit(runs) -> None:
    report = runs.plan_stealth(1)
    assert not report.alarms["rate"].any()
    assert report.stealthy.sum() >= 8


def test_readings_beyond_the_sensor_range_are_caught(runs) -> None:
    assert runs.plan_stealth(2).alarms["range"].all()


def test_a_poisoned_model_is_caught_by_its_own_forecast_residuals(runs) -> None:
    report = runs.plan_stealth(3)
    assert report.alarms["forecast_residual"].all()
    assert not report.alarms["rate"].any()


# -- harm against the clean day ---------------------------------------------------------------
def test_a_spoofed_meal_entry_induces_hypoglycaemia_unnoticed(runs) -> None:
    harm = runs.harm(4)
    stealth = runs.plan_stealth(4)
    induced = [h for h in harm if h.induced_severity is not None]
    assert len(induced) >= 7
    assert sum(h.delta["minutes_below_54"] > 0 for h in harm) >= 5
    assert stealth.stealthy.sum() >= 8
    assert all(h.clean_severity.severity.label == "negligible" for h in harm)
    assert any("HYPO-54" in h.new_criteria for h in harm)


def test_an_attack_with_nothing_to_act_on_induces_no_harm(runs) -> None:
    for harm in runs.harm(5):
        assert harm.induced_severity is None
        assert harm.delta["minutes_below_70"] == 0.0


def test_severity_is_attack_induced_only_where_the_clean_day_was_milder() -> None:
    from mdrisk.impact.experiment import RunSetup, run_attacks

    # child#004 spends hours below 54 mg/dL on the reference day with no attack at all.
    runs = run_attacks(
        RunSetup(patients=("child#004",), controller="basal_bolus"),
        [parse_plan("scale:1.05@bolus")],
    )
    harm = runs.harm(0)[0]
    assert harm.clean_severity.severity.label in ("critical", "catastrophic")
    assert harm.attacked_severity.severity >= harm.clean_severity.severity
    assert harm.induced_severity is None or (harm.induced_severity > harm.clean_severity.severity)


def test_plans_run_together_give_the_same_results_as_alone() -> None:
    from mdrisk.impact.experiment import RunSetup, run_attacks

    setup = RunSetup(patients=("adult#001", "adult#004"))
    texts = [
        "bias:+30@cgm,06:00-09:00",
        "replay:30min@cgm,10:00-16:00",
        "bias:-20@cgm,12:00-18:00;freeze@cgm,19:00-20:00",
        "spoof:40g@carbs,15:00",
    ]
    together = run_attacks(setup, [parse_plan(t) for t in texts])
    for index, text in enumerate(texts):
        alone = run_attacks(setup, [parse_plan(text)])
        mine = [h.attacked for h in together.harm(index)]
        np.testing.assert_allclose(
            [h["lbgi"] for h in mine], [h.attacked["lbgi"] for h in alone.harm(0)]
        )
        np.testing.assert_array_equal(
            together.plan_stealth(index).stealthy, alone.plan_stealth(0).stealthy
        )


def test_attacks_on_ml_signals_need_the_ml_controller() -> None:
    from mdrisk.impact.experiment import RunSetup, run_attacks

    with pytest.raises(ValueError, match="ml_advised"):
        run_attacks(
            RunSetup(patients=("adult#001",), controller="basal_bolus"),
            [parse_plan("bias:+10@forecast")],
        )


# -- the worst stealthy attack ----------------------------------------------------------------
def test_the_search_finds_a_stealthy_attack_worse_than_the_naive_bias(capsys) -> None:
    """The must-show: within the same budget (|offset| <= 60 mg/dL on the CGM reading, at most
    2 h, starting 17:00-18:00, around the dinner bolus), the most harmful attack that trips no
    stealth limit on any of the 10 adults is measurably worse than the most harmful constant
    bias that trips none either; the full +60 constant bias is caught."""
    from mdrisk.impact.experiment import RunSetup
    from mdrisk.impact.search import search_worst_attack

    budget = parse_budget("max=60,duration=2h,grid=60min,from=17:00,to=18:00")
    result = search_worst_attack(RunSetup(patients=ADULTS), budget, refine=1)
    best, naive, full = result.best, result.naive, result.naive_full
    with capsys.disabled():
        print(f"\nworst-case search ({result.evaluated} candidates x {len(ADULTS)} adults):")
        for label, outcome in (
            ("worst stealthy", best),
            ("naive stealthy bias", naive),
            ("naive +60 bias", full),
        ):
            print(
                f"  {label:20} {outcome.candidate.text:34} "
                f"{outcome.mean_delta('minutes_below_54'):+6.1f} min <54, "
                f"{outcome.mean_delta('lbgi'):+5.2f} LBGI, stealthy {outcome.stealthy}"
            )
    assert best is not None and naive is not None
    assert best.stealthy and naive.stealthy and not full.stealthy
    assert best.candidate.ramp_min is not None  # shaped, not constant
    assert abs(best.candidate.offset) <= budget.max_offset
    assert best.candidate.duration_min <= budget.max_duration_min
    assert best.mean_delta("minutes_below_54") >= naive.mean_delta("minutes_below_54") + 5.0
    assert best.mean_delta("lbgi") >= 2.0 * naive.mean_delta("lbgi")
    assert sum(h.induced_severity is not None for h in best.harm) >= 4
