"""Evasion of the glucose forecaster of the reference device (bgms.yaml), in one command.

    python benchmarks/glucose_evasion_bench.py           # 30 patients, the reference day
    python benchmarks/glucose_evasion_bench.py --days 5  # 5 random days per patient
    python benchmarks/glucose_evasion_bench.py --quick   # 20 decision points offline

What it measures, every figure in this process:

1. the forecaster bgms.yaml declares (gradient-boosted trees) and the ridge baseline, each
   trained by two-fold cross-fitting over the 30 virtual patients (#001-005 forecast by a
   model of #006-010 and the other way round): RMSE, MAE, Clarke and Parkes zones on the 30
   evaluation patients' held-out days, the trees' ratio to the ridge;
2. the signed influence of each input measured from each model, and where it disagrees with
   the ``effect:`` bgms.yaml declares;
3. evasion at single decision points (between meals, forecast 140-199 mg/dL): the
   smallest change of the CGM history that puts the forecast at 200 mg/dL or above, by ART's
   HopSkipJump and by an exhaustive search, with no constraint, the declared range, the
   declared rate detector (6 mg/dL/min) and the physiological rate (4 mg/dL/min): success,
   perturbation, model queries, time;
4. the closed loop, 30 patients: clean, the evasion attacker at the CGM link feeding the trees
   forged readings (per constraint set; ``stealthy`` also pushes only while the proposed
   residual CUSUM detectors are near rest), and the former model of the attack, a bias on the
   forecast output; decision points pushed, alarms (the declared detectors, and the stealth
   monitor's physiology and forecast-residual CUSUMs), harm per cohort (time below 54 mg/dL,
   LBGI, patients with an induced ISO 14971 severity); speed in patient-days per second
   against a baseline run of the existing impact analysis (ridge, clean and output bias) in
   the same process.

Goals: the whole run in under 90 s; the trees at least as accurate as the ridge (RMSE); no
declared detector fires on a reading the constrained attacker forged. Exit status 0 when
all are met, 1 otherwise.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

from mdrisk.impact.attacks.spec import parse_plan
from mdrisk.impact.evasion.accuracy import evaluation_data, held_out_accuracy
from mdrisk.impact.evasion.capability import cgm_capabilities
from mdrisk.impact.evasion.closed_loop import CLEAN, run_evasion, setup_for
from mdrisk.impact.evasion.influence import disagreements, measure_influence, measured_effects
from mdrisk.impact.evasion.models import EVALUATION_PATIENTS, SPLIT, held_out_models
from mdrisk.impact.evasion.offline import decision_points, hopskipjump_attack, search_attack
from mdrisk.impact.evasion.records import cohort_harm
from mdrisk.impact.experiment import RunSetup, run_attacks
from mdrisk.model.loader import load_model

BUDGET_S = 90.0
BGMS = Path(__file__).resolve().parent.parent / "src" / "mdrisk" / "examples" / "bgms.yaml"


def _ratio(a: float, b: float) -> str:
    return f"{a / b:.2f}x" if b else "n/a"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--days", type=int, default=0, help="random days per patient (0: the reference day)"
    )
    parser.add_argument("--quick", action="store_true", help="20 decision points offline, not 40")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    device = load_model(BGMS).model
    capabilities = cgm_capabilities(device)

    # 1. accuracy ------------------------------------------------------------------------
    timer = time.perf_counter()
    ridge = held_out_models("ridge")
    ridge_s = time.perf_counter() - timer
    timer = time.perf_counter()
    gbt = held_out_models("gbt")
    gbt_s = time.perf_counter() - timer
    data = evaluation_data()
    accuracy = {"gbt": held_out_accuracy(gbt, data), "ridge": held_out_accuracy(ridge, data)}
    print(f"split: {SPLIT}")
    print(f"training (two folds each): gbt {gbt_s:.1f} s, ridge {ridge_s:.1f} s")
    print(
        f"accuracy on {len(EVALUATION_PATIENTS)} evaluation patients, {len(data)} points "
        f"(no-change forecast RMSE {accuracy['gbt'].naive_rmse:.1f} mg/dL):"
    )
    print(f"  {'model':6} {'RMSE':>6} {'MAE':>6} {'Clarke A':>9} {'A+B':>6} {'Parkes A+B':>11}")
    for name, a in accuracy.items():
        print(
            f"  {name:6} {a.rmse:6.2f} {a.mae:6.2f} {100 * a.clarke['A']:8.1f}% "
            f"{100 * a.clarke_ab:5.1f}% {100 * a.parkes_ab:10.1f}%"
        )
    print(
        f"  gbt/ridge: RMSE {_ratio(accuracy['gbt'].rmse, accuracy['ridge'].rmse)}, "
        f"MAE {_ratio(accuracy['gbt'].mae, accuracy['ridge'].mae)}"
    )

    # 2. signed influence ----------------------------------------------------------------
    print(
        "\nsigned influence measured from each model (partial dependence over the evaluation data):"
    )
    for name, models in (("gbt", gbt), ("ridge", ridge)):
        timer = time.perf_counter()
        measured = measure_influence(models, data)
        seconds = time.perf_counter() - timer
        for m in measured:
            mark = "" if m.decisive else "  (detail)"
            print(f"  {name:5} {m.summary()}{mark}")
        disagree = disagreements(device, measured_effects(measured))
        print(
            f"  {name:5} {sum(m.queries for m in measured)} queries, {seconds:.1f} s; "
            f"disagreements with bgms.yaml: "
            + (", ".join(f"{s} declared {d}, measured {x}" for s, d, x in disagree) or "none")
        )

    # 3. offline evasion -----------------------------------------------------------------
    points = decision_points(gbt, data, count=20 if args.quick else 40)
    print(
        f"\nevasion at {len(points.features)} decision points (gbt; between meals, forecast "
        f"{points.forecast.min():.0f}-{points.forecast.max():.0f} mg/dL, goal >= 200):"
    )
    print(
        f"  {'solver':12} {'free':12} {'constraints':14} {'success':>8} {'rejected':>8} "
        f"{'Linf':>6} {'L2':>6} {'queries/pt':>10} {'time s':>7}"
    )
    runs = []
    # "stealthy" differs from "physiologic" only in the closed loop (the CUSUMs need a day).
    for capability in (c for c in capabilities.values() if c.cusum_budget is None):
        runs.append(search_attack(gbt, points, capability))
        runs.append(hopskipjump_attack(gbt, points, capability))
    runs.append(hopskipjump_attack(gbt, points, capabilities["unconstrained"], all_features=True))
    for r in runs:
        print(
            f"  {r.solver:12} {r.features_free:12} {r.capability:14} "
            f"{100 * r.success_rate:7.0f}% {r.rejected:8d} {r.linf_median:6.1f} "
            f"{r.l2_median:6.1f} {r.queries / r.samples:10.0f} {r.seconds:7.2f}"
        )
    # The ridge baseline at its own decision points, for comparison.
    ridge_points = decision_points(ridge, data, count=len(points.features))
    ridge_runs = [
        search_attack(ridge, ridge_points, capabilities["physiologic"]),
        hopskipjump_attack(ridge, ridge_points, capabilities["physiologic"]),
    ]
    for r in ridge_runs:
        print(
            f"  {r.solver:12} {'(ridge)':12} {r.capability:14} "
            f"{100 * r.success_rate:7.0f}% {r.rejected:8d} {r.linf_median:6.1f} "
            f"{r.l2_median:6.1f} {r.queries / r.samples:10.0f} {r.seconds:7.2f}"
        )
    search_phys = next(r for r in runs if r.solver == "search" and r.capability == "physiologic")
    hsj_phys = next(r for r in runs if r.solver == "hopskipjump" and r.capability == "physiologic")
    print(
        f"  hopskipjump/search, physiologic: Linf {_ratio(hsj_phys.linf_median, search_phys.linf_median)}, "
        f"queries {_ratio(hsj_phys.queries, search_phys.queries)}, "
        f"time {_ratio(hsj_phys.seconds, search_phys.seconds)}"
    )

    # 4. closed loop ---------------------------------------------------------------------
    timer = time.perf_counter()
    baseline = run_attacks(
        RunSetup(patients=EVALUATION_PATIENTS, mc_days=args.days),
        [parse_plan("bias:+60@forecast,08:00-14:00")],
    )
    baseline_s = time.perf_counter() - timer
    baseline_days = len(baseline.result)
    attacked = [
        capabilities[n]
        for n in ("physiologic", "stealthy", "detector", "unconstrained")
        if n in capabilities
    ]
    loop = run_evasion(gbt, attacked, setup_for(device, mc_days=args.days))
    print(
        f"\nclosed loop, {len(EVALUATION_PATIENTS)} patients x {max(args.days, 1)} day(s), "
        f"{loop.patient_days} patient-days in {loop.seconds:.1f} s "
        f"({loop.patient_days / loop.seconds:.1f} patient-days/s; baseline, ridge clean + output "
        f"bias: {baseline_days} in {baseline_s:.1f} s, {baseline_days / baseline_s:.1f}/s; "
        f"ratio {_ratio(loop.patient_days / loop.seconds, baseline_days / baseline_s)})"
    )
    print(
        f"  {'block':14} {'days':>5} {'pushed':>7} {'decisions':>9} {'pushed':>7} {'queries':>8} {'offset':>7} "
        f"{'window':>7} {'corr/day':>8} {'declared':>8} {'forged':>6} {'rate4':>6} "
        f"{'physio':>6} {'fcast':>6}"
    )
    for name, block in loop.blocks.items():
        alarms = block.stealth.alarms
        newest = float(np.median(block.newest_offsets)) if len(block.newest_offsets) else 0.0
        window = float(np.median(block.window_offsets)) if len(block.window_offsets) else 0.0
        print(
            f"  {name:14} {block.days_decided:5d} {100 * block.day_success_rate:6.0f}% "
            f"{block.decisions:9d} {100 * block.success_rate:6.0f}% "
            f"{block.queries:8d} {newest:7.1f} {window:7.1f} {block.correction_boluses:8.2f} "
            f"{100 * block.declared_alarms.mean():7.0f}% {int(block.forged_alarms.sum()):6d} "
            f"{100 * alarms['rate'].mean():5.0f}% {100 * alarms['residual'].mean():5.0f}% "
            f"{100 * alarms['forecast_residual'].mean():5.0f}%"
        )
    print(
        "  (days: patient-days with a correction decision point, and the share on which the"
        " forecast was pushed past 200;\n   decisions: every eligible period, and the share"
        " pushed; offset, window: median |forged - true| mg/dL at the pushed decisions, of the"
        "\n   newest reading and over the 2-h history; declared: cgm_range or cgm_rate fired,"
        " forged: ... on a forged reading;\n   rate4, physio, fcast: the stealth monitor's"
        " 4 mg/dL/min rate, physiology CUSUM and forecast-residual CUSUM; share of patient-days)"
    )
    ridge_loop = run_evasion(
        ridge, [capabilities["physiologic"]], setup_for(device, mc_days=args.days)
    )
    block = ridge_loop.blocks["physiologic"]
    print(
        f"  ridge baseline, physiologic: {100 * block.day_success_rate:.0f}% of "
        f"{block.days_decided} days pushed, {100 * block.success_rate:.0f}% of "
        f"{block.decisions} decisions, median offset "
        f"{float(np.median(block.newest_offsets)) if len(block.newest_offsets) else 0.0:.1f} "
        f"mg/dL, {ridge_loop.seconds:.1f} s"
    )

    print("\n  harm per cohort (mean per patient-day; harmed: patients with an induced severity):")
    print(
        f"  {'block':14} {'cohort':11} {'min<54':>7} {'clean':>6} {'ratio':>6} {'LBGI':>6} "
        f"{'clean':>6} {'ratio':>6} {'harmed':>6} {'worst':>12}"
    )
    shown = [(loop, n, n) for n in loop.blocks if n != CLEAN]
    shown.append((ridge_loop, "physiologic", "ridge physio"))
    for runs_of, name, label in shown:
        _, population = runs_of.summary(name)
        worst = {p.group: p.worst_induced_severity or "-" for p in population}
        for cohort, h in cohort_harm(runs_of, name).items():
            print(
                f"  {label:14} {cohort:11} {h['minutes_below_54']:7.1f} "
                f"{h['minutes_below_54_clean']:6.1f} "
                f"{_ratio(h['minutes_below_54'], h['minutes_below_54_clean']):>6} "
                f"{h['lbgi']:6.2f} {h['lbgi_clean']:6.2f} {_ratio(h['lbgi'], h['lbgi_clean']):>6} "
                f"{int(h['patients_harmed']):6d} {worst.get(cohort, '-'):>12}"
            )

    total = time.perf_counter() - started
    constrained = [c.name for c in attacked if c.name != "unconstrained"]
    forged = sum(int(loop.blocks[n].forged_alarms.sum()) for n in constrained)
    forged += int(ridge_loop.blocks["physiologic"].forged_alarms.sum())
    goals = {
        f"whole run under {BUDGET_S:g} s ({total:.1f} s)": total < BUDGET_S,
        "trees at least as accurate as the ridge (RMSE)": accuracy["gbt"].rmse
        <= accuracy["ridge"].rmse,
        f"no declared detector fires on a constrained forged reading ({forged})": forged == 0,
    }
    print()
    for goal, met in goals.items():
        print(f"  {'met   ' if met else 'MISSED'} {goal}")
    return 0 if all(goals.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
