"""Evasion of the glucose forecaster the reference device declares (issue 14, item 4): the
held-out split, the attacker's constraints checked on every example it produces, the signed
influence measured from the trained trees, and harm in the closed loop from the attacked model.

Real data: simglucose's 30 virtual patients; every run is seeded."""

from __future__ import annotations

import importlib.util
import os

import numpy as np
import pytest
from conftest import EXAMPLES

from mdrisk.impact.evasion.capability import (
    CGM_HISTORY_FEATURES,
    CgmCapability,
    cgm_capabilities,
    declared_max_rate,
    declared_range,
)
from mdrisk.impact.evasion.history import (
    from_increments,
    history_mask,
    to_increments,
    values_at_lags,
    violations,
)
from mdrisk.impact.evasion.influence import (
    disagreements,
    effect_of_curve,
    measure_influence,
    measured_effects,
    with_measured_effects,
)
from mdrisk.impact.forecast_model.features import FEATURE_NAMES
from mdrisk.model.loader import load_model
from mdrisk.model.schema import Effect

needs_simglucose = pytest.mark.skipif(
    importlib.util.find_spec("simglucose") is None and os.environ.get("CI") != "true",
    reason="simglucose is not installed: no patient tables (pip install -e '.[sim]')",
)
PHYSIOLOGIC = CgmCapability("physiologic", 40.0, 400.0, 4.0)


@pytest.fixture(scope="module")
def bgms():
    return load_model(EXAMPLES / "bgms.yaml").model


# -- no simulator needed --------------------------------------------------------------------


def test_the_capability_comes_from_the_declared_range_and_rate_detector(bgms) -> None:
    assert declared_range(bgms) == (40.0, 400.0)
    assert declared_max_rate(bgms) == 6.0
    capabilities = cgm_capabilities(bgms)
    assert capabilities["detector"].max_rate == 6.0
    assert capabilities["physiologic"].max_rate == 4.0
    assert capabilities["physiologic"].features == CGM_HISTORY_FEATURES
    assert np.isinf(capabilities["unconstrained"].max_rate)
    # bgms.yaml proposes residual CUSUM detectors: the stealthy attacker keeps them at rest.
    assert capabilities["stealthy"].cusum_budget is not None


def test_history_coordinates_round_trip() -> None:
    rng = np.random.default_rng(3)
    rows = rng.uniform(-50, 250, (20, len(FEATURE_NAMES)))
    assert np.allclose(from_increments(to_increments(rows)), rows)
    assert history_mask().sum() == len(CGM_HISTORY_FEATURES)


def test_a_change_outside_the_cgm_history_or_a_fast_history_is_a_violation() -> None:
    clean = np.zeros((3, len(FEATURE_NAMES)))
    clean[:, FEATURE_NAMES.index("cgm")] = 150.0
    attacked = clean.copy()
    attacked[0, FEATURE_NAMES.index("iob")] = 1.0  # not the attacker's to change
    attacked[1, FEATURE_NAMES.index("cgm")] = 150.0 + 13.0  # 13 mg/dL in 3 min: 4.3 /min
    attacked[1, FEATURE_NAMES.index("slope")] = 13.0 / 3.0
    attacked[
        1, [FEATURE_NAMES.index(n) for n in ("delta_15", "delta_30", "delta_60", "delta_120")]
    ] = 13.0
    attacked[2, FEATURE_NAMES.index("cgm")] = 160.0  # the whole window 10 higher: allowed
    assert violations(clean, attacked, PHYSIOLOGIC).tolist() == [True, True, False]


def test_a_curve_that_rises_and_falls_is_non_monotonic() -> None:
    assert effect_of_curve(np.array([1.0, 2.0, 3.0]))[0] is Effect.increases
    assert effect_of_curve(np.array([3.0, 2.0, 1.0]))[0] is Effect.decreases
    assert effect_of_curve(np.array([1.0, 3.0, 1.5]))[0] is Effect.non_monotonic
    assert effect_of_curve(np.array([1.0, 1.1, 1.05]))[0] is Effect.unknown


