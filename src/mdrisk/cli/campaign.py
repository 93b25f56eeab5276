"""``mdrisk campaign``: simulation and attack sweeps over many patient-days, on Dask.

The work is done by :mod:`mdrisk.campaign` (imported only when a command runs).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from mdrisk.cli.common import err_console, guarded, out_console, require_sim_extra
from mdrisk.errors import InputError, Problem

if TYPE_CHECKING:
    from mdrisk.campaign.runner import Progress


def _require_dask() -> None:
    try:
        import distributed  # noqa: F401
    except ImportError:
        raise click.ClickException(
            "the Dask executor needs dask[distributed] (fix: pip install 'mdrisk[campaign]', "
            "or run with --executor inprocess)"
        ) from None


def _write_summary(out_dir: Path, summary: dict[str, Any]) -> None:
    from mdrisk.atomic import write_bytes_atomic
    from mdrisk.campaign.outputs import summary_files

    for name, data in summary_files(summary).items():
        path = out_dir / name
        path.parent.mkdir(parents=True, exist_ok=True)
        write_bytes_atomic(path, data)


def _print_summary(summary: dict[str, Any]) -> None:
    from mdrisk.campaign.tables import markdown

    measured = summary["patient_days_measured"]
    planned = summary["patient_days_planned"]
    out_console.print(
        f"campaign {summary['campaign']}: {measured} of {planned} patient-days measured, "
        f"{len(summary['failed_tasks'])} task(s) failed",
        markup=False,
    )
    out_console.print(markdown(summary["results"]), markup=False)
    for failure in summary["failed_tasks"]:
        first = (failure["error"] or "").splitlines()[0:1]
        out_console.print(f"failed: {failure['task']}: {' '.join(first)}", markup=False)


class _Bar:
    """A progress bar in patient-days with the rate and the time left (rich, on a
    terminal); elsewhere a line at every tenth."""

    def __init__(self) -> None:
        self.progress: Any = None
        self.task: Any = None
        self.tenth = 0

    def __enter__(self) -> _Bar:
        if err_console.is_terminal:
            from rich.progress import (
                BarColumn,
                Progress,
                TextColumn,
                TimeElapsedColumn,
                TimeRemainingColumn,
            )

            self.progress = Progress(
                TextColumn("simulating"),
                BarColumn(),
                TextColumn("{task.completed}/{task.total} patient-days"),
                TextColumn("{task.fields[rate]:.0f}/s"),
                TimeElapsedColumn(),
                TextColumn("left"),
                TimeRemainingColumn(),
                console=err_console,
                transient=True,
            )
            self.progress.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        if self.progress is not None:
            self.progress.__exit__(None, None, None)

    def __call__(self, state: Progress) -> None:
        if self.progress is not None:
            if self.task is None:
                self.task = self.progress.add_task("campaign", total=state.total, rate=0.0)
            self.progress.update(self.task, completed=state.done, rate=state.rate)
            return
        tenth = int(10 * state.done / state.total) if state.total else 10
        if tenth > self.tenth:
            self.tenth = tenth
            left = state.remaining_s
            err_console.print(
                f"{state.done}/{state.total} patient-days, {state.rate:.0f}/s"
                + (f", about {left:.0f} s left" if left is not None else ""),
                markup=False,
            )


@click.group("campaign")
def campaign_group() -> None:
    """Simulation and attack sweeps over many patient-days, on Dask or in this process."""


@campaign_group.command("run")
@click.argument("file", type=click.Path(path_type=Path, dir_okay=False))
@click.option(
    "--out",
    "out_dir",
    type=click.Path(path_type=Path, file_okay=False),
    required=True,
    help="Results folder: results.sqlite (one row per task), summary, plots.",
)
@click.option(
    "--executor",
    type=click.Choice(["dask", "inprocess"]),
    default="dask",
    show_default=True,
    help="Dask distributed (a local cluster, or --scheduler), or one task after another here.",
)
@click.option(
    "--workers",
    type=click.IntRange(1, 1024),
    default=None,
    help="Worker processes of the local Dask cluster (one thread each); default: the CPUs.",
)
@click.option(
    "--scheduler",
    default=None,
    metavar="tcp://HOST:PORT",
    help="An existing Dask scheduler to run on instead of a local cluster.",
)
@click.option(
    "--restart",
    is_flag=True,
    help="Discard results written for another definition of the campaign and start over.",
)
@guarded
def run(
    file: Path,
    out_dir: Path,
    executor: str,
    workers: int | None,
    scheduler: str | None,
    restart: bool,
) -> None:
    """Run the campaign FILE: every task not yet in --out, each recorded as it finishes.

    Stopped, it resumes where it stopped when run again; a task that fails is recorded with
    its error and the campaign goes on. Writes summary.json, summary.md, summary.csv and
    plots/ from the results.
    """
    require_sim_extra()
    from mdrisk.bundled import glucose_impact
    from mdrisk.campaign.executors import DaskExecutor, Executor, InProcessExecutor
    from mdrisk.campaign.outputs import summary_of
    from mdrisk.campaign.runner import run_campaign
    from mdrisk.campaign.spec import load_campaign
    from mdrisk.campaign.store import ResultStore

    if executor == "inprocess" and (workers is not None or scheduler is not None):
        raise InputError(
            "--executor",
            [Problem("--workers and --scheduler apply to the dask executor only")],
        )
    if workers is not None and scheduler is not None:
        raise InputError(
            "--workers",
            [Problem("an existing scheduler has its own workers", fix="drop --workers")],
        )
    campaign = load_campaign(file, glucose_impact())
    for note in campaign.notes:
        err_console.print(f"note: {note}", markup=False)
    engine: Any
    if executor == "dask":
        _require_dask()
        import os

        engine = DaskExecutor(workers=workers or os.cpu_count() or 1, scheduler=scheduler)
    else:
        engine = InProcessExecutor()
    with engine as running:
        chosen: Executor = running
        where = scheduler or f"a local cluster of {chosen.workers} worker(s)"
        if executor == "dask":
            err_console.print(f"Dask: {where}", markup=False)
            if chosen.dashboard:
                err_console.print(f"Dask dashboard: {chosen.dashboard}", markup=False)
        with _Bar() as bar:
            report = run_campaign(campaign, out_dir, chosen, restart=restart, on_progress=bar)
    err_console.print(
        f"{report.ran} task(s) run ({report.patient_days} patient-days, "
        f"{report.rate:.0f}/s on {report.workers} worker(s)), {report.skipped} already done, "
        f"{report.failed} failed",
        markup=False,
    )
    with ResultStore.read(out_dir) as store:
        summary = summary_of(store)
    _write_summary(out_dir, summary)
    _print_summary(summary)


@campaign_group.command("summary")
@click.argument("out_dir", type=click.Path(path_type=Path, file_okay=False))
@click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON.")
@guarded
def summary(out_dir: Path, as_json: bool) -> None:
    """Summarise the results in OUT_DIR (a finished or stopped campaign) and rewrite its
    summary files and plots."""
    import json

    from mdrisk.campaign.outputs import summary_of
    from mdrisk.campaign.store import ResultStore

    with ResultStore.read(out_dir) as store:
        result = summary_of(store)
    _write_summary(out_dir, result)
    if as_json:
        click.echo(json.dumps(result, indent=2, sort_keys=True))
    else:
        _print_summary(result)
