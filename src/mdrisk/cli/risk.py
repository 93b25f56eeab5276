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
    campaign_option,
    decisions_option,
    guarded,
    model_path,
    out_console,
    print_notes,
    progress_bar,
    read_decisions,
    require_sim_extra,
    risk_inputs_of,
    risk_options,
    store_option,
)

if TYPE_CHECKING:
    from rich.table import Table

    from mdrisk.assessment import Assessment
    from mdrisk.assessment.decisions import Decision
    from mdrisk.risk.engine import RiskInputs


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
            risk.exploitability.level
            + (
                f" ({risk.exploitability.best}..{risk.exploitability.worst})"
                if risk.exploitability.best != risk.exploitability.worst
                else ""
            ),
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


def _with_control_table(before: list, after: list, ids: tuple[str, ...]) -> Table:
    from rich.table import Table

    table = Table(show_lines=False, header_style="bold")
    for header in ("risk", "entry", "hazards", "as designed", "with the control", "change"):
        table.add_column(header, overflow="fold")
    now = {r.id: r for r in after}
    for risk in before:
        changed = now.get(risk.id)
        if changed is None:
            table.add_row(risk.id, risk.element, ", ".join(risk.hazards), "-", "gone", "")
            continue
        if (changed.exploitability.level, changed.level, changed.severity.level) == (
            risk.exploitability.level,
            risk.level,
            risk.severity.level,
        ) and not any(c.id in ids for c in risk.controls):
            continue
        table.add_row(
            risk.id,
            risk.element,
            ", ".join(risk.hazards) or "-",
            f"{risk.severity.level} x {risk.exploitability.level} = {risk.level}",
            f"{changed.severity.level} x {changed.exploitability.level} = {changed.level}: "
            f"{changed.acceptability}",
            "; ".join(changed.exploitability.steps[-2:]),
        )
    return table


@click.command()
@click.argument("model")
@risk_options
@decisions_option
@click.option(
    "--matrix",
    "matrix_file",
    type=click.Path(path_type=Path, dir_okay=False),
    default=None,
    hidden=True,
    help="Older name of --policy.",
)
@click.option(
    "--with-control",
    "with_controls",
    multiple=True,
    metavar="ID@ELEMENT",
    help="Re-run the analysis with a recommended control in place (its id as the register "
    "shows it, e.g. authenticate_link@meter_to_app; repeatable) and show what changes: "
    "the model changed where it has a field for the control (a protection on a link), "
    "the policy's credit otherwise.",
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
    "--simulate",
    is_flag=True,
    help="Measure the patient harm the glucose simulator can stand for (with --with-control: "
    "measured again with the control in place).",
)
@click.option(
    "--json",
    "as_json",
    is_flag=True,
    help="Print the risks as canonical JSON (sorted keys) instead of a table.",
)
@campaign_option
@guarded
def risk(
    model: str,
    answers_file: Path | None,
    policy_file: Path | None,
    decisions_file: Path | None,
    matrix_file: Path | None,
    with_controls: tuple[str, ...],
    use_kb: bool,
    store_path: Path | None,
    simulate: bool,
    as_json: bool,
    campaign_dir: Path | None,
) -> None:
    """Score the risks of a device model (a file, or a built-in example name).

    Each risk R-n links its scenario or loss scenarios, threats, hazards and losses, and
    carries the CVSS 3.1 and 4.0 vectors its exploitability is read from (the
    medical-device CVSS rubric, with the question and answer behind every metric), the
    known vulnerabilities on its entry point scored in the device's context, severity x
    exploitability on the policy's matrix, the controls in place, the controls the policy
    recommends, and the residual risk. Rubric questions neither the model nor the answers
    file answers are listed as open, and the exploitability shows the range between their
    best and worst answers. With --decisions, each risk shows the analyst's decision on it
    (in JSON: "decision").
    """
    from mdrisk.pipeline import run

    if matrix_file is not None and policy_file is None:
        policy_file = matrix_file
    if simulate:
        require_sim_extra()
    path = model_path(model)
    decisions = read_decisions(decisions_file)
    inputs = risk_inputs_of(answers_file, policy_file)
    with progress_bar() as progress:
        task = progress.add_task("loading", total=None)

        def step(name: str) -> None:
            progress.update(task, description=name)

        assessment, notes = run(
            path,
            use_kb=use_kb,
            store_path=store_path,
            risk=inputs,
            simulate=simulate,
            created="",
            on_step=step,
            campaign=campaign_dir,
        )
        changed = None
        if with_controls:
            progress.update(task, description="analysing again with the controls in place")
            changed = _rerun_with(
                path, assessment, with_controls, inputs, use_kb, store_path, simulate
            )
    assessment = apply_decisions(assessment, decisions)
    from mdrisk.decisions import decided_findings

    decided = decided_findings(assessment) if decisions is not None else None
    risks = assessment.risks
    if changed is not None:
        out_console.print(_with_control_table(risks, changed.risks, with_controls))
        _print_counts(path, changed.risks, f"with {', '.join(with_controls)}")
        print_notes(notes)
        return
    if as_json:
        data = [r.model_dump(mode="json") for r in risks]
        if decided is not None:
            for item in data:
                entry = decided.get(item["id"])
                item["decision"] = None if entry is None else entry.model_dump(mode="json")
        click.echo(json.dumps(data, sort_keys=True, indent=2, ensure_ascii=False))
    else:
        out_console.print(_table(risks, decided))
        _print_counts(path, risks, "")
        for line in _open_summary(risks):
            out_console.print(f"open question {line}", markup=False)
    print_notes(notes)


