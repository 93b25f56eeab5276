"""``mdrisk validate``, ``analyze``, ``diagram`` and ``examples``: a device model in, checks,
the assessment and the control-structure diagram out. No analysis here."""

from __future__ import annotations

import sys
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from mdrisk.cli.common import (
    EXIT_FAILED,
    apply_decisions,
    campaign_option,
    decisions_option,
    guarded,
    llm_endpoint_of,
    llm_endpoint_options,
    out_console,
    parse_formats,
    print_notes,
    progress_bar,
    read_decisions,
    require_ml_extra,
    require_sim_extra,
    risk_inputs_of,
    risk_options,
    store_option,
    write_files,
)
from mdrisk.collector import collector_paused
from mdrisk.errors import InputError, Problem

if TYPE_CHECKING:
    from mdrisk.assessment import Assessment


def _summary(assessment: Assessment) -> str:
    warnings = sum(1 for check in assessment.checks if check.severity == "warning")
    return (
        f"{len(assessment.device.components)} components, {len(assessment.device.links)} "
        f"links, {len(assessment.control_actions)} control actions, {len(assessment.ucas)} "
        f"UCAs, {len(assessment.fdi_points)} FDI points, {len(assessment.loss_scenarios)} "
        f"loss scenarios, {len(assessment.checks)} checks ({warnings} warnings)"
    )


def impact_lines(assessment: Assessment) -> list[str]:
    """A short account of the impact section for the terminal."""
    simulated = [f for f in assessment.impact if f.status == "simulated"]
    skipped = [f for f in assessment.impact if f.status != "simulated"]
    covered = sum(len(f.loss_scenarios) for f in simulated)
    lines = [
        f"impact: {covered} loss scenarios simulated under {len(simulated)} attacks, "
        f"{sum(len(f.loss_scenarios) for f in skipped)} not simulated"
    ]
    for finding in simulated:
        lines.append(
            f"  {finding.id} {finding.attack}: {finding.patients_harmed}/"
            f"{len(finding.patients)} patients harmed (worst: "
            f"{finding.worst_induced_severity or 'none'}), "
            f"{finding.stealthy_patients}/{len(finding.patients)} stealthy; "
            f"{len(finding.loss_scenarios)} loss scenarios"
        )
    for finding in skipped:
        lines.append(
            f"  {finding.id} {len(finding.loss_scenarios)} loss scenarios {finding.reason}"
        )
    return lines


@click.command()
@click.argument("model", type=click.Path(path_type=Path, dir_okay=False))
@click.option("--strict", is_flag=True, help="Exit with status 1 when a check finds a warning.")
@guarded
def validate(model: Path, strict: bool) -> None:
    """Check a device model file: schema, ids, kinds, and STPA completeness checks.

    Errors (exit status 2) name the file, line and field and say how to fix them; completeness
    findings are printed as warnings and notes.
    """
    from mdrisk.model import load_model
    from mdrisk.stpa import analyze_stpa

    loaded = load_model(model)
    checks = analyze_stpa(loaded.model).checks
    for check in checks:
        out_console.print(
            f"{check.severity}: {check.id} {check.rule}: {check.message} (fix: {check.fix})",
            markup=False,
        )
    warnings = sum(1 for check in checks if check.severity == "warning")
    out_console.print(
        f"{model}: valid ({len(loaded.model.components)} components, "
        f"{len(loaded.model.links)} links; {warnings} warnings)",
        markup=False,
    )
    if strict and warnings:
        sys.exit(EXIT_FAILED)