def test_measured_effects_replace_the_declared_ones_in_a_copy(bgms) -> None:
    measured = {"insulin_on_board": Effect.non_monotonic, "carb_entry": Effect.increases}
    assert disagreements(bgms, measured) == [("insulin_on_board", "decreases", "non_monotonic")]
    changed = with_measured_effects(bgms, measured)
    inputs = {i.signal: i.effect for i in changed.component("forecaster").ml.inputs}
    assert inputs["insulin_on_board"] is Effect.non_monotonic
    assert inputs["cgm_glucose"] is Effect.increases
    original = {i.signal: i.effect for i in bgms.component("forecaster").ml.inputs}
    assert original["insulin_on_board"] is Effect.decreases


# -- the trained forecasters ----------------------------------------------------------------


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("MDRISK_CACHE_DIR", str(tmp_path_factory.mktemp("cache")))
        from mdrisk.impact.evasion.accuracy import evaluation_data
        from mdrisk.impact.evasion.models import held_out_models

        yield held_out_models("gbt"), held_out_models("ridge"), evaluation_data()


@needs_simglucose
def test_no_evaluation_patient_is_forecast_by_a_model_trained_on_it() -> None:
    from mdrisk.impact.evasion.models import (
        EVALUATION_PATIENTS,
        evaluated_patients,
        training_patients,
    )

    assert len(EVALUATION_PATIENTS) == 30
    covered = set()
    for fold in (0, 1):
        assert not set(training_patients(fold)) & set(evaluated_patients(fold))
        assert {p.partition("#")[0] for p in training_patients(fold)} == {
            "adult",
            "adolescent",
            "child",
        }
        covered |= set(evaluated_patients(fold))
    assert covered == set(EVALUATION_PATIENTS)


@needs_simglucose
def test_the_trees_are_at_least_as_accurate_as_the_ridge_on_held_out_patients(trained) -> None:
    from mdrisk.impact.evasion.accuracy import held_out_accuracy

    gbt, ridge, data = trained
    trees, linear = held_out_accuracy(gbt, data), held_out_accuracy(ridge, data)
    assert len(trees.patients) == 30
    assert trees.rmse <= linear.rmse
    assert trees.rmse < 0.8 * trees.naive_rmse
    assert trees.clarke_ab >= 0.97


@needs_simglucose
def test_influence_measured_from_the_trained_trees(trained) -> None:
    gbt, ridge, data = trained
    trees = measured_effects(measure_influence(gbt, data, every=60))
    assert trees["cgm_glucose"] is Effect.increases
    assert trees["fingerstick_glucose"] is Effect.increases
    assert trees["carb_entry"] is Effect.increases
    # More insulin on board does not lower the trees' forecast everywhere: the measured sign
    # disagrees with bgms.yaml's declared "decreases"; the linear baseline agrees with it.
    assert trees["insulin_on_board"] is Effect.non_monotonic
    linear = measured_effects(measure_influence(ridge, data, every=60))
    assert linear["insulin_on_board"] is Effect.decreases


@needs_simglucose
def test_offline_attacks_change_only_the_cgm_history_within_range_and_rate(trained) -> None:
    pytest.importorskip("art", reason="the ml extra is not installed")
    from mdrisk.impact.evasion.offline import decision_points, hopskipjump_attack, search_attack

    gbt, _, data = trained
    points = decision_points(gbt, data, count=8)
    outside = ~history_mask().astype(bool)
    for result in (
        search_attack(gbt, points, PHYSIOLOGIC),
        hopskipjump_attack(gbt, points, PHYSIOLOGIC, max_iter=3, max_eval=50),
    ):
        assert result.successes > 0
        attacked = result.attacked
        assert np.array_equal(attacked[:, outside], points.features[:, outside])
        values = values_at_lags(attacked[result.success])
        assert values.min() >= 40.0 and values.max() <= 400.0
        rates = np.abs(np.diff(values, axis=1)) / np.diff([0.0, 3.0, 15.0, 30.0, 60.0, 120.0])
        changed = np.abs(values - values_at_lags(points.features[result.success])).max(axis=1) > 0
        assert (rates[changed] <= 4.0 + 1e-6).all()
        assert gbt.predict(attacked[result.success], points.folds[result.success]).min() >= 200.0


