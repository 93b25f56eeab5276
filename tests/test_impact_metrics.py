"""Harm metrics against values worked out by hand, and the severity classes they lead to."""

from __future__ import annotations

import math

import numpy as np
import pytest

from mdrisk.impact.metrics import (
    SEVERITY_CRITERIA,
    HarmAccumulator,
    Severity,
    SeverityCriterion,
    assess_severity,
    glucose_metrics,
    risk_function,
)


def _kovatchev(bg: float) -> float:
    """The risk function written out: 10 * (1.509 * (ln(bg)^1.084 - 5.381))^2."""
    f = 1.509 * (math.log(bg) ** 1.084 - 5.381)
    return 10.0 * f * f


def test_risk_is_zero_near_112_mg_dl_and_splits_low_from_high() -> None:
    rl, rh = risk_function(np.array([112.5, 50.0, 300.0]))
    assert rl[0] == pytest.approx(0.0, abs=1e-3) and rh[0] == pytest.approx(0.0, abs=1e-3)
    assert rl[1] == pytest.approx(_kovatchev(50.0)) and rh[1] == 0.0
    assert rh[2] == pytest.approx(_kovatchev(300.0)) and rl[2] == 0.0
    # Worked by hand: ln 50 = 3.91202, ^1.084 = 4.38695, f = 1.509 * (4.38695 - 5.381)
    # = -1.50001, r = 10 * 2.25004 = 22.500.
    assert rl[1] == pytest.approx(22.500, abs=0.001)


def test_lbgi_and_hbgi_average_over_every_sample() -> None:
    trace = [50.0, 300.0, 112.5, 112.5]
    metrics = glucose_metrics(trace, 5)
    assert metrics.lbgi[0] == pytest.approx(_kovatchev(50.0) / 4, rel=1e-9, abs=1e-3)
    assert metrics.hbgi[0] == pytest.approx(_kovatchev(300.0) / 4, rel=1e-9, abs=1e-3)


def test_lbgi_matches_simglucose_risk_index_sample_by_sample() -> None:
    risk = pytest.importorskip("simglucose.analysis.risk")
    for bg in (30.0, 54.0, 90.0, 140.0, 250.0, 400.0):
        lbgi, hbgi, _ = risk.risk_index([bg], 1)
        metrics = glucose_metrics([bg], 3)
        assert metrics.lbgi[0] == pytest.approx(lbgi, rel=1e-12, abs=1e-12)
        assert metrics.hbgi[0] == pytest.approx(hbgi, rel=1e-12, abs=1e-12)


def test_time_in_bands_and_gri_by_hand() -> None:
    # 20 samples of 5 min: 1 below 54, 2 in [54, 70), 3 above 250, 4 in (180, 250], 10 in
    # range. Percentages 5, 10, 15, 20: GRI = 3.0*5 + 2.4*10 + 1.6*15 + 0.8*20 = 79.
    trace = [40.0] + [54.0, 69.9] + [251.0, 300.0, 400.0] + [180.1, 200.0, 220.0, 250.0]
    trace += [70.0, 100.0, 120.0, 140.0, 160.0, 180.0, 110.0, 130.0, 150.0, 170.0]
    metrics = glucose_metrics(trace, 5)
    assert metrics.minutes_below_54[0] == 5.0
    assert metrics.minutes_below_70[0] == 15.0
    assert metrics.minutes_above_250[0] == 15.0
    assert metrics.minutes_above_180[0] == 35.0
    assert metrics.percent_below_54[0] == pytest.approx(5.0)
    assert metrics.gri[0] == pytest.approx(79.0)
    assert metrics.min_bg[0] == 40.0 and metrics.max_bg[0] == 400.0
    assert metrics.mean_bg[0] == pytest.approx(sum(trace) / 20)


def test_gri_is_capped_at_100() -> None:
    assert glucose_metrics([45.0] * 10, 5).gri[0] == 100.0  # 3.0 * 100 % -> 100


