"""Speed, memory and fidelity of the vectorised glucose simulator against simglucose, in one run.

    python benchmarks/sim_bench.py            # 300 patient-days; simglucose: 10 timed + 20 more
    python benchmarks/sim_bench.py --quick    # fidelity from the 10 timed patients only

Work: the 30 virtual patients x 10 scenario variants (a normal day and nine variants standing
in for attacks: CGM bias up and down, inflated carb entries, a meal not entered, a large
dinner, tripled boluses, a pump stopped for 6 hours, a frozen CGM, shifted meals) = 300
patient-days with the basal-bolus controller, Dexcom sensor (no noise) and Insulet pump.

Measured in the same process:
  * the vectorised simulator: all 300 patient-days in one batch (median of 3 runs; wall and
    CPU time, the goal judged on CPU time, which other load on the machine disturbs less), its peak
    traced allocation (tracemalloc) and the process's peak RSS before simglucose is imported;
  * simglucose 0.2.11: a sample of 10 patient-days (one patient in three, the normal day;
    the variants cost simglucose the same), run one after another in this process;
  * fidelity: max |BG error| per minute over 24 h between the two, for every one of the 30
    patients (the 20 untimed references run in a pool of two processes).

Goals: throughput ratio >= 1,000x per patient-day; fidelity < 1 mg/dL for every patient.
Exit status 0 when both are met, 1 otherwise.
"""

from __future__ import annotations

import argparse
import gc
import resource
import statistics
import sys
import time
import tracemalloc
from concurrent.futures import ProcessPoolExecutor

import numpy as np

from mdrisk.impact import MealScenario, cross, load_patients, simulate

DAY = [(7, 45), (12, 70), (18, 80), (21, 15)]
RATIO_GOAL = 1000.0
FIDELITY_GOAL_MG_DL = 1.0
TIMED_SIMGLUCOSE_PATIENTS = 10


def variants() -> list[MealScenario]:
    """Ten scenarios per patient; taps (below) turn some of them into attacks."""
    day = MealScenario.from_hours(DAY, name="normal day")
    return [
        day,
        MealScenario.from_hours(DAY, name="CGM +40 mg/dL from 10:00"),
        MealScenario.from_hours(DAY, name="CGM -40 mg/dL from 10:00"),
        MealScenario.from_hours(DAY, name="carb entries x2"),
        MealScenario.from_hours(
            DAY, announced=[(7, 45), (18, 80), (21, 15)], name="lunch not entered"
        ),
        MealScenario.from_hours([(7, 45), (12, 70), (18, 120), (21, 15)], name="dinner 120 g"),
        MealScenario.from_hours(DAY, name="boluses x3"),
        MealScenario.from_hours(DAY, name="pump stopped 12:00-18:00"),
        MealScenario.from_hours(DAY, name="CGM frozen from 10:00"),
        MealScenario.from_hours([(9, 45), (13, 70), (19.5, 80), (22, 50)], name="meals shifted"),
    ]


class VariantTap:
    """The attacks of the variants, each on its own rows (row % 10 is the variant)."""

    def __init__(self, variant_of_row: np.ndarray) -> None:
        self.variant = variant_of_row
        self.frozen: np.ndarray | None = None

    def reset(self, batch_size: int) -> None:
        self.frozen = None

    def _on(self, index: int) -> np.ndarray:
        return self.variant == index

    def apply(self, signal: str, t_minutes: float, values: np.ndarray) -> np.ndarray:
        if signal == "cgm":
            if t_minutes >= 600:
                values = np.where(self._on(1), values + 40.0, values)
                values = np.where(self._on(2), np.maximum(values - 40.0, 39.0), values)
                if self.frozen is None:
                    self.frozen = values.copy()
                values = np.where(self._on(8), self.frozen, values)
            return values
        if signal == "carbs":
            return np.where(self._on(3), values * 2.0, values)
        if signal == "bolus":
            return np.where(self._on(6), values * 3.0, values)
        if signal == "delivered_insulin" and 720 <= t_minutes < 1080:
            return np.where(self._on(7), 0.0, values)
        return values


