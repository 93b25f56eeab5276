"""The ML engine, the attack batch and the worst-case search on the glucose reference device.

    python benchmarks/attack_bench.py            # everything (a few minutes on 2 cores)
    python benchmarks/attack_bench.py --quick    # no gradient-boosted model, a smaller search

Printed, all measured in this process:

1. the forecaster's clean accuracy on the 9 held-out patients (RMSE, Clarke and Parkes A+B)
   for the default ridge model and, for comparison, gradient-boosted trees (the model type the
   device names): training and prediction time, and the ratio between them;
2. vectorised attacks: 40 attack candidates x 10 adults evaluated as one batch against the
   same candidates simulated one after another (the baseline); the throughput ratio;
3. the worst-case search with the default budget (|offset| <= 60 mg/dL on the CGM reading,
   at most 4 h, any start on an hourly grid) on the 10 adults with the ML-advised
   controller: the worst stealthy attack against the naive constant biases.

Exit status 0 when the search's stealthy attack is measurably worse (>= 5 more minutes below
54 mg/dL per patient, on average) than the naive stealthy bias, 1 otherwise.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time

import numpy as np

ADULTS = tuple(f"adult#{i:03d}" for i in range(1, 11))


def forecaster_section(quick: bool) -> None:
    from mdrisk.impact.forecasting import TrainingConfig, forecast_accuracy, train_forecaster

    print("1. forecaster (30 min ahead), held-out patients:", flush=True)
    estimators = ("ridge",) if quick else ("ridge", "gbt")
    timings = {}
    for name in estimators:
        config = TrainingConfig(estimator=name)
        started = time.perf_counter()
        model = train_forecaster(config)
        trained = time.perf_counter() - started
        accuracy = forecast_accuracy(model, config)
        features = np.random.default_rng(0).uniform(0, 200, (3000, len(model.feature_names)))
        started = time.perf_counter()
        for _ in range(20):
            model.predict(features)
        predict = (time.perf_counter() - started) / 20
        timings[name] = (trained, predict)
        print(f"   {name:5}: {accuracy.summary()}")
        print(
            f"          trained in {trained:.1f} s; one prediction for a batch of 3,000 "
            f"rows: {1000 * predict:.2f} ms"
        )
    if "gbt" in timings:
        print(
            f"   gbt / ridge: training {timings['gbt'][0] / timings['ridge'][0]:.0f}x, "
            f"prediction {timings['gbt'][1] / timings['ridge'][1]:.0f}x slower"
        )


def batch_section() -> None:
    from mdrisk.impact.experiment import RunSetup, run_attacks
    from mdrisk.impact.search import Candidate, SearchBudget, evaluate

    setup = RunSetup(patients=ADULTS)
    clean = run_attacks(setup, [])
    starts = range(0, 1440, 36)
    candidates = [Candidate("cgm", 60.0, s, 120, 20.0) for s in starts][:40]
    started = time.perf_counter()
    batched = evaluate(setup, candidates, clean, SearchBudget().objective)
    batch_time = time.perf_counter() - started
    started = time.perf_counter()
    alone = [evaluate(setup, [c], clean, SearchBudget().objective)[0] for c in candidates[:8]]
    one_time = (time.perf_counter() - started) / 8 * len(candidates)
    same = all(a.score == b.score for a, b in zip(alone, batched[:8], strict=True))
    patient_days = len(candidates) * len(ADULTS)
    print(
        f"2. {len(candidates)} attack candidates x {len(ADULTS)} adults = {patient_days} "
        f"patient-days (ML-advised controller, stealth monitor):"
    )
    print(
        f"   one batch: {batch_time:.1f} s ({patient_days / batch_time:.0f} patient-days/s); "
        f"one candidate at a time (8 timed, scaled): {one_time:.1f} s; ratio "
        f"{one_time / batch_time:.1f}x; same results: {same}"
    )


def search_section(quick: bool) -> bool:
    from mdrisk.impact.experiment import RunSetup
    from mdrisk.impact.search import parse_budget, search_worst_attack

    text = "max=60,duration=2h,grid=60min,from=16:00,to=19:00" if quick else "default"
    budget = parse_budget(text)
    started = time.perf_counter()
    result = search_worst_attack(RunSetup(patients=ADULTS), budget)
    elapsed = time.perf_counter() - started
    print(
        f"3. worst-case search, budget {budget.text}, 10 adults: {result.evaluated} "
        f"candidates in {elapsed:.0f} s"
    )
    rows = (
        ("worst stealthy attack", result.best),
        ("naive stealthy bias", result.naive),
        ("naive full-budget bias", result.naive_full),
    )
    for label, outcome in rows:
        if outcome is None:
            print(f"   {label:24} none")
            continue
        harmed = sum(h.induced_severity is not None for h in outcome.harm)
        alarms = ",".join(sorted({a for patient in outcome.alarms for a in patient}))
        print(
            f"   {label:24} {outcome.candidate.text:36} "
            f"{outcome.mean_delta('minutes_below_54'):+6.1f} min <54, "
            f"{outcome.mean_delta('minutes_below_70'):+6.1f} min <70, "
            f"{outcome.mean_delta('lbgi'):+5.2f} LBGI, {harmed}/10 harmed, "
            f"{'stealthy' if outcome.stealthy else 'caught by ' + alarms}"
        )
    if result.best is None or result.naive is None:
        return False
    margin = result.best.mean_delta("minutes_below_54") - result.naive.mean_delta(
        "minutes_below_54"
    )
    print(
        f"   the worst stealthy attack adds {margin:+.1f} min below 54 mg/dL per patient "
        "over the naive stealthy bias"
    )
    return margin >= 5.0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    os.environ.setdefault("MDRISK_CACHE_DIR", tempfile.mkdtemp(prefix="mdrisk-bench-"))
    forecaster_section(args.quick)
    batch_section()
    met = search_section(args.quick)
    print("goal met" if met else "goal NOT met")
    return 0 if met else 1


if __name__ == "__main__":
    sys.exit(main())