def test_longest_runs_count_consecutive_samples_only() -> None:
    # 3-minute samples: a 4-sample dip below 54 (12 min), back to 60, then 5 samples (15 min).
    trace = [100.0, 50.0, 50.0, 50.0, 50.0, 60.0, 50.0, 50.0, 50.0, 50.0, 50.0, 100.0]
    metrics = glucose_metrics(trace, 3)
    assert metrics.longest_below_54_min[0] == 15.0
    assert metrics.longest_below_70_min[0] == 30.0  # 60 is still below 70
    assert metrics.minutes_below_54[0] == 27.0
    assert metrics.longest_below_40_min[0] == 0.0


def test_a_batch_is_rows_of_independent_traces() -> None:
    traces = np.array([[100.0, 40.0, 40.0], [300.0, 310.0, 100.0]])
    metrics = glucose_metrics(traces, 5)
    assert list(metrics.min_bg) == [40.0, 100.0]
    assert list(metrics.longest_below_40_min) == [0.0, 0.0]  # 40 is not below 40
    assert list(metrics.longest_above_300_min) == [0.0, 5.0]


def test_streaming_and_offline_metrics_agree() -> None:
    rng = np.random.default_rng(3)
    traces = 40.0 + 300.0 * rng.random((4, 50))
    offline = glucose_metrics(traces, 3)
    accumulator = HarmAccumulator(4, 3)
    for column in traces.T:
        accumulator.add(column)
    streamed = accumulator.result()
    for name in ("min_bg", "lbgi", "hbgi", "gri", "longest_below_70_min"):
        np.testing.assert_array_equal(getattr(offline, name), getattr(streamed, name))


IN_RANGE_DAY = [120.0] * 480  # a day of 3-minute samples in range, so that GRI stays low


def _severity(trace: list[float], step: float = 3.0) -> tuple[Severity, tuple[str, ...]]:
    assessment = assess_severity(glucose_metrics(trace + IN_RANGE_DAY, step))[0]
    return assessment.severity, assessment.criteria


def test_an_ordinary_day_is_negligible() -> None:
    assert _severity([120.0, 150.0, 175.0, 140.0, 100.0] * 20) == (Severity.NEGLIGIBLE, ())


def test_level_1_hypoglycaemia_for_15_minutes_is_minor() -> None:
    severity, criteria = _severity([100.0] + [65.0] * 5 + [100.0])
    assert severity is Severity.MINOR and criteria == ("HYPO-70",)


def test_level_2_hypoglycaemia_for_15_minutes_is_serious_but_12_minutes_is_not() -> None:
    assert _severity([100.0] + [50.0] * 5 + [100.0])[0] is Severity.SERIOUS
    severity, criteria = _severity([100.0] + [50.0] * 4 + [100.0])
    assert severity is Severity.NEGLIGIBLE and criteria == ()


def test_two_hours_below_54_or_15_minutes_below_40_is_critical() -> None:
    severity, criteria = _severity([50.0] * 40)  # 120 min
    assert severity is Severity.CRITICAL
    assert criteria[0] == "HYPO-54-EXTENDED" and "HYPO-54" in criteria
    assert _severity([35.0] * 5 + [80.0])[0] is Severity.CRITICAL


def test_two_hours_below_40_is_catastrophic() -> None:
    severity, criteria = _severity([30.0] * 40)
    assert severity is Severity.CATASTROPHIC and criteria[0] == "HYPO-40-EXTENDED"


def test_hyperglycaemia_classes() -> None:
    assert _severity([260.0] * 5 + [150.0] * 100)[0] is Severity.MINOR  # 15 min > 250
    assert _severity([260.0] * 40 + [150.0] * 100)[0] is Severity.SERIOUS  # 2 h > 250
    assert _severity([320.0] * 80 + [150.0] * 100)[0] is Severity.CRITICAL  # 4 h > 300


def test_every_default_criterion_names_a_metric_and_its_basis() -> None:
    metrics = glucose_metrics([100.0], 3)
    for criterion in SEVERITY_CRITERIA:
        assert criterion.basis
        criterion.met(metrics)  # the metric exists


def test_a_manufacturer_may_pass_its_own_criteria() -> None:
    strict = [SeverityCriterion("ANY-BELOW-70", Severity.SERIOUS, "min_bg", "<", 70.0, "house")]
    assessment = assess_severity(glucose_metrics([100.0, 69.0], 3), strict)[0]
    assert assessment.severity is Severity.SERIOUS and assessment.criteria == ("ANY-BELOW-70",)