def _reference(name: str):
    from mdrisk.impact.reference import run_simglucose

    return run_simglucose(name, MealScenario.from_hours(DAY))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--quick", action="store_true", help="fidelity from the 10 timed simglucose patients only"
    )
    args = parser.parse_args(argv)

    patients = load_patients()
    scenarios = variants()
    rows, row_scenarios = cross(patients, scenarios)
    tap = VariantTap(np.tile(np.arange(len(scenarios)), len(patients)))
    n_days = len(rows)

    def batch():
        return simulate(rows, row_scenarios, "basal_bolus", tap=tap)

    batch()  # warm-up: parameter tables, first allocations
    times, cpu_times = [], []
    for _ in range(3):
        gc.collect()
        start, start_cpu = time.perf_counter(), time.process_time()
        result = batch()
        times.append(time.perf_counter() - start)
        cpu_times.append(time.process_time() - start_cpu)
    ours_s = statistics.median(times)
    ours_cpu_s = statistics.median(cpu_times)
    gc.collect()
    tracemalloc.start()
    batch()
    _, traced_peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    rss_ours_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

    print(
        f"vectorised simulator: {n_days} patient-days (30 patients x {len(scenarios)} "
        f"variants) in {ours_s:.3f} s wall, {ours_cpu_s:.3f} s CPU (median of 3)"
    )
    print(
        f"  {ours_s / n_days * 1e3:.3f} ms wall and {ours_cpu_s / n_days * 1e3:.3f} ms CPU "
        f"per patient-day; {n_days / ours_s:,.0f} patient-days/s"
    )
    print(
        f"  peak traced allocation {traced_peak / 2**20:.1f} MiB; "
        f"process peak RSS {rss_ours_mib:.0f} MiB (before simglucose is imported)"
    )
    severities = [a.severity for a in result.severity()]
    per_variant = len(scenarios)
    print(
        "  per variant, over the 30 patients: patients whose severity class is worse than on "
        "their normal day, worst class, median of min BG and of max BG:"
    )
    for index, scenario in enumerate(scenarios):
        own = range(index, n_days, per_variant)
        worse = sum(severities[r] > severities[r - index] for r in own)
        worst = max(severities[r] for r in own)
        min_bg = float(np.median(result.metrics.min_bg[index::per_variant]))
        max_bg = float(np.median(result.metrics.max_bg[index::per_variant]))
        print(
            f"    {scenario.name:<26} {worse:2d} worse  worst {worst.label:<13} "
            f"min BG {min_bg:6.1f}  max BG {max_bg:6.1f} mg/dL"
        )

    # The same day, minute by minute, for the fidelity comparison.
    honest = simulate(patients, scenarios[0], record=("bg",), record_every_min=1)
    names = list(patients.names)
    timed = names[::3][:TIMED_SIMGLUCOSE_PATIENTS]
    references = {}
    reference_times, reference_cpu = [], []
    for name in timed:
        reference = _reference(name)
        references[name] = reference
        reference_times.append(reference.seconds)
        reference_cpu.append(reference.cpu_seconds)
        print(
            f"simglucose {name}: {reference.seconds:.2f} s wall, {reference.cpu_seconds:.2f} s CPU",
            flush=True,
        )
    theirs_s = statistics.mean(reference_times)
    theirs_cpu_s = statistics.mean(reference_cpu)
    rss_all_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    if not args.quick:
        rest = [n for n in names if n not in references]
        with ProcessPoolExecutor(max_workers=2) as pool:
            references.update(zip(rest, pool.map(_reference, rest), strict=True))

    ratio_wall = theirs_s / (ours_s / n_days)
    ratio = theirs_cpu_s / (ours_cpu_s / n_days)
    print(
        f"simglucose: {len(timed)} patient-days, {theirs_s:.2f} s wall and "
        f"{theirs_cpu_s:.2f} s CPU per patient-day (wall min {min(reference_times):.2f}, "
        f"max {max(reference_times):.2f}); process peak RSS now {rss_all_mib:.0f} MiB"
    )
    print(
        f"throughput ratio per patient-day: {ratio:,.0f}x by CPU time, {ratio_wall:,.0f}x by "
        f"wall time (goal >= {RATIO_GOAL:,.0f}x, judged on CPU time: on a shared machine "
        "wall time also counts other processes)"
    )

    errors = {}
    for name, reference in references.items():
        bg = honest.trace("bg").values[names.index(name), 1:]
        errors[name] = float(np.abs(bg - reference.bg_per_minute).max())
    print(f"fidelity, max |BG error| over 24 h per minute, {len(errors)} patients:")
    for group in ("adolescent", "adult", "child"):
        group_errors = {n: e for n, e in errors.items() if n.startswith(group)}
        if group_errors:
            worst = max(group_errors, key=group_errors.get)
            print(
                f"  {group:<10} {len(group_errors):2d} patients: max {group_errors[worst]:.5f} "
                f"mg/dL ({worst}), mean {statistics.mean(group_errors.values()):.5f}"
            )
    fidelity = max(errors.values())
    print(f"  all: max {fidelity:.5f} mg/dL (goal < {FIDELITY_GOAL_MG_DL} mg/dL)")

    ok = ratio >= RATIO_GOAL and fidelity < FIDELITY_GOAL_MG_DL
    print("goals met" if ok else "GOAL MISSED")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