def _print_counts(path: Path, risks: list, what: str) -> None:
    unacceptable = sum(1 for r in risks if r.acceptability == "unacceptable")
    residual = sum(1 for r in risks if r.residual.acceptability == "unacceptable")
    levels: dict[str, int] = {}
    for r in risks:
        levels[r.level] = levels.get(r.level, 0) + 1
    spread = ", ".join(f"{count} {level}" for level, count in sorted(levels.items()))
    out_console.print(
        f"{path}{' ' + what if what else ''}: {len(risks)} risks ({spread}), {unacceptable} "
        f"unacceptable as designed, {residual} with the controls the policy applies "
        f"(policy: {risks[0].matrix if risks else '-'})",
        markup=False,
    )


def _rerun_with(
    path: Path,
    assessment: Assessment,
    ids: tuple[str, ...],
    inputs: RiskInputs | None,
    use_kb: bool,
    store_path: Path | None,
    simulate: bool,
) -> Assessment:
    """The analysis again with the recommended controls ``ids`` in place."""
    import dataclasses

    from mdrisk import bundled
    from mdrisk.model import load_model
    from mdrisk.pipeline import assess, open_knowledge
    from mdrisk.risk.recommend import with_protections

    recommended = {c.id: c for r in assessment.risks for c in r.controls if c.kind == "recommended"}
    unknown = [i for i in ids if i not in recommended]
    if unknown:
        shown = ", ".join(sorted(recommended)[:12]) or "none"
        raise click.BadParameter(
            f"no recommended control {', '.join(unknown)} in this register "
            f"(recommended here: {shown})",
            param_hint="--with-control",
        )
    changes = [change for i in ids for change in recommended[i].model_change]
    credited = [i for i in ids if not recommended[i].model_change]
    inputs = inputs or bundled.risk_inputs()
    policy = inputs.matrix.matrix.model_copy(update={"apply": credited})
    inputs = dataclasses.replace(inputs, matrix=dataclasses.replace(inputs.matrix, matrix=policy))
    loaded = load_model(path)
    loaded = dataclasses.replace(loaded, model=with_protections(loaded.model, changes))
    from contextlib import ExitStack

    with ExitStack() as stack:
        knowledge = open_knowledge(stack, store_path)[0] if use_kb or store_path else None
        return assess(loaded, created="", knowledge=knowledge, risk=inputs, simulate=simulate)
