"""Where a campaign's tasks run: in this process, or on Dask distributed.

Both take the task list and yield each :class:`TaskResult` as it comes back, in whatever
order; the campaign records each at once. :class:`DaskExecutor` starts a local cluster
(``workers`` processes of one thread each: the simulator is numpy-bound and holds the GIL
between array operations) or connects to an existing scheduler; the code path is the same.
A worker that dies loses only the task it was running: the scheduler runs it again on
another worker (Dask counts a task that has killed ``distributed.scheduler.allowed-failures``
workers as failed, and the campaign records that as the task's error).
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence
from types import TracebackType
from typing import TYPE_CHECKING, Protocol

from mdrisk.campaign.batch import TaskResult, TaskSpec, run_task

if TYPE_CHECKING:
    from distributed import Client, LocalCluster


class Executor(Protocol):
    """Runs tasks and yields their results as they finish."""

    @property
    def workers(self) -> int: ...

    @property
    def dashboard(self) -> str | None: ...

    def run(self, tasks: Sequence[TaskSpec]) -> Iterator[TaskResult]: ...


class InProcessExecutor:
    """One task after another in this process: small campaigns, tests, the baseline."""

    workers = 1
    dashboard = None

    def run(self, tasks: Sequence[TaskSpec]) -> Iterator[TaskResult]:
        for task in tasks:
            yield run_task(task)

    def __enter__(self) -> InProcessExecutor:
        return self

    def __exit__(self, *_: object) -> None:
        return None


# Set in each local worker process before it starts. Dask's default trim threshold (64 KiB)
# also fixes glibc's mmap threshold at 128 KiB, so every array of a few hundred rows the
# simulator frees goes back to the kernel and the next is faulted in again: measured, 15 % of
# a worker's CPU in system time (1.8 million page faults on 12,000 patient-days; none in
# process). With these, freed arrays stay in the heap, as they do in process.
WORKER_ENVIRON = {"MALLOC_TRIM_THRESHOLD_": 256 * 2**20, "MALLOC_MMAP_THRESHOLD_": 64 * 2**20}


def _has_dashboard() -> bool:
    try:
        import bokeh  # noqa: F401
    except ImportError:
        return False
    return True


class DaskExecutor:
    """Tasks on Dask distributed: a local cluster of ``workers`` processes, or the
    cluster behind ``scheduler`` (``tcp://host:port``). Use as a context manager: the
    cluster it started (never one it connected to) is shut down on exit."""

    def __init__(
        self, workers: int | None = None, scheduler: str | None = None, retries: int = 2
    ) -> None:
        self.requested_workers = workers
        self.scheduler = scheduler
        self.retries = retries
        self.client: Client | None = None
        self.cluster: LocalCluster | None = None

    def __enter__(self) -> DaskExecutor:
        import dask
        from distributed import Client, LocalCluster

        if self.scheduler is not None:
            self.client = Client(self.scheduler, timeout="30s")
        else:
            environ = {**dask.config.get("distributed.nanny.pre-spawn-environ"), **WORKER_ENVIRON}
            # read by each nanny when it is made: a worker it restarts gets the same
            with dask.config.set({"distributed.nanny.pre-spawn-environ": environ}):
                self.cluster = LocalCluster(
                    n_workers=self.requested_workers or 1,
                    threads_per_worker=1,
                    processes=True,
                    dashboard_address=":0" if _has_dashboard() else None,
                    silence_logs=logging.ERROR,
                )
            self.client = Client(self.cluster)
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self.client is not None:
            self.client.close()
        if self.cluster is not None:
            self.cluster.close()
        self.client = self.cluster = None

    def _client(self) -> Client:
        if self.client is None:
            raise RuntimeError("use the DaskExecutor as a context manager")
        return self.client

    @property
    def workers(self) -> int:
        return len(self._client().scheduler_info().get("workers", {}))

    @property
    def dashboard(self) -> str | None:
        client = self._client()
        if "dashboard" not in client.scheduler_info().get("services", {}):
            return None
        return str(client.dashboard_link)

    def run(self, tasks: Sequence[TaskSpec]) -> Iterator[TaskResult]:
        from distributed import as_completed

        client = self._client()
        by_key = {f"mdrisk-campaign-{task.ordinal}-{task.key}": task for task in tasks}
        futures = client.map(
            run_task,
            list(by_key.values()),
            key=list(by_key),
            retries=self.retries,
            pure=False,
        )
        try:
            for future in as_completed(futures):
                task = by_key[future.key]
                try:
                    result = future.result()
                except Exception as error:  # the task could not be run (e.g. KilledWorker)
                    result = TaskResult(
                        task.key, task.ordinal, task.patient_days, 0.0, error=repr(error)
                    )
                future.release()
                yield result
        finally:
            client.cancel([f for f in futures if not f.done()])
