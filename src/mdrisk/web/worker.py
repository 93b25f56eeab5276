"""What the worker process of one analysis does: exactly what ``mdrisk analyze --kb
[--simulate] [--ml-attacks] --answers A --decisions D`` does with the workspace's files, reporting each step
on a queue. It runs in a process of its own so that cancelling it can stop it."""

from __future__ import annotations

from dataclasses import dataclass
from multiprocessing.queues import Queue
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class AnalysisJob:
    model_file: Path
    decisions_file: Path | None
    answers_file: Path | None
    out_file: Path
    use_kb: bool
    simulate: bool
    ml_attacks: bool = False


def summary_of(assessment: Any) -> str:
    """One line on what the assessment holds, for the workspace's list."""
    return (
        f"{len(assessment.risks)} risks, {len(assessment.scenarios)} attack scenarios, "
        f"{len(assessment.loss_scenarios)} loss-scenario classes, "
        f"{sum(1 for f in assessment.impact if f.status == 'simulated')} attacks simulated"
    )


def analyse(job: AnalysisJob, events: Queue) -> None:
    """Run the analysis and write its canonical JSON to ``job.out_file``; put ("step", name)
    for each step, then ("done", summary) or ("error", message) on ``events``."""
    try:
        events.put(("step", "reading the inputs"))
        from mdrisk import bundled
        from mdrisk.atomic import write_bytes_atomic
        from mdrisk.decisions import load_decisions, with_decisions
        from mdrisk.pipeline import run
        from mdrisk.report.package import render_package
        from mdrisk.risk.answers import load_answers

        decisions = load_decisions(job.decisions_file) if job.decisions_file else None
        risk = None
        if job.answers_file is not None:
            rubric = bundled.rubric()
            risk = bundled.risk_inputs(
                rubric, answers=load_answers(job.answers_file, rubric.rubric)
            )
        settings = None
        if job.ml_attacks:
            from mdrisk.mlattack.run import AttackSettings

            settings = AttackSettings()
        assessment, notes = run(
            job.model_file,
            use_kb=job.use_kb,
            simulate=job.simulate,
            risk=risk,
            on_step=lambda name: events.put(("step", name)),
            ml_attacks=settings,
        )
        if decisions is not None:
            assessment = with_decisions(assessment, decisions)
        events.put(("step", "writing the assessment"))
        package = render_package(assessment, ("json",), svg=False)
        write_bytes_atomic(job.out_file, package.files["assessment.json"])
        for note in notes:
            events.put(("note", note))
        events.put(("done", summary_of(assessment)))
    except Exception as error:  # reported to the page; the process ends either way
        from mdrisk.errors import InputError

        if isinstance(error, InputError):
            events.put(("error", f"{len(error.problems)} problem(s) in the input\n{error}"))
        else:
            events.put(("error", f"{type(error).__name__}: {error}"))
