"""Several optimisers run side by side, their objective calls gathered into one batch.

scipy's differential evolution owns its loop and calls the objective once per generation
(with ``vectorized=True``, for the whole population). To search every patient at once, each
patient's optimiser runs in its own thread; its objective hands the population to
:class:`Lockstep` and waits. When every optimiser still running is waiting, the last one to
arrive evaluates all their populations in one call (one simulated batch) and wakes the others.
Threads only wait here: the work is the batch, done by one thread at a time.

Results depend only on each optimiser's own inputs (rows of a batch do not interact), and a
batch lists its parts in key order, so a run is deterministic whatever the thread timing.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Hashable, Mapping, Sequence
from typing import Generic, TypeVar

import numpy as np

Key = TypeVar("Key", bound=Hashable)
Result = TypeVar("Result")
Ask = Callable[[np.ndarray], np.ndarray]
BatchEvaluator = Callable[[Sequence[tuple[Key, np.ndarray]]], Sequence[np.ndarray]]


class Lockstep(Generic[Key]):
    """Gathers the ``ask`` calls of the running jobs into one ``evaluate`` call."""

    def __init__(self, evaluate: BatchEvaluator[Key]) -> None:
        self._evaluate = evaluate
        self._lock = threading.Condition()
        self._waiting: dict[Key, np.ndarray] = {}
        self._answers: dict[Key, np.ndarray] = {}
        self._running = 0
        self._error: BaseException | None = None

    def _flush_if_all_wait(self) -> None:
        if not self._waiting or len(self._waiting) < self._running or self._error is not None:
            return
        parts = sorted(self._waiting.items(), key=lambda item: repr(item[0]))
        self._waiting.clear()
        try:
            answers = self._evaluate(parts)
            self._answers.update((key, a) for (key, _), a in zip(parts, answers, strict=True))
        except BaseException as error:  # every waiting job must learn it, not hang
            self._error = error
        self._lock.notify_all()

    def _ask(self, key: Key, candidates: np.ndarray) -> np.ndarray:
        with self._lock:
            self._waiting[key] = candidates
            self._flush_if_all_wait()
            while key not in self._answers and self._error is None:
                self._lock.wait()
            if self._error is not None:
                raise RuntimeError("the batched evaluation failed") from self._error
            return self._answers.pop(key)

    def _finished(self) -> None:
        with self._lock:
            self._running -= 1
            self._flush_if_all_wait()

    def run(self, jobs: Mapping[Key, Callable[[Ask], Result]]) -> dict[Key, Result]:
        """Run every job (given its ``ask``) in its own thread; their results by key."""
        results: dict[Key, Result] = {}
        failures: dict[Key, BaseException] = {}
        self._running = len(jobs)

        def body(key: Key, job: Callable[[Ask], Result]) -> None:
            try:
                results[key] = job(lambda candidates: self._ask(key, candidates))
            except BaseException as error:
                failures[key] = error
            finally:
                self._finished()

        threads = [
            threading.Thread(target=body, args=(key, job), daemon=True) for key, job in jobs.items()
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        if self._error is not None:
            raise self._error
        if failures:
            raise next(iter(failures.values()))
        return results
