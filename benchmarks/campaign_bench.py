"""Throughput of a campaign on Dask distributed against the same campaign in process.

    python benchmarks/campaign_bench.py                        # >= 100,000 patient-days
    python benchmarks/campaign_bench.py --patient-days 6000    # a quick look

Work: every loss-scenario class of the reference device (bgms) the simulator stands for (20
attack keys) x the 30 virtual patients x as many Monte Carlo days as make at least
``--patient-days`` attacked patient-days (each simulated with its clean twin, as every
campaign task is), no detectors, tasks of about 600 patient-days.

Measured in this one process, one after another: the in-process executor (the baseline),
then a local Dask cluster of 1 worker and of 2 workers (processes, one thread each). Per run:
wall time, patient-days per second, per worker, and the ratio of the per-worker rate to the
in-process rate (goal: >= 0.90); the sum of the time spent inside tasks shows what the
cluster added. The three summaries must be byte-identical. simglucose's rate is measured on
a few patient-days of its own loop (basal-bolus controller, one patient-day per run) and the
same campaign's time estimated from it (clean twins included, one core).

The machine's load average is printed before and after each run: other work on the machine
slows every run, the cluster's more when it leaves a worker without a core.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
import tempfile
import time
from pathlib import Path

from mdrisk import bundled
from mdrisk.campaign.executors import DaskExecutor, InProcessExecutor
from mdrisk.campaign.outputs import summary_of
from mdrisk.campaign.runner import RunReport, run_campaign
from mdrisk.campaign.spec import load_campaign
from mdrisk.campaign.store import ResultStore

GOAL = 0.90
PATIENTS = 30
CLASSES = 20


def _load() -> str:
    return "load average " + ", ".join(f"{v:.2f}" for v in os.getloadavg())


def _campaign_file(folder: Path, patient_days: int) -> Path:
    days = math.ceil(patient_days / (PATIENTS * CLASSES))
    path = folder / "bench.yaml"
    path.write_text(
        "campaign: bench\nmodel: bgms\nclasses: all\npatients: all\n"
        f"days: {days}\nseed: 7\ndetectors: none\nbatch_patient_days: 600\n"
    )
    return path


def _run(label: str, campaign: object, out: Path, executor: object) -> tuple[RunReport, float]:
    print(f"{label}: before, {_load()}", flush=True)
    start = time.perf_counter()
    report = run_campaign(campaign, out, executor)  # type: ignore[arg-type]
    wall = time.perf_counter() - start
    with ResultStore.read(out) as store:
        inside = sum(row.seconds for row in store.tasks())
    print(
        f"{label}: {report.patient_days} patient-days in {wall:.1f} s = "
        f"{report.patient_days / wall:.0f}/s on {report.workers} worker(s), "
        f"{report.patient_days / wall / report.workers:.0f}/s per worker; "
        f"time inside tasks {inside:.1f} s; after, {_load()}",
        flush=True,
    )
    return report, wall


def _simglucose_seconds_per_day(samples: int) -> float:
    from mdrisk.impact.experiment import DEFAULT_DAY
    from mdrisk.impact.reference import run_simglucose

    run_simglucose("adult#001", DEFAULT_DAY)  # imports and first-run set-up, not timed
    names = ["adult#002", "adolescent#002", "child#002", "adult#005", "child#007"][:samples]
    start = time.perf_counter()
    for name in names:
        run_simglucose(name, DEFAULT_DAY)
    return (time.perf_counter() - start) / len(names)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--patient-days", type=int, default=100_000)
    parser.add_argument("--workers", default="1,2", help="cluster sizes, comma-separated")
    parser.add_argument("--simglucose-days", type=int, default=3)
    parser.add_argument("--json", type=Path, help="write the figures here")
    args = parser.parse_args()
    figures: dict[str, object] = {"load_before": os.getloadavg(), "cpus": os.cpu_count()}
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        campaign = load_campaign(
            _campaign_file(folder, args.patient_days), bundled.glucose_impact()
        )
        print(
            f"campaign: {len(campaign.classes)} classes x {len(campaign.patients)} patients x "
            f"{campaign.days} days = {campaign.patient_days} patient-days",
            flush=True,
        )
        figures["patient_days"] = campaign.patient_days
        report, wall = _run("in-process", campaign, folder / "inprocess", InProcessExecutor())
        baseline = report.patient_days / wall
        figures["inprocess"] = {"seconds": round(wall, 1), "rate": round(baseline, 1)}
        summaries = {"inprocess": summary_of(ResultStore.read(folder / "inprocess"))}
        ok = True
        for workers in (int(w) for w in args.workers.split(",")):
            out = folder / f"dask{workers}"
            with DaskExecutor(workers=workers) as executor:
                report, wall = _run(f"dask, {workers} worker(s)", campaign, out, executor)
            per_worker = report.patient_days / wall / workers
            ratio = per_worker / baseline
            ok &= ratio >= GOAL
            print(f"dask, {workers} worker(s): per-worker rate / in-process rate = {ratio:.2f}")
            figures[f"dask{workers}"] = {
                "seconds": round(wall, 1),
                "rate": round(report.patient_days / wall, 1),
                "per_worker": round(per_worker, 1),
                "ratio": round(ratio, 3),
            }
            summaries[f"dask{workers}"] = summary_of(ResultStore.read(out))
        texts = {json.dumps(s, sort_keys=True) for s in summaries.values()}
        figures["identical_summaries"] = len(texts) == 1
        print(f"summaries identical across executors: {len(texts) == 1}")
    seconds = _simglucose_seconds_per_day(args.simglucose_days)
    runs = 2 * figures["patient_days"]  # type: ignore[operator]
    figures["simglucose"] = {
        "seconds_per_patient_day": round(seconds, 3),
        "campaign_hours_one_core": round(runs * seconds / 3600, 1),
    }
    print(
        f"simglucose: {seconds:.2f} s per patient-day; the same campaign ({runs} runs with the "
        f"clean twins) would take {runs * seconds / 3600:.1f} h on one core "
        f"(in-process here: {figures['patient_days'] / baseline / 60:.1f} min)"  # type: ignore[operator]
    )
    figures["load_after"] = os.getloadavg()
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2) + "\n")
    return 0 if ok and figures["identical_summaries"] else 1


if __name__ == "__main__":
    sys.exit(main())
