"""Run a campaign: expand it, skip what the results already hold, record each task as it
finishes."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from mdrisk.campaign.executors import Executor
from mdrisk.campaign.plan import expand
from mdrisk.campaign.spec import Campaign
from mdrisk.campaign.store import ResultStore


@dataclass(frozen=True)
class Progress:
    """Where a running campaign stands (patient-days of this run only)."""

    done: int
    total: int
    failed_tasks: int
    elapsed_s: float

    @property
    def rate(self) -> float:
        """Patient-days per second."""
        return self.done / self.elapsed_s if self.elapsed_s > 0 else 0.0

    @property
    def remaining_s(self) -> float | None:
        return (self.total - self.done) / self.rate if self.rate else None


@dataclass(frozen=True)
class RunReport:
    tasks: int
    skipped: int  # already in the results
    ran: int
    failed: int
    patient_days: int  # run now
    seconds: float
    workers: int

    @property
    def rate(self) -> float:
        return self.patient_days / self.seconds if self.seconds > 0 else 0.0


def run_campaign(
    campaign: Campaign,
    out_dir: Path,
    executor: Executor,
    *,
    restart: bool = False,
    on_progress: Callable[[Progress], None] | None = None,
) -> RunReport:
    """Every task of ``campaign`` not yet in ``out_dir``'s results, each recorded as it
    comes back. Stopped (an exception, Ctrl-C), the results keep what came back."""
    tasks = expand(campaign)
    with ResultStore.open(out_dir, campaign.fingerprint(), campaign.file, restart) as store:
        store.set_meta("campaign", json.dumps(campaign.definition(), sort_keys=True, default=str))
        done = store.done()
        todo = [task for task in tasks if task.key not in done]
        by_key = {task.key: task for task in todo}
        total = sum(task.patient_days for task in todo)
        start = time.perf_counter()
        finished = failed = ran = 0
        if on_progress is not None:
            on_progress(Progress(0, total, 0, 0.0))
        for result in executor.run(todo):
            store.record(by_key[result.key], result)
            ran += 1
            finished += result.patient_days
            failed += result.error is not None
            if on_progress is not None:
                on_progress(Progress(finished, total, failed, time.perf_counter() - start))
        return RunReport(
            tasks=len(tasks),
            skipped=len(tasks) - len(todo),
            ran=ran,
            failed=failed,
            patient_days=finished,
            seconds=time.perf_counter() - start,
            workers=executor.workers,
        )
