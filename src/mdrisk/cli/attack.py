"""``mdrisk attack``: the attacks on a device's own ML model, alone, from every FDI point.

Only argument parsing and printing here; the work is in ``mdrisk.mlattack``.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from mdrisk.cli.common import (
    guarded,
    llm_endpoint_of,
    llm_endpoint_options,
    model_path,
    out_console,
    progress_bar,
    require_ml_extra,
    write_files,
)
from mdrisk.errors import InputError, Problem

if TYPE_CHECKING:
    from rich.table import Table

    from mdrisk.assessment.ml_attacks import MLAttack

REACHES = ("released", "declared", "stpa", "unconstrained")


def _percent(value: float | None) -> str:
    return "-" if value is None else f"{100 * value:.0f} %"


def attack_table(attacks: list[MLAttack]) -> Table:
    from rich.table import Table

    table = Table(header_style="bold")
    for header in (
        "attack",
        "ATLAS",
        "entry",
        "target",
        "success",
        "violations",
        "perturbation",
        "queries",
        "accuracy clean/attacked",
    ):
        table.add_column(header, overflow="fold")
    for attack in attacks:
        success = (
            f"{attack.successes}/{attack.examples} ({_percent(attack.success_rate)})"
            if attack.status == "run"
            else attack.status
        )
        accuracy = (
            f"{_percent(attack.clean_accuracy)} / {_percent(attack.attacked_accuracy)}"
            if attack.clean_accuracy is not None or attack.attacked_accuracy is not None
            else "-"
        )
        table.add_row(
            f"{attack.id} {attack.attack}",
            attack.atlas[0],
            attack.element,
            attack.target or "-",
            success,
            str(attack.violations),
            "-" if attack.perturbation is None else f"{attack.perturbation:.2f} sd",
            str(attack.queries),
            accuracy,
        )
    return table


@click.command()
@click.argument("model")
@click.option("--engine", "engine_id", help="Attack only this ML engine (component id).")
@click.option(
    "--budget",
    type=click.IntRange(10, 1_000_000),
    default=1000,
    show_default=True,
    help="Model queries an evasion may spend on one case (and an extraction in all).",
)
@click.option("--seed", type=int, default=0, show_default=True, help="Seed of every attack.")
@click.option(
    "--examples",
    type=click.IntRange(1, 10_000),
    default=20,
    show_default=True,
    help="Held-out cases attacked per entry point and misclassification.",
)
@click.option(
    "--reach",
    type=click.Choice(REACHES),
    default="released",
    show_default=True,
    help="Constraints: the point's reach with the detectors of the released device "
    "(released), with proposed ones too (declared), with none (stpa), or none at all.",
)
@click.option(
    "--black-box",
    "black_box",
    is_flag=True,
    help="Use the black-box evasion (HopSkipJump) even where the model gives gradients.",
)
@click.option(
    "--out",
    "out_dir",
    type=click.Path(path_type=Path, file_okay=False),
    help="Folder for ml-attacks.json (the records the assessment's ml_attacks section holds).",
)
@llm_endpoint_options
@guarded
def attack(
    model: str,
    engine_id: str | None,
    budget: int,
    seed: int,
    examples: int,
    reach: str,
    black_box: bool,
    out_dir: Path | None,
    llm_options: dict[str, Any],
) -> None:
    """Run the attacks on a device's own ML model, constrained by what each FDI point reaches.

    MODEL is a device model file (or a built-in example name) whose ML engine names its model
    file (ml.artifact). Evasion, poisoning of the field-learning path, model substitution
    through an unsigned update path, extraction and membership inference through an exposed
    inference API, each with its MITRE ATLAS technique. On a language model (task_type
    generation), the prompt-injection probes, direct and indirect, through the endpoint the
    --llm- options (or MDRISK_LLM_* variables) name.
    """
    from mdrisk.mlattack.capability import Reach
    from mdrisk.mlattack.prompt_injection import generation_engines
    from mdrisk.mlattack.run import AttackSettings, engines_with_artifacts
    from mdrisk.model import load_model
    from mdrisk.pipeline import attack_models
    from mdrisk.report.canonical_json import canonical_bytes
    from mdrisk.stpa import analyze_stpa

    path = model_path(model)
    loaded = load_model(path)
    language_models = [e for e in generation_engines(loaded.model) if engine_id in (None, e.id)]
    if engines_with_artifacts(loaded.model, engine_id):
        require_ml_extra()
    elif not language_models:
        what = (
            f"ML engine '{engine_id}' is not in the model, names no model file and is no "
            "language model (task_type: generation)"
            if engine_id
            else "no ML engine names a model file or is a language model (task_type: generation)"
        )
        raise InputError(
            str(path),
            [
                Problem(
                    what,
                    field="components[].ml.artifact",
                    fix="name the model file under the engine's ml.artifact",
                )
            ],
        )
    settings = AttackSettings(
        budget=budget,
        seed=seed,
        examples=examples,
        reach=Reach(reach),
        evasion="black" if black_box else "auto",
    )
    points = analyze_stpa(loaded.model).fdi_points
    with progress_bar() as progress:
        task = progress.add_task("attacking", total=None)

        def step(text: str) -> None:
            progress.update(task, description=text)

        attacks = attack_models(
            loaded,
            points,
            settings,
            engine_id=engine_id,
            progress=step,
            llm_endpoint=llm_endpoint_of(llm_options) if language_models else None,
        )
    out_console.print(attack_table(attacks))
    if out_dir is not None:
        records = [a.model_dump(mode="json") for a in attacks]
        write_files(out_dir, {"ml-attacks.json": canonical_bytes(records)})
        out_console.print(f"wrote {out_dir / 'ml-attacks.json'}", markup=False)
