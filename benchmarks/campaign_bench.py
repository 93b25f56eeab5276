"""Throughput of a campaign on Dask distributed against the same campaign in process.

    python benchmarks/campaign_bench.py                        # >= 100,000 patient-days
    python benchmarks/campaign_bench.py --patient-days 6000    # a quick look

Work: every loss-scenario class of the reference device (bgms) the simulator stands for (20
attack keys) x the 30 virtual patients x as many Monte Carlo days as make at least
``--patient-days`` attacked patient-days (each simulated with its clean twin, as every
campaign task is), no detectors, tasks of about 600 patient-days.

Measured in this one process, one after another: the in-process executor (the baseline),
the same with one BLAS thread (as Dask's workers have), then a local Dask cluster of 1 worker and of 2 workers (processes, one thread each). Per run:
wall time, patient-days per second, per worker, and the ratio of the per-worker rate to the
in-process rate (goal: >= 0.90); the sum of the time spent inside tasks shows what the
cluster added. The three summaries must be byte-identical. simglucose's rate is measured on
a few patient-days of its own loop (basal-bolus controller, one patient-day per run) and the
same campaign's time estimated from it (clean twins included, one core).

The machine's load average is printed before and after each run: other work on the machine
slows every run, the cluster's more when it leaves a worker without a core. So the CPU time
is measured too (of this process in process; of the worker processes, and apart the
scheduler's and this process's, on a cluster): patient-days per CPU-second of the workers
against the in-process figure is the comparison other load disturbs least. The goal is
judged on wall time, as asked.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import resource
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from mdrisk import bundled
from mdrisk.campaign.executors import DaskExecutor, InProcessExecutor
from mdrisk.campaign.outputs import summary_of
from mdrisk.campaign.runner import RunReport, run_campaign
from mdrisk.campaign.spec import load_campaign
from mdrisk.campaign.store import ResultStore

GOAL = 0.90
PATIENTS = 30


def _load() -> str:
    return "load average " + ", ".join(f"{v:.2f}" for v in os.getloadavg())


def _campaign_file(folder: Path, patient_days: int) -> Path:
    """A campaign of every class the simulator stands for, with as many days as it takes to
    reach ``patient_days`` (the number of classes is read from the mapping, not assumed)."""
    path = folder / "bench.yaml"

    def write(days: int) -> None:
        path.write_text(
            "campaign: bench\nmodel: bgms\nclasses: all\npatients: all\n"
            f"days: {days}\nseed: 7\ndetectors: none\nbatch_patient_days: 600\n"
        )

    write(1)
    classes = len(load_campaign(path, bundled.glucose_impact()).classes)
    write(math.ceil(patient_days / (PATIENTS * classes)))
    return path


def _cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _cluster_cpu(executor: object) -> tuple[float, float]:
    """CPU seconds so far of the workers' processes (summed) and of the scheduler's (0 for
    a local cluster: its scheduler runs in this process, counted as this process's)."""
    client = getattr(executor, "client", None)
    if client is None:
        return 0.0, 0.0
    workers = sum(client.run(_cpu_seconds).values())
    if getattr(executor, "cluster", None) is not None:
        return workers, 0.0
    return workers, client.run_on_scheduler(_cpu_seconds)


@dataclass(frozen=True)
class Measured:
    report: RunReport
    wall: float
    cpu: float  # where the simulator ran: this process, or the workers
    overhead_cpu: float  # scheduler and this process, on a cluster


def _run(label: str, campaign: object, out: Path, executor: object) -> Measured:
    print(f"{label}: before, {_load()}", flush=True)
    workers_before, scheduler_before = _cluster_cpu(executor)
    own_before = _cpu_seconds()
    start = time.perf_counter()
    report = run_campaign(campaign, out, executor)  # type: ignore[arg-type]
    wall = time.perf_counter() - start
    own = _cpu_seconds() - own_before
    workers_after, scheduler_after = _cluster_cpu(executor)
    on_cluster = getattr(executor, "client", None) is not None
    cpu = workers_after - workers_before if on_cluster else own
    overhead = own + scheduler_after - scheduler_before if on_cluster else 0.0
    with ResultStore.read(out) as store:
        inside = sum(row.seconds for row in store.tasks())
    days = report.patient_days
    print(
        f"{label}: {days} patient-days in {wall:.1f} s wall = {days / wall:.0f}/s on "
        f"{report.workers} worker(s), {days / wall / report.workers:.0f}/s per worker; "
        f"simulating CPU {cpu:.1f} s = {days / cpu:.0f} patient-days per CPU-second"
        + (f", scheduler and client CPU {overhead:.1f} s" if on_cluster else "")
        + f"; wall time inside tasks {inside:.1f} s; after, {_load()}",
        flush=True,
    )
    return Measured(report, wall, cpu, overhead)


def _simglucose_seconds_per_day(samples: int) -> tuple[float, float]:
    """Wall and CPU seconds per patient-day of simglucose's own loop."""
    from mdrisk.impact.experiment import DEFAULT_DAY
    from mdrisk.impact.reference import run_simglucose

    run_simglucose("adult#001", DEFAULT_DAY)  # imports and first-run set-up, not timed
    names = ["adult#002", "adolescent#002", "child#002", "adult#005", "child#007"][:samples]
    wall, cpu = time.perf_counter(), time.process_time()
    for name in names:
        run_simglucose(name, DEFAULT_DAY)
    return (time.perf_counter() - wall) / len(names), (time.process_time() - cpu) / len(names)


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
        measured = _run("in-process", campaign, folder / "inprocess", InProcessExecutor())
        baseline = measured.report.patient_days / measured.wall
        baseline_cpu = measured.report.patient_days / measured.cpu
        figures["inprocess"] = {
            "seconds": round(measured.wall, 1),
            "rate": round(baseline, 1),
            "cpu_seconds": round(measured.cpu, 1),
            "rate_per_cpu_second": round(baseline_cpu, 1),
        }
        summaries = {"inprocess": summary_of(ResultStore.read(folder / "inprocess"))}
        # Dask starts its workers with one BLAS thread (OMP/OPENBLAS/MKL_NUM_THREADS=1); in
        # process numpy's BLAS keeps one thread per core, which spin and burn CPU for no
        # gain in this simulator. The same in process with one BLAS thread:
        from threadpoolctl import threadpool_limits

        with threadpool_limits(limits=1):
            single = _run(
                "in-process, 1 BLAS thread", campaign, folder / "single", InProcessExecutor()
            )
        single_cpu = single.report.patient_days / single.cpu
        figures["inprocess_one_blas_thread"] = {
            "seconds": round(single.wall, 1),
            "rate": round(single.report.patient_days / single.wall, 1),
            "cpu_seconds": round(single.cpu, 1),
            "rate_per_cpu_second": round(single_cpu, 1),
        }
        summaries["single"] = summary_of(ResultStore.read(folder / "single"))
        ok = True
        for workers in (int(w) for w in args.workers.split(",")):
            out = folder / f"dask{workers}"
            with DaskExecutor(workers=workers) as executor:
                measured = _run(f"dask, {workers} worker(s)", campaign, out, executor)
            days = measured.report.patient_days
            per_worker = days / measured.wall / workers
            ratio = per_worker / baseline
            cpu_ratio = days / measured.cpu / baseline_cpu
            single_ratio = days / measured.cpu / single_cpu
            ok &= ratio >= GOAL
            print(
                f"dask, {workers} worker(s): per-worker rate / in-process rate = {ratio:.2f} "
                f"(wall); per CPU-second of the workers / in-process = {cpu_ratio:.2f}, "
                f"/ in-process with 1 BLAS thread = {single_ratio:.2f}",
                flush=True,
            )
            figures[f"dask{workers}"] = {
                "seconds": round(measured.wall, 1),
                "rate": round(days / measured.wall, 1),
                "per_worker": round(per_worker, 1),
                "ratio": round(ratio, 3),
                "worker_cpu_seconds": round(measured.cpu, 1),
                "scheduler_and_client_cpu_seconds": round(measured.overhead_cpu, 1),
                "rate_per_worker_cpu_second": round(days / measured.cpu, 1),
                "cpu_ratio": round(cpu_ratio, 3),
                "cpu_ratio_one_blas_thread": round(single_ratio, 3),
            }
            summaries[f"dask{workers}"] = summary_of(ResultStore.read(out))
        texts = {json.dumps(s, sort_keys=True) for s in summaries.values()}
        figures["identical_summaries"] = len(texts) == 1
        print(f"summaries identical across executors: {len(texts) == 1}")
    wall, cpu = _simglucose_seconds_per_day(args.simglucose_days)
    runs = 2 * figures["patient_days"]  # type: ignore[operator]
    figures["simglucose"] = {
        "seconds_per_patient_day": round(wall, 3),
        "cpu_seconds_per_patient_day": round(cpu, 3),
        "campaign_hours_one_core": round(runs * cpu / 3600, 1),
    }
    print(
        f"simglucose: {wall:.2f} s wall, {cpu:.2f} s CPU per patient-day; the same campaign "
        f"({runs} runs with the clean twins) would take {runs * cpu / 3600:.0f} CPU-hours "
        f"(in-process here: {figures['patient_days'] / baseline_cpu / 60:.1f} CPU-minutes)"  # type: ignore[operator]
    )
    figures["load_after"] = os.getloadavg()
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2) + "\n")
    return 0 if ok and figures["identical_summaries"] else 1


if __name__ == "__main__":
    sys.exit(main())