@click.command()
@click.argument("model", type=click.Path(path_type=Path, dir_okay=False))
@click.option(
    "--out",
    "out_dir",
    type=click.Path(path_type=Path, file_okay=False),
    required=True,
    help="Folder for assessment.json, report.md and the diagram.",
)
@click.option(
    "--format",
    "formats",
    multiple=True,
    default=("json", "markdown"),
    show_default=True,
    help="Report formats to write, repeated or comma-separated: "
    "json, markdown (md), html, pdf, csv, sarif, vex, or all.",
)
@click.option("--no-svg", is_flag=True, help="Write the diagram as DOT only.")
@click.option(
    "--kb",
    "use_kb",
    is_flag=True,
    help="Attach threats to every component and link: the built-in technology pack's "
    "rules (CWE, CAPEC, ATT&CK, ATLAS) and, from the knowledge base, known "
    "vulnerabilities with KEV, EPSS and CVSS.",
)
@store_option
@click.option(
    "--simulate",
    is_flag=True,
    help="Measure the patient harm of every loss scenario the glucose simulator can "
    "stand for (the 'impact' section; needs the sim extra; a few seconds).",
)
@click.option(
    "--ml-attacks",
    "ml_attacks",
    is_flag=True,
    help="Run the attacks on each ML engine's own model file (ml.artifact) from every FDI "
    "point, constrained by what it reaches (the 'ml_attacks' section; needs the ml extra; "
    "seconds; 'mdrisk attack' runs them alone with more options); on a language model "
    "(task_type generation), the prompt-injection probes through the --llm- endpoint.",
)
@llm_endpoint_options
@risk_options
@decisions_option
@campaign_option
@guarded
def analyze(
    model: Path,
    out_dir: Path,
    formats: tuple[str, ...],
    no_svg: bool,
    use_kb: bool,
    store_path: Path | None,
    simulate: bool,
    ml_attacks: bool,
    answers_file: Path | None,
    policy_file: Path | None,
    decisions_file: Path | None,
    llm_options: dict[str, Any],
    campaign_dir: Path | None,
) -> None:
    """Run STPA-Sec on a device model and write the assessment to a folder.

    With --kb, also tie each component and link to weaknesses, attack techniques and known
    vulnerabilities (the 'threats' section); this works offline with no imported data.
    """
    use_kb = use_kb or store_path is not None
    if simulate:
        require_sim_extra()
    if ml_attacks:
        require_ml_extra()
    decisions = read_decisions(decisions_file)
    # The simulator runs for seconds on other libraries' objects: the collector stays on.
    with collector_paused(when=not simulate), progress_bar() as progress:
        formats = tuple(dict.fromkeys(("json",) + parse_formats(formats)))  # loads report.package
        from mdrisk.pipeline import run
        from mdrisk.report.package import render_package

        attack_settings = None
        llm_endpoint = None
        if ml_attacks:
            from mdrisk.mlattack.run import AttackSettings

            attack_settings = AttackSettings()
            llm_endpoint = llm_endpoint_of(llm_options)

        task = progress.add_task("loading model", total=4)

        def step(name: str) -> None:
            progress.update(task, description=name)

        assessment, kb_notes = run(
            model,
            use_kb=use_kb,
            store_path=store_path,
            simulate=simulate,
            risk=risk_inputs_of(answers_file, policy_file),
            on_step=step,
            ml_attacks=attack_settings,
            llm_endpoint=llm_endpoint,
            campaign=campaign_dir,
        )
        assessment = apply_decisions(assessment, decisions)
        progress.update(task, advance=2, description="rendering reports")
        package = render_package(assessment, formats, svg=not no_svg)
        progress.update(task, advance=1, description="writing files")
        write_files(out_dir, package.files)
        progress.update(task, advance=1)
    out_console.print(f"{model}: {_summary(assessment)}", markup=False)
    out_console.print(f"attack scenarios: {len(assessment.scenarios)}", markup=False)
    if use_kb:
        rules = sum(len(threat.pack_rules) for threat in assessment.threats)
        known = len({v.id for threat in assessment.threats for v in threat.vulnerabilities})
        out_console.print(
            f"threats: {len(assessment.threats)} ({rules} pack findings, {known} "
            "known vulnerabilities)",
            markup=False,
        )
    if ml_attacks:
        run_attacks = [a for a in assessment.ml_attacks if a.status == "run"]
        out_console.print(
            f"ml attacks: {len(assessment.ml_attacks)} ({len(run_attacks)} run, "
            f"{sum(a.successes for a in run_attacks)} successes on "
            f"{sum(a.examples for a in run_attacks)} cases)",
            markup=False,
        )
    for line in impact_lines(assessment) if simulate else []:
        out_console.print(line, markup=False)
    print_notes(kb_notes + package.notes)
    for file_name in sorted(package.files):
        out_console.print(f"wrote {out_dir / file_name}", markup=False)


@click.command()
@click.argument("model", type=click.Path(path_type=Path, dir_okay=False))
@click.option(
    "--out",
    "out_file",
    type=click.Path(path_type=Path, dir_okay=False),
    required=True,
    help="Output file: .dot for Graphviz source, .svg for a drawing.",
)
@guarded
def diagram(model: Path, out_file: Path) -> None:
    """Draw the control structure: control actions, feedback, data, updates; FDI points red."""
    from mdrisk.atomic import write_bytes_atomic
    from mdrisk.model import load_model
    from mdrisk.model.diagram import to_dot, to_svg, too_large_to_draw
    from mdrisk.stpa.fdi import derive_fdi_points
    from mdrisk.stpa.graph import ControlStructure

    if out_file.suffix not in (".dot", ".svg", ".gv"):
        raise click.BadParameter("the file name must end in .dot, .gv or .svg", param_hint="--out")
    loaded = load_model(model)
    points = derive_fdi_points(ControlStructure.of(loaded.model))
    highlight = frozenset(point.element for point in points)
    if out_file.suffix == ".svg":
        too_large = too_large_to_draw(loaded.model)
        if too_large is not None:
            raise InputError(str(model), [Problem(too_large, fix="write a .dot file instead")])
        data = to_svg(loaded.model, highlight)
    else:
        data = to_dot(loaded.model, highlight).encode("utf-8")
    write_bytes_atomic(out_file, data)
    out_console.print(f"wrote {out_file}", markup=False)


@click.command()
def examples() -> None:
    """List the built-in reference device models."""
    folder = resources.files("mdrisk") / "examples"
    for entry in sorted(folder.iterdir(), key=lambda item: item.name):
        if entry.name.endswith(".yaml"):
            out_console.print(f"{entry.name.removesuffix('.yaml'):16} {entry}", markup=False)