@pytest.fixture(scope="module")
def closed_loop(trained):
    from mdrisk.impact.evasion.closed_loop import EvasionSetup, run_evasion

    gbt, _, _ = trained
    # Children the 30-patient run finds brought below 54 mg/dL, and an adult it does not.
    setup = EvasionSetup(patients=("child#009", "child#010", "adult#007"))
    return run_evasion(gbt, [PHYSIOLOGIC], setup)


@needs_simglucose
def test_every_forged_reading_stays_within_range_and_rate(closed_loop) -> None:
    true, sent, touched = closed_loop.attacker.traces()
    rows = closed_loop.block_rows["physiologic"]
    assert touched[rows].any()
    step = 4.0 * 3.0
    for row in rows:
        forged = np.flatnonzero(touched[row])
        assert (sent[row, forged] >= 40.0).all() and (sent[row, forged] <= 400.0).all()
        jumps = np.abs(sent[row, forged] - sent[row, forged - 1])
        assert (jumps <= step + 1e-9).all()
    # Rows outside the attacked block receive the true readings.
    others = np.setdiff1d(np.arange(len(true)), rows)
    assert np.array_equal(true[others], sent[others])
    assert not closed_loop.blocks["physiologic"].forged_alarms.any()


@needs_simglucose
def test_the_attacker_changes_nothing_but_the_cgm_readings(closed_loop) -> None:
    attacker = closed_loop.attacker
    values = np.arange(len(attacker.attacked), dtype=float)
    for signal in ("carbs", "iob", "bolus", "basal", "pump_bolus", "fingerstick"):
        assert attacker.apply(signal, 600.0, values) is values
    carbs = closed_loop.result.trace("carbs").values
    rows = closed_loop.block_rows
    assert np.array_equal(carbs[rows["clean"]], carbs[rows["physiologic"]])


@needs_simglucose
def test_the_attacked_model_causes_more_time_below_54_than_clean(closed_loop) -> None:
    block = closed_loop.blocks["physiologic"]
    for harm in block.harm:
        if harm.patient.startswith("child"):
            assert harm.attacked["minutes_below_54"] > harm.clean["minutes_below_54"]
            assert harm.induced_severity is not None
        assert harm.attacked["lbgi"] > harm.clean["lbgi"]
    assert block.pushed > 0 and block.queries > 0
    assert closed_loop.blocks["clean"].pushed == 0


def test_tree_arrays_predict_exactly_what_scikit_learn_predicts() -> None:
    from sklearn.ensemble import HistGradientBoostingRegressor

    from mdrisk.impact.forecast_model.trees import from_histogram_boosting
    from mdrisk.impact.forecasting.threads import one_openmp_thread

    rng = np.random.default_rng(7)
    x = rng.normal(size=(400, 5))
    y = x[:, 0] * 3 - np.abs(x[:, 1]) + 0.1 * rng.normal(size=400)
    with one_openmp_thread():
        fitted = HistGradientBoostingRegressor(max_iter=30, random_state=0).fit(x, y)
        expected = [fitted.predict(rows) for rows in (x[:1], x[:7], x)]
    trees = from_histogram_boosting(fitted)
    for rows, predicted in zip((x[:1], x[:7], x), expected, strict=True):
        assert np.array_equal(trees.predict(rows), predicted)


@needs_simglucose
def test_the_impact_analysis_can_dose_from_the_held_out_trees(trained) -> None:
    from mdrisk.impact.attacks.spec import parse_plan
    from mdrisk.impact.experiment import RunSetup, run_attacks

    gbt, _, _ = trained
    setup = RunSetup(patients=("adult#002",))
    plans = [parse_plan("bias:+60@forecast,08:00-14:00")]
    trees = run_attacks(setup, plans, forecaster=gbt.for_rows)
    ridge = run_attacks(setup, plans)
    assert trees.harm(0)[0].clean["mean_bg"] != ridge.harm(0)[0].clean["mean_bg"]
    assert trees.harm(0)[0].attacked["lbgi"] > trees.harm(0)[0].clean["lbgi"]


