"""``mdrisk simulate worst-case``: each patient's most harmful stealthy attack within a budget.

The search is :func:`mdrisk.impact.worst_case.search_worst_case` (imported when the command
runs, so ``mdrisk`` starts fast without the ``sim`` extra).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click

from mdrisk.cli.common import guarded, out_console, progress_bar, require_sim_extra
from mdrisk.errors import InputError, Problem

if TYPE_CHECKING:
    from mdrisk.impact.scenario import MealScenario

# As ``simulate glucose`` (CLI command modules share only cli.common).
DEFAULT_MEALS = "07:00=45,12:00=70,18:00=80,21:00=15"
CONTROLLER_NAMES = ("basal_bolus", "pid", "ml_advised")
Read = TypeVar("Read")


def _read(option: str, reader: Callable[[], Read]) -> Read:
    from mdrisk.impact.attacks.spec import SpecError

    try:
        return reader()
    except SpecError as error:
        raise InputError(option, [error.problem()]) from None


def _patients(text: str) -> tuple[str, ...]:
    from mdrisk.impact.params import patient_names
    from mdrisk.impact.selection import select_patients

    return _read("--patients", lambda: select_patients(text, patient_names()))


def _meals(text: str) -> MealScenario:
    from mdrisk.impact.selection import load_meals_file, parse_meals

    path = Path(text)
    if "=" not in text and (path.suffix in (".yaml", ".yml", ".json") or path.exists()):
        return load_meals_file(path)
    return _read("--meals", lambda: parse_meals(text))


def _signals(text: str) -> tuple[str, ...]:
    from mdrisk.impact.search_space import DEFAULT_MAX

    signals = tuple(s.strip() for s in text.split(",") if s.strip())
    unknown = [s for s in signals if s not in DEFAULT_MAX]
    if unknown or not signals:
        raise InputError(
            "--signals",
            [
                Problem(
                    f"unknown signal(s) {', '.join(unknown)}" if unknown else "no signal given",
                    field=text,
                    fix=f"signals: {', '.join(DEFAULT_MAX)}",
                )
            ],
        )
    return signals


def _print_result(record: dict[str, Any]) -> None:
    from rich import box
    from rich.console import Console
    from rich.table import Table

    metric = record["objective"]["metric"]
    tie = record["objective"]["tie_breaker"]
    table = Table(
        title=f"worst stealthy attack per patient (change in {metric}, attacked minus clean)",
        title_justify="left",
        box=box.SIMPLE_HEAD,
        pad_edge=False,
    )
    for column, justify in (
        ("patient", "left"),
        ("mean", "right"),
        ("worst day", "right"),
        (tie, "right"),
        ("patient-days", "right"),
        ("attack", "left"),
    ):
        table.add_column(column, justify=justify, no_wrap=column != "attack")  # type: ignore[arg-type]
    for row in record["patients"]:
        table.add_row(
            row["patient"],
            f"{row['harm_mean']:+.1f}",
            f"{row['harm_worst_day']:+.1f}",
            f"{row['tie_breaker_mean']:+.2f}",
            str(row["patient_days"]),
            row["attack"] or "none stealthy",
        )
    Console(width=max(out_console.width, 120), highlight=False).print(table)
    spread = record["distribution"]
    lines = [
        f"population: median {spread['median']:+.1f}, 95th percentile {spread['p95']:+.1f}, "
        f"worst {spread['worst']:+.1f} ({metric}, each patient's own worst case)",
        f"budget: {record['budget']}",
        f"days: {record['days']}",
        f"forecaster: {record['forecaster']}",
        f"search: {record['optimiser']}; {record['patient_days']} simulated patient-days "
        f"(clean runs included) in {record['elapsed_s']:.1f} s",
    ]
    if record["started_from_grid"]:
        lines.append(
            "started from each patient's best of today's grid search (its patient-days included)"
        )
    alarmed = [row["patient"] for row in record["patients"] if row["clean_alarms"]]
    if alarmed:
        lines.append(
            f"note: the clean days of {', '.join(alarmed)} already raise alarms: no attack "
            "on them can count as stealthy (the limits do not fit them)"
        )
    for line in lines:
        out_console.print(line, markup=False)


@click.command("worst-case")
@click.option(
    "--patients",
    default="adult#001-010",
    show_default=True,
    help="Names (adult#003), ranges (adult#001-010), groups (adult, adolescent, child) or all.",
)
@click.option(
    "--signals",
    default="cgm",
    show_default=True,
    help="Signals attacked together, comma-separated (e.g. cgm,carbs or cgm,iob).",
)
@click.option(
    "--budget",
    "budget_text",
    default="default",
    show_default=True,
    help="Largest magnitude per signal, duration range, onset window, objective, e.g. "
    "'cgm=60,carbs=40,duration=30min-4h,onset=00:00-24:00,objective=below54'.",
)
@click.option(
    "--evaluations",
    type=click.IntRange(1),
    default=1000,
    show_default=True,
    help="Simulated patient-days per patient (candidates x Monte Carlo days).",
)
@click.option(
    "--mc-days",
    type=click.IntRange(1, 100),
    default=1,
    show_default=True,
    help="Days each candidate is judged on: the reference day, then days with meals "
    "moved and resized around it.",
)
@click.option(
    "--meals",
    default=DEFAULT_MEALS,
    show_default=True,
    help="The reference day's meals as HH:MM=grams, or a YAML/JSON file.",
)
@click.option(
    "--controller",
    type=click.Choice(CONTROLLER_NAMES),
    default="ml_advised",
    show_default=True,
)
@click.option(
    "--forecaster",
    type=click.Choice(("held-out", "default")),
    default="held-out",
    show_default=True,
    help="held-out: each patient dosed by a model trained without them; default: the "
    "device's model (trained on patients #001-007).",
)
@click.option(
    "--noise/--no-noise",
    default=False,
    show_default=True,
    help="CGM sensor noise (the stealth limits are calibrated without it).",
)
@click.option(
    "--from-grid",
    is_flag=True,
    help="First run today's grid search per patient (its patient-days on top of "
    "--evaluations) and start from each patient's grid best: never worse than the grid.",
)
@click.option("--seed", type=int, default=0, show_default=True, help="Search and days seed.")
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
@guarded
def worst_case_command(
    patients: str,
    signals: str,
    budget_text: str,
    evaluations: int,
    mc_days: int,
    meals: str,
    controller: str,
    forecaster: str,
    noise: bool,
    from_grid: bool,
    seed: int,
    as_json: bool,
) -> None:
    """Search each patient's most harmful stealthy attack (differential evolution).

    Every patient gets their own search over the attacked signals' magnitudes, onsets,
    durations and ramp shapes; an attack counts only if it trips no stealth alarm on any
    day. Prints each patient's worst case and the population's median, 95th percentile and
    worst.
    """
    require_sim_extra()
    from mdrisk.impact.candidate_runs import CandidateRunner
    from mdrisk.impact.grid_baseline import grid_seeds
    from mdrisk.impact.monte_carlo_days import MonteCarloDays
    from mdrisk.impact.search_space import BudgetError, SearchSpace, parse_worst_case_budget
    from mdrisk.impact.worst_case import result_record, search_worst_case

    chosen = _patients(patients)
    attacked = _signals(signals)
    budget = _read("--budget", lambda: parse_worst_case_budget(budget_text, attacked))
    if controller != "ml_advised" and {"iob", "forecast"} & set(attacked):
        raise InputError(
            "--signals",
            [Problem("iob and forecast exist only in the ML-advised controller", field=signals)],
        )
    days = MonteCarloDays(days=mc_days, seed=seed, noise=noise, reference=_meals(meals))
    started = time.perf_counter()
    with progress_bar() as progress:
        task = progress.add_task("searching", total=None)

        def advanced(done: int, planned: int) -> None:
            progress.update(
                task,
                completed=done,
                total=planned,
                description=f"searching ({done}/{planned} patient-days)",
            )

        runner = CandidateRunner(
            chosen,
            SearchSpace(budget),
            days=days,
            controller=controller,
            forecaster=forecaster.replace("-", "_"),
        )
        initial = {}
        if from_grid:
            progress.update(task, description="grid search per patient")
            initial = grid_seeds(runner)
        try:
            result = search_worst_case(
                chosen,
                evaluations=evaluations,
                seed=seed,
                initial=initial,
                runner=runner,
                progress=advanced,
            )
        except BudgetError as error:
            raise InputError("--evaluations", [Problem(str(error))]) from None
    record = result_record(result)
    record["started_from_grid"] = bool(initial)
    record["elapsed_s"] = round(time.perf_counter() - started, 2)
    if as_json:
        click.echo(json.dumps(record, indent=2, sort_keys=True))
    else:
        _print_result(record)
