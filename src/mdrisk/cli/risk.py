"""``mdrisk risk``: the risk register of a device model, as a table or as JSON.

Only argument parsing and printing here; the work is in ``mdrisk.risk``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

import click

from mdrisk.cli.common import (
    apply_decisions,
    decisions_option,
    guarded,
    model_path,
    out_console,
    print_notes,
    progress_bar,
    read_decisions,
    store_option,
)

if TYPE_CHECKING:
    from rich.table import Table

    from mdrisk.assessment.decisions import Decision


def _decision_cell(decision: Decision | None) -> str:
    if decision is None:
        return "-"
    return f"{decision.status} ({decision.owner}, {decision.date})"


def _table(risks: list, decided: dict[str, Decision] | None = None) -> Table:
    from rich.table import Table

    table = Table(show_lines=False, header_style="bold")
    for header in (
        "risk",
        "entry",
        "hazards",
        "severity",
        "exploitability",
        "risk level",
        "residual",
        "CVSS 3.1",
        "CVSS 4.0",
        "open",
        *(("decision",) if decided is not None else ()),
    ):
        table.add_column(header, overflow="fold")
    for risk in risks:
        v3 = next((c for c in risk.cvss if c.version.startswith("3")), None)
        v4 = next((c for c in risk.cvss if c.version == "4.0"), None)
        table.add_row(
            risk.id,
            risk.element,
            ", ".join(risk.hazards) or "-",
            f"{risk.severity.level} ({risk.severity.source})",
            risk.exploitability.level,
            f"{risk.level}: {risk.acceptability}",
            f"{risk.residual.exploitability} -> {risk.residual.level}: "
            f"{risk.residual.acceptability}",
            f"{v3.base_score:.1f}" if v3 else "-",
            f"{v4.score:.1f} {v4.score_kind}" if v4 else "-",
            str(len(risk.open_questions)),
            *((_decision_cell(decided.get(risk.id)),) if decided is not None else ()),
        )
    return table


def _open_summary(risks: list) -> list[str]:
    counts: dict[str, int] = {}
    for risk in risks:
        for question in risk.open_questions:
            key = question.split(":", 1)[0]
            counts[key] = counts.get(key, 0) + 1
    return [f"{key} (open in {count} risk(s))" for key, count in sorted(counts.items())]


@click.command()
@click.argument("model")
@click.option(
    "--answers",
    "answers_file",
    type=click.Path(path_type=Path, dir_okay=False),
    default=None,
    help="The analyst's answers (YAML): rubric answers with "
    "justifications, severities, implemented mitigations.",
)
@click.option(
    "--matrix",
    "matrix_file",
    type=click.Path(path_type=Path, dir_okay=False),
    default=None,
    help="A risk matrix (YAML) in place of the built-in 5x5.",
)
@click.option(
    "--kb",
    "use_kb",
    is_flag=True,
    help="Use the technology pack and the knowledge base: known vulnerabilities "
    "(CVSS, KEV, EPSS) and catalogue mitigations.",
)
@store_option
@click.option(
    "--json",
    "as_json",
    is_flag=True,
    help="Print the risks as canonical JSON (sorted keys) instead of a table.",
)
@decisions_option
@guarded
def risk(
    model: str,
    answers_file: Path | None,
    matrix_file: Path | None,
    use_kb: bool,
    store_path: Path | None,
    as_json: bool,
    decisions_file: Path | None,
) -> None:
    """Score the risks of a device model (a file, or a built-in example name).

    Each risk R-n links its scenario or loss scenarios, threats, hazards and losses, and
    carries CVSS 3.1 and 4.0 vectors from the medical-device CVSS rubric (with the question
    and answer behind every metric), the known vulnerabilities on its entry point scored in
    the device's context, severity x exploitability on the ISO 14971-style matrix, the
    controls and mitigations, and the residual risk. Questions neither the model nor the
    answers file answers take their worst case and are listed as open. With --decisions,
    each risk shows the analyst's decision on it (in JSON: "decision").
    """
    from mdrisk import bundled
    from mdrisk.pipeline import run
    from mdrisk.risk.answers import load_answers
    from mdrisk.risk.matrix import load_matrix

    path = model_path(model)
    decisions = read_decisions(decisions_file)
    with progress_bar() as progress:
        task = progress.add_task("loading", total=None)
        rubric = bundled.rubric()
        inputs = bundled.risk_inputs(
            rubric,
            matrix=load_matrix(matrix_file) if matrix_file else None,
            answers=load_answers(answers_file, rubric.rubric) if answers_file else None,
        )

        def step(name: str) -> None:
            progress.update(task, description=name)

        assessment, notes = run(
            path, use_kb=use_kb, store_path=store_path, risk=inputs, created="", on_step=step
        )
    assessment = apply_decisions(assessment, decisions)
    from mdrisk.decisions import decided_findings

    decided = decided_findings(assessment) if decisions is not None else None
    risks = assessment.risks
    if as_json:
        data = [r.model_dump(mode="json") for r in risks]
        if decided is not None:
            for item in data:
                entry = decided.get(item["id"])
                item["decision"] = None if entry is None else entry.model_dump(mode="json")
        click.echo(json.dumps(data, sort_keys=True, indent=2, ensure_ascii=False))
    else:
        out_console.print(_table(risks, decided))
        unacceptable = sum(1 for r in risks if r.acceptability == "unacceptable")
        residual = sum(1 for r in risks if r.residual.acceptability == "unacceptable")
        out_console.print(
            f"{path}: {len(risks)} risks, {unacceptable} unacceptable before "
            f"controls, {residual} after (matrix: "
            f"{risks[0].matrix if risks else '-'})",
            markup=False,
        )
        for line in _open_summary(risks):
            out_console.print(f"open question {line}", markup=False)
    print_notes(notes)
