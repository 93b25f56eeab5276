"""Analyses in progress: each in a worker process (so that cancel stops it), its events kept
for the pages that stream them, its assessment recorded in the workspace when it is done."""

from __future__ import annotations

import multiprocessing
import queue
import secrets
import threading
from dataclasses import dataclass, field
from multiprocessing.process import BaseProcess
from typing import Literal

from mdrisk.web.worker import AnalysisJob, analyse
from mdrisk.web.workspace import Workspace

RunState = Literal["running", "done", "failed", "cancelled"]
FINISHED: tuple[RunState, ...] = ("done", "failed", "cancelled")
RUN_ID_PATTERN = r"^[0-9a-f]{16}$"
# A forkserver: a clean single-threaded process forks each worker, with mdrisk's analysis
# modules already imported there (a fork of the threaded server itself could inherit a held
# lock; a fresh interpreter per run would import everything again).
_CONTEXT = multiprocessing.get_context("forkserver")
_CONTEXT.set_forkserver_preload(["mdrisk.pipeline", "mdrisk.report.canonical_json"])


@dataclass
class Event:
    number: int
    kind: str  # "step", "note", "done", "error", "cancelled"
    text: str


@dataclass
class Run:
    id: str
    device_id: int
    model_version_id: int
    options: str
    state: RunState = "running"
    assessment_id: int | None = None
    events: list[Event] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, kind: str, text: str) -> None:
        with self.lock:
            self._append(kind, text)

    def finish(self, state: RunState, kind: str, text: str) -> bool:
        """End the run with its last event, both at once (a reader that sees the state
        finished has its last event too); False when it had ended already."""
        with self.lock:
            if self.state != "running":
                return False
            self.state = state
            self._append(kind, text)
            return True

    def _append(self, kind: str, text: str) -> None:
        self.events.append(Event(len(self.events), kind, text))

    def events_after(self, number: int) -> list[Event]:
        """The events after the ``number``-th (-1: all)."""
        with self.lock:
            return self.events[number + 1 :]


class RunManager:
    def __init__(self, workspace: Workspace) -> None:
        self.workspace = workspace
        self._runs: dict[str, Run] = {}
        self._processes: dict[str, BaseProcess] = {}
        self._lock = threading.Lock()

    @staticmethod
    def warm_up() -> None:
        """Start the forkserver (it imports the analysis modules, a second or so) in the
        background, so that the first analysis does not wait for it."""
        from multiprocessing import forkserver

        threading.Thread(target=forkserver.ensure_running, daemon=True).start()

    def get(self, run_id: str) -> Run | None:
        with self._lock:
            return self._runs.get(run_id)

    def runs_of(self, device_id: int) -> list[Run]:
        with self._lock:
            return [run for run in self._runs.values() if run.device_id == device_id]

    def start(
        self, device_id: int, *, use_kb: bool, simulate: bool, ml_attacks: bool = False
    ) -> Run:
        version = self.workspace.latest_model(device_id)
        if version is None:
            raise LookupError(f"device {device_id} has no model")
        run_id = secrets.token_hex(8)
        decisions = self.workspace.decisions_file(device_id)
        answers = self.workspace.answers_file(device_id)
        job = AnalysisJob(
            model_file=self.workspace.model_file(device_id),
            decisions_file=decisions if decisions.is_file() else None,
            answers_file=answers if answers.is_file() else None,
            out_file=self.workspace.folder / "runs" / f"{run_id}.json",
            use_kb=use_kb,
            simulate=simulate,
            ml_attacks=ml_attacks,
        )
        chosen = (("kb", use_kb), ("simulate", simulate), ("ml attacks", ml_attacks))
        options = ", ".join(name for name, on in chosen if on)
        run = Run(run_id, device_id, version.id, options or "stpa only")
        events = _CONTEXT.Queue()
        process = _CONTEXT.Process(target=analyse, args=(job, events), daemon=True)
        with self._lock:
            self._runs[run_id] = run
            self._processes[run_id] = process
        run.add("step", f"starting the analysis of model version {version.number}")
        process.start()
        threading.Thread(target=self._watch, args=(run, process, events, job), daemon=True).start()
        return run

    def cancel(self, run_id: str) -> Run | None:
        run = self.get(run_id)
        if run is None:
            return None
        with self._lock:
            process = self._processes.get(run_id)
        if run.finish("cancelled", "cancelled", "the analysis was cancelled; nothing was recorded"):
            if process is not None and process.is_alive():
                process.terminate()
        return run

    def shutdown(self) -> None:
        """Stop every analysis still running (the server is stopping)."""
        with self._lock:
            running = [run.id for run in self._runs.values() if run.state == "running"]
        for run_id in running:
            self.cancel(run_id)

    def _watch(
        self, run: Run, process: BaseProcess, events: multiprocessing.queues.Queue, job: AnalysisJob
    ) -> None:
        looked_after_exit = False
        while True:
            try:
                kind, text = events.get(timeout=0.2)
            except queue.Empty:
                if run.state == "cancelled" or looked_after_exit:
                    break
                # Once it has exited, one more look: what it wrote just before.
                looked_after_exit = not process.is_alive()
                continue
            if run.state == "cancelled":
                break
            if kind == "done":
                self._finish(run, job, text)
                break
            if kind == "error":
                run.finish("failed", "error", text)
                break
            run.add(kind, text)
        process.join(timeout=5)
        # The process died without a word (a no-op when the run had ended).
        run.finish(
            "failed", "error", f"the analysis stopped unexpectedly (exit code {process.exitcode})"
        )
        job.out_file.unlink(missing_ok=True)
        with self._lock:
            self._processes.pop(run.id, None)

    def _finish(self, run: Run, job: AnalysisJob, summary: str) -> None:
        with run.lock:
            if run.state != "running":
                return
            row = self.workspace.add_assessment(
                run.device_id, run.model_version_id, run.options, summary, job.out_file
            )
            run.assessment_id = row.id
            run.state = "done"
            run._append("done", f"assessment {row.id}: {summary}")
