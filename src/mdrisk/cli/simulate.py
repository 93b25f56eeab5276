"""``mdrisk simulate glucose``: closed-loop runs, clean against attacked; no analysis here.

The work is done by :mod:`mdrisk.impact` (imported only when a command runs, so ``mdrisk``
starts fast without the ``sim`` extra).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from mdrisk.cli.common import (
    guarded,
    model_path,
    out_console,
    progress_bar,
    require_sim_extra,
    write_files,
)
from mdrisk.errors import InputError, Problem

if TYPE_CHECKING:
    from mdrisk.assessment.detectors import DetectorEvaluation
    from mdrisk.impact.attacks.spec import AttackPlan
    from mdrisk.impact.scenario import MealScenario
    from mdrisk.impact.search import SearchBudget

DEFAULT_MEALS = "07:00=45,12:00=70,18:00=80,21:00=15"
CONTROLLER_NAMES = ("basal_bolus", "pid", "ml_advised")


def _patients(text: str) -> tuple[str, ...]:
    from mdrisk.impact.attacks.spec import SpecError
    from mdrisk.impact.params import patient_names
    from mdrisk.impact.selection import select_patients

    try:
        return select_patients(text, patient_names())
    except SpecError as error:
        raise InputError("--patients", [error.problem()]) from None


def _meals(text: str) -> MealScenario:
    from mdrisk.impact.attacks.spec import SpecError
    from mdrisk.impact.selection import load_meals_file, parse_meals

    path = Path(text)
    if "=" not in text and (path.suffix in (".yaml", ".yml", ".json") or path.exists()):
        return load_meals_file(path)
    try:
        return parse_meals(text)
    except SpecError as error:
        raise InputError("--meals", [error.problem()]) from None


def _plans(attack_texts: tuple[str, ...], attack_file: Path | None) -> list[AttackPlan]:
    from mdrisk.impact.attacks.spec import load_attack_file, plans_from_texts

    plans = plans_from_texts(attack_texts) if attack_texts else []
    if attack_file is not None:
        plans += load_attack_file(attack_file)
    return plans


def _budget(text: str) -> SearchBudget:
    from mdrisk.impact.attacks.spec import SpecError
    from mdrisk.impact.search import parse_budget

    try:
        return parse_budget(text)
    except SpecError as error:
        raise InputError("--search", [error.problem()]) from None


SHORT = {
    "negligible": "negl",
    "minor": "minor",
    "serious": "serious",
    "critical": "critical",
    "catastrophic": "catastr",
}


def _print_table(record: dict[str, Any]) -> None:
    from rich import box
    from rich.console import Console
    from rich.table import Table

    clean = {c["patient"]: c for c in record["clean"]}
    for number, attack in enumerate(record["attacks"], start=1):
        title = f"attack {number}: {attack['attack']}"
        if attack["name"]:
            title += f" ({attack['name']})"
        table = Table(title=title, title_justify="left", box=box.SIMPLE_HEAD, pad_edge=False)
        for column in (
            "patient",
            "min BG",
            "min <54",
            "min <70",
            "LBGI",
            "severity",
            "stealth alarms",
        ):
            table.add_column(
                column,
                justify="left" if column in ("patient", "severity", "stealth alarms") else "right",
                no_wrap=True,
            )
        for row in attack["patients"]:
            c, a = row["clean"], row["attacked"]
            severity = f"{SHORT[row['clean_severity']]}->{SHORT[row['attacked_severity']]}"
            table.add_row(
                row["patient"],
                f"{c['min_bg']:.0f}->{a['min_bg']:.0f}",
                f"{c['minutes_below_54']:.0f}->{a['minutes_below_54']:.0f}",
                f"{c['minutes_below_70']:.0f}->{a['minutes_below_70']:.0f}",
                f"{c['lbgi']:.1f}->{a['lbgi']:.1f}",
                severity + (" *" if row["induced_severity"] else ""),
                ",".join(row["alarms"]) or "- (stealthy)",
            )
        # Never narrower than the table: a piped output (80 columns) would truncate cells.
        Console(width=max(out_console.width, 104), highlight=False).print(table)
        summary = attack["summary"]
        out_console.print(
            f"  clean -> attacked; * attack-induced severity. {summary['patients_harmed']}/"
            f"{summary['patients']} patients harmed (worst: "
            f"{summary['worst_induced_severity'] or 'none'}); {summary['stealthy_patients']}/"
            f"{summary['patients']} stealthy; mean change: "
            f"{summary['mean_delta']['minutes_below_54']:+.1f} min below 54, "
            f"{summary['mean_delta']['minutes_below_70']:+.1f} min below 70, "
            f"{summary['mean_delta']['minutes_above_250']:+.1f} min above 250",
            markup=False,
        )
    if not record["attacks"]:
        for name, row in clean.items():
            m = row["metrics"]
            out_console.print(
                f"{name}: min {m['min_bg']:.0f}, mean {m['mean_bg']:.0f} mg/dL, "
                f"{m['minutes_below_54']:.0f} min <54, {m['minutes_below_70']:.0f}"
                f" min <70, {m['minutes_above_180']:.0f} min >180; "
                f"{row['severity']}",
                markup=False,
            )
    alarms = [c["patient"] for c in record["clean"] if c["false_alarms"]]
    if alarms:
        out_console.print(
            f"note: the clean runs of {', '.join(alarms)} already raise stealth "
            "alarms: the limits are calibrated for adults without sensor noise, "
            "so stealth says little for these patients",
            markup=False,
        )


def _print_search(search: dict[str, Any]) -> None:
    def line(label: str, outcome: dict[str, Any] | None) -> str:
        if outcome is None:
            return f"  {label}: none"
        caught = "stealthy" if outcome["stealthy"] else "detected: " + ",".join(outcome["alarms"])
        return (
            f"  {label}: {outcome['attack']}: {outcome['objective_mean_delta']:+.1f} "
            f"(objective, mean over patients), {outcome['mean_delta_minutes_below_54']:+.1f}"
            f" min below 54, {outcome['patients_harmed']} patients harmed, {caught}"
        )

    out_console.print(
        f"worst-case search: budget {search['budget']}; {search['evaluated']} candidates",
        markup=False,
    )
    out_console.print(line("worst stealthy attack", search["best"]), markup=False)
    out_console.print(line("naive stealthy constant bias", search["naive"]), markup=False)
    out_console.print(line("naive full-budget constant bias", search["naive_full"]), markup=False)


@click.group("simulate")
def simulate_group() -> None:
    """Closed-loop patient simulation: measured harm of false-data injection."""


@simulate_group.command("glucose")
@click.option(
    "--patients",
    default="adult#001-010",
    show_default=True,
    help="Names (adult#003), ranges (adult#001-010), groups (adult, adolescent, "
    "child) or all; comma-separated.",
)
@click.option(
    "--meals",
    default=DEFAULT_MEALS,
    show_default=True,
    help="Daily meals as HH:MM=grams, comma-separated, or a YAML/JSON file.",
)
@click.option(
    "--controller",
    type=click.Choice(CONTROLLER_NAMES),
    default="ml_advised",
    show_default=True,
    help="Who doses insulin.",
)
@click.option("--days", type=click.IntRange(1, 14), default=1, show_default=True)
@click.option(
    "--attack",
    "attack_texts",
    multiple=True,
    help="An attack spec, e.g. 'bias:+60@cgm,08:00-14:00' (repeatable; join attacks "
    "of one run with ';'). Families: bias, scale, ramp, drift, replay, freeze, "
    "noise, spoof, drop, tamper.",
)
@click.option(
    "--attacks",
    "attack_file",
    type=click.Path(path_type=Path, dir_okay=False),
    help="YAML/JSON file: a list of attack specs or {name, attack} items.",
)
@click.option(
    "--search",
    "search_text",
    is_flag=False,
    flag_value="default",
    default=None,
    help="Search the worst stealthy attack within a budget, e.g. "
    "'signal=cgm,max=60,duration=4h,grid=60min,from=06:00,to=22:00,"
    "objective=below54' (alone: the defaults).",
)
@click.option(
    "--noise/--no-noise",
    default=False,
    show_default=True,
    help="CGM sensor noise (the stealth limits are calibrated without it).",
)
@click.option("--seed", type=int, default=1, show_default=True, help="Noise seed.")
@click.option("--json", "as_json", is_flag=True, help="Print the results as JSON.")
@click.option(
    "--out",
    "out_dir",
    type=click.Path(path_type=Path, file_okay=False),
    help="Folder for plots (PNG and SVG), metrics.csv and results.json.",
)
@guarded
def glucose(
    patients: str,
    meals: str,
    controller: str,
    days: int,
    attack_texts: tuple[str, ...],
    attack_file: Path | None,
    search_text: str | None,
    noise: bool,
    seed: int,
    as_json: bool,
    out_dir: Path | None,
) -> None:
    """Simulate virtual patients clean and under attack; compare harm and stealth.

    Each attack (or ';'-joined group) is one attacked run of every patient, compared with the
    same patient's clean run: harm metrics, ISO 14971 severity (attack-induced where the
    clean day was milder) and the stealth alarms the attack raises.
    """
    require_sim_extra()
    from mdrisk.impact.experiment import RunSetup, needs_ml_controller, run_attacks

    chosen = _patients(patients)
    scenario = _meals(meals)
    plans = _plans(attack_texts, attack_file)
    budget = _budget(search_text) if search_text is not None else None
    if controller != "ml_advised":
        ml_only = needs_ml_controller(plans)
        if budget is not None and budget.signal in ("iob", "forecast"):
            ml_only.append(f"--search signal={budget.signal}")
        if ml_only:
            raise InputError(
                "--controller",
                [
                    Problem(
                        f"{', '.join(ml_only)} target(s) a signal of the ML-advised controller",
                        field=controller,
                        fix="use --controller ml_advised",
                    )
                ],
            )
    setup = RunSetup(
        patients=chosen, scenario=scenario, controller=controller, days=days, noise=noise, seed=seed
    )

    search_result = None
    with progress_bar() as progress:
        if budget is not None:
            from mdrisk.impact.search import search_worst_attack

            task = progress.add_task("searching", total=None)

            def searched(done: int, planned: int) -> None:
                progress.update(
                    task,
                    completed=done,
                    total=planned,
                    description=f"searching ({done}/{planned} candidates)",
                )

            search_result = search_worst_attack(setup, budget, progress=searched)
            plans = plans + search_result.plans
        task = progress.add_task("simulating", total=100)
        runs = run_attacks(
            setup,
            plans,
            record=("bg", "cgm"),
            progress=lambda share: progress.update(task, completed=100 * share),
        )

    from mdrisk.impact.summary import runs_record, search_record

    record = runs_record(runs)
    if search_result is not None:
        record["search"] = search_record(search_result)
    _refuse_non_finite(record)
    text = json.dumps(record, indent=2, sort_keys=True) + "\n"
    if as_json:
        click.echo(text, nl=False)
    else:
        _print_table(record)
        if search_result is not None:
            _print_search(record["search"])
    if out_dir is not None:
        files = _output_files(runs, record, text)
        write_files(out_dir, files)
        if not as_json:
            for name in sorted(files):
                out_console.print(f"wrote {out_dir / name}", markup=False)


def _refuse_non_finite(record: dict[str, Any]) -> None:
    """A run whose results hold NaN or infinity has left the patient model's numeric range:
    its harm counts mean nothing, so it is an error, never "0 patients harmed"."""
    from mdrisk.report.canonical_json import non_finite_at

    where = non_finite_at(record, "results")
    if where is not None:
        raise InputError(
            "--attack",
            [
                Problem(
                    f"the simulation produced a non-finite number ({where}): the attacks drive "
                    "the patient model outside its numeric range, so no harm can be measured",
                    fix="use magnitudes within the signals' physical ranges",
                )
            ],
        )


def _output_files(runs: Any, record: dict[str, Any], text: str) -> dict[str, bytes]:
    """Every file of --out, rendered in memory first so none is half-written."""
    from mdrisk.impact.plots import figure_bytes
    from mdrisk.impact.summary import metrics_csv

    files = {"results.json": text.encode("utf-8"), "metrics.csv": metrics_csv(record)}
    if not runs.plans:
        for kind, data in figure_bytes(runs, None).items():
            files[f"clean.{kind}"] = data
    for index in range(len(runs.plans)):
        for kind, data in figure_bytes(runs, index).items():
            files[f"attack-{index + 1:02d}.{kind}"] = data
    return files


# --- mdrisk simulate detectors ---------------------------------------------------------------


def _minutes(value: float | None) -> str:
    return "-" if value is None else f"{value:.0f}"


def _per_day(evaluation: DetectorEvaluation, field: str) -> float:
    """The mean of a per-patient harm figure over every patient-day."""
    days = sum(h.days for h in evaluation.harm)
    return sum(getattr(h, field) * h.days for h in evaluation.harm) / days if days else 0.0


def _change(evaluation: DetectorEvaluation, what: str) -> str:
    before = _per_day(evaluation, f"attacked_{what}")
    return f"{before:.0f}->{_per_day(evaluation, f'responded_{what}'):.0f}"


def _print_detectors(evaluations: list[DetectorEvaluation]) -> None:
    from rich import box
    from rich.console import Console
    from rich.table import Table

    console = Console(width=max(out_console.width, 104), highlight=False)
    by_detector: dict[str, list[DetectorEvaluation]] = {}
    for e in evaluations:
        by_detector.setdefault(e.detector, []).append(e)
    for name, rows in by_detector.items():
        first = rows[0]
        title = (
            f"{name}: {first.kind} on {first.signal}, response {first.response} "
            f"({first.declared_as})"
        )
        if first.status != "simulated":
            out_console.print(f"{title}: {first.reason}", markup=False)
            continue
        title += (
            f"; false alarms {first.false_alarms_per_patient_day:.2f} per patient-day "
            f"({first.clean_days_with_false_alarm}/{first.patient_days} clean days"
        )
        if first.response != "alarm":
            title += f", {first.clean_days_harmed_by_response} made worse by the response"
        table = Table(title=title + ")", title_justify="left", box=box.SIMPLE_HEAD, pad_edge=False)
        for column in (
            "attack",
            "detected",
            "while acting",
            "TTD med/max",
            "harmed",
            "min <54/day",
            "min >250/day",
        ):
            table.add_column(column, justify="left" if column == "attack" else "right")
        for e in rows:
            table.add_row(
                e.attack_name or e.attack or "",
                f"{e.detected_days}/{e.patient_days}",
                f"{e.detected_during_attack_days}/{e.patient_days}",
                f"{_minutes(e.time_to_detect_median_min)}/{_minutes(e.time_to_detect_max_min)}",
                f"{e.patients_harmed_attacked}->{e.patients_harmed_responded}",
                _change(e, "minutes_below_54"),
                _change(e, "minutes_above_250"),
            )
        console.print(table)
    out_console.print(
        "detected: attacked patient-days caught, not by chance (the same day without the "
        "attack had not alarmed by then); while acting: before the attack stopped; TTD: "
        "minutes from the attack's onset; harmed: patients whose worst severity over their "
        "days is worse than on their clean days; min/day: mean per patient-day; a -> b: "
        "attacked -> with the response acting from the detection (an alarm changes nothing "
        "in the loop)",
        markup=False,
    )


@simulate_group.command("detectors")
@click.argument("model")
@click.option(
    "--attack",
    "attack_texts",
    multiple=True,
    help="An attack spec (repeatable); default: the impact mapping's attacks of every "
    "signal a detector watches.",
)
@click.option(
    "--days",
    type=click.IntRange(1, 60),
    default=5,
    show_default=True,
    help="Monte Carlo days per patient (the reference day with meals varied).",
)
@click.option(
    "--patients",
    default=None,
    help="Patients (as for 'simulate glucose'); default: the impact mapping's.",
)
@click.option("--seed", type=int, default=1, show_default=True, help="Meals and noise seed.")
@click.option("--json", "as_json", is_flag=True, help="Print the evaluations as JSON.")
@guarded
def detectors(
    model: str,
    attack_texts: tuple[str, ...],
    days: int,
    patients: str | None,
    seed: int,
    as_json: bool,
) -> None:
    """Evaluate the runtime detectors MODEL declares against attacks, with the simulator.

    Per detector and attack: share of attacked patient-days detected, time to detect, false
    alarms per clean patient-day (CGM noise and meal variability on), and the harm left
    once the device's response acts from the detection time.
    """
    require_sim_extra()
    from mdrisk.bundled import glucose_impact
    from mdrisk.impact.detector_bridge import evaluate_model_detectors
    from mdrisk.model import load_model

    loaded = load_model(model_path(model))
    if not loaded.model.detectors:
        raise InputError(
            model,
            [
                Problem(
                    "the model declares no detectors",
                    field="detectors",
                    fix="add a top-level 'detectors:' list (see examples/bgms.yaml)",
                )
            ],
        )
    plans = _plans(attack_texts, None) if attack_texts else None
    chosen = _patients(patients) if patients is not None else None
    with progress_bar() as progress:
        task = progress.add_task("simulating", total=100)

        def report(label: str, share: float) -> None:
            progress.update(task, completed=100 * share, description=label)

        evaluations = evaluate_model_detectors(
            loaded.model,
            glucose_impact(),
            plans,
            patients=chosen,
            days=days,
            seed=seed,
            progress=report,
        )
    if as_json:
        payload = [e.model_dump(mode="json") for e in evaluations]
        click.echo(json.dumps(payload, indent=2, sort_keys=True))
    else:
        _print_detectors(evaluations)