@needs_simglucose
def test_records_for_the_ml_attacks_section(closed_loop) -> None:
    from mdrisk.impact.evasion.records import closed_loop_records

    records = {
        r.fdi_point: r
        for r in closed_loop_records(closed_loop, {"physiologic": PHYSIOLOGIC}, "gbt")
    }
    evasion = records["cgm_to_app"]
    assert evasion.signal == "cgm_glucose"
    assert evasion.atlas == ("AML.T0015", "AML.T0043.000")
    assert 0 < evasion.success_rate <= 1 and evasion.queries > 0
    assert "4 mg/dL/min" in evasion.constraints
    assert (
        evasion.harm["child"]["minutes_below_54"] > evasion.harm["child"]["minutes_below_54_clean"]
    )
    assert records["forecaster_to_advisor"].attack.startswith("output bias")
    assert set(evasion.as_dict()) >= {"attack", "fdi_point", "constraints", "success_rate", "seed"}


@needs_simglucose
def test_the_closed_loop_evasion_is_an_ml_attack_of_the_cgm_entry_and_its_risks(bgms) -> None:
    from mdrisk import bundled
    from mdrisk.mlattack.closed_loop import closed_loop_attacks
    from mdrisk.mlattack.scenario_links import with_attacks, with_scenarios
    from mdrisk.model import load_model as load
    from mdrisk.pipeline import assess

    assessment = assess(load(EXAMPLES / "bgms.yaml"), created="2026-01-01T00:00:00Z")
    attacks = closed_loop_attacks(
        bgms,
        assessment.fdi_points,
        assessment.loss_scenarios,
        bundled.glucose_impact().inputs,
        patients=("child#009", "child#010", "adult#007"),
    )
    assert {
        a.constraints.rate_limits[0].max_per_min for a in attacks if a.constraints.rate_limits
    } >= {4.0, 6.0}
    cgm_points = {p.id for p in assessment.fdi_points if p.ml_input == "cgm_glucose"}
    for attack in attacks:
        assert attack.element == "cgm_to_app"  # the BLE link the raise classes stand on
        assert set(attack.fdi_points) == cgm_points
        assert attack.perturbation_unit == "mg/dL" and attack.status == "run"
        assert (attack.constraints.bounds[0].low, attack.constraints.bounds[0].high) == (
            (0.0, 1000.0) if attack.id == attacks[0].id else (40.0, 400.0)
        )
        assert set(attack.harm) == {"all", "child", "adult"}
        assert "H-1" in attack.hazards
    physiologic = next(a for a in attacks if "'physiologic'" in a.method)
    assert (
        physiologic.harm["child"]["minutes_below_54"]
        > physiologic.harm["child"]["minutes_below_54_clean"]
    )
    linked = with_scenarios(attacks, assessment.scenarios)
    assert all(a.scenarios for a in linked)
    risks = [r for r in with_attacks(assessment.risks, linked) if r.ml_attacks]
    assert risks and all(
        r.element == "cgm_to_app" or set(r.scenarios) & set(linked[0].scenarios) for r in risks
    )


@needs_simglucose
def test_the_stand_in_forecaster_s_measured_influence_is_a_check_not_a_change(bgms) -> None:
    from mdrisk import bundled
    from mdrisk.mlattack.closed_loop import stand_in_influence_checks

    checks = stand_in_influence_checks(bgms, bundled.glucose_impact().inputs)
    # The trees learn insulin on board non-monotonically (it is high after meals, when
    # glucose rises); bgms declares it lowers the forecast and the analysis keeps that.
    assert [(c[0], c[1]) for c in checks] == [("measured-influence", "info")]
    assert "insulin_on_board" in checks[0][2] and "'decreases'" in checks[0][2]
    assert "keeps the declaration" in checks[0][2]
