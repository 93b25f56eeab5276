"""``mdrisk demo``: the whole chain on a built-in reference device, offline, into one folder,
and a first screen that says what was run, what was found and which file to open first."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import TYPE_CHECKING

import click

from mdrisk.cli.common import (
    ML_MODULES,
    apply_decisions,
    decisions_option,
    example_path,
    guarded,
    missing_sim_modules,
    out_console,
    print_notes,
    progress_bar,
    read_decisions,
    risk_inputs_of,
    risk_options,
    write_files,
)

if TYPE_CHECKING:
    from mdrisk.assessment import Assessment

SEVERITY_ORDER = ("negligible", "minor", "serious", "critical", "catastrophic")

# Where to look, in the order a first-time reader should: file (or folder) and what it is.
GUIDE = (
    ("report.html", "open this first: the evidence package as a reviewer reads it"),
    ("assessment.json", "the canonical record: every finding with its stable id"),
    ("report.md", "the same report as Markdown"),
    ("report.pdf", "the same report as PDF"),
    ("csv/", "one table per file (risks, scenarios, traceability, ...)"),
    ("findings.sarif", "the findings at their line in the device model (SARIF 2.1.0)"),
    ("vex.cdx.json", "the matched vulnerabilities as a CycloneDX VEX"),
    ("control-structure.svg", "the control-structure diagram, FDI points in red"),
    ("control-structure.dot", "the diagram's Graphviz source"),
)


def _known_vulnerabilities(assessment: Assessment) -> int:
    return len({v.id for threat in assessment.threats for v in threat.vulnerabilities})


def _harm_line(assessment: Assessment) -> str:
    simulated = [f for f in assessment.impact if f.status == "simulated"]
    if not simulated:
        return "simulated harm: not simulated (see the note below)"
    harmful = [f for f in simulated if f.patients_harmed]
    patients = max(len(f.patients) for f in simulated)
    line = (
        f"simulated harm: {len(simulated)} attacks on {patients} virtual patients, "
        f"{len(harmful)} of them harm at least one patient"
    )
    if harmful:
        worst = max(
            harmful,
            key=lambda f: (
                SEVERITY_ORDER.index(f.worst_induced_severity)
                if f.worst_induced_severity in SEVERITY_ORDER
                else -1,
                f.patients_harmed,
            ),
        )
        line += (
            f"; worst: {worst.worst_induced_severity} ({worst.id} {worst.attack}: "
            f"{worst.patients_harmed}/{len(worst.patients)} patients harmed)"
        )
    return line


def _ml_attack_line(assessment: Assessment) -> str:
    run = [a for a in assessment.ml_attacks if a.status == "run"]
    if not run:
        return "attacks on the ML model: none run (no model file, no simulated forecaster)"
    best = max(run, key=lambda a: a.success_rate or 0.0)
    return (
        f"attacks on the ML model: {len(run)} run; most successful {best.id} {best.attack} "
        f"from {best.element} ({100 * (best.success_rate or 0.0):.0f} %)"
    )


def header_lines(assessment: Assessment, model: Path, out_dir: Path, files: set[str]) -> list[str]:
    """What the demo ran on, what it found, and which of its files to open first."""
    sources = [ref.source for ref in assessment.provenance.kb_snapshots]
    store_used = any(not source.startswith("technology-pack/") for source in sources)
    bundled = any(source.startswith("bundled-snapshot/") for source in sources)
    simulated = any(f.status == "simulated" for f in assessment.impact)
    unacceptable = sum(1 for r in assessment.risks if r.acceptability == "unacceptable")
    residual = sum(1 for r in assessment.risks if r.residual.acceptability == "unacceptable")
    rules = sum(len(threat.pack_rules) for threat in assessment.threats)
    steps = [
        "STPA-Sec",
        "knowledge-base matching"
        + (
            " (the public-data snapshot bundled with mdrisk)"
            if bundled
            else ("" if store_used else " (technology-pack rules only: no knowledge base)")
        ),
        "attack scenarios",
        "patient simulation" if simulated else "patient simulation (skipped: see the note)",
        *(["attacks on the ML model"] if assessment.ml_attacks else []),
        "risk register",
    ]
    lines = [
        f"mdrisk demo: {assessment.device.device.name} (built-in reference device '{model.stem}')",
        f"ran: {', '.join(steps)}",
        "found:",
        f"  {len(assessment.fdi_points)} false-data injection points, "
        f"{len(assessment.loss_scenarios)} loss scenarios",
        f"  {len(assessment.threats)} threats ({rules} technology-pack findings), "
        f"{_known_vulnerabilities(assessment)} known vulnerabilities matched",
        f"  {len(assessment.scenarios)} attack scenarios",
        f"  {len(assessment.risks)} risks, {unacceptable} unacceptable before controls, "
        f"{residual} after",
        f"  {_harm_line(assessment)}",
        f"  {_ml_attack_line(assessment)}",
        f"results in {out_dir.resolve()}:",
    ]
    written = {name.split("/", 1)[0] + ("/" if "/" in name else "") for name in files}
    guide = dict(GUIDE)
    width = max(len(name) for name in written | set(guide))
    for name in [name for name in guide if name in written] + sorted(written - set(guide)):
        lines.append(f"  {name:{width}}  {guide.get(name, '')}".rstrip())
    return lines


@click.command()
@click.option(
    "--out",
    "out_dir",
    type=click.Path(path_type=Path, file_okay=False),
    default=Path("mdrisk-demo"),
    show_default=True,
    help="Folder for the results.",
)
@click.option(
    "--example",
    default="bgms",
    show_default=True,
    help="Built-in device to run on (see 'mdrisk examples').",
)
@risk_options
@decisions_option
@guarded
def demo(
    out_dir: Path,
    example: str,
    answers_file: Path | None,
    policy_file: Path | None,
    decisions_file: Path | None,
) -> None:
    """Run the whole chain on a built-in reference device, offline, with embedded defaults.

    Uses the technology pack and the default knowledge base when one exists, simulates the
    patient harm when the sim extra is installed, and writes the evidence package in every
    format (PDF when WeasyPrint or Chromium is installed).
    """
    from mdrisk.mlattack.run import AttackSettings
    from mdrisk.pipeline import run
    from mdrisk.report.package import PACKAGE_FORMATS, render_package

    model = example_path(example)
    decisions = read_decisions(decisions_file)
    missing = missing_sim_modules()
    ml_missing = [name for name in ML_MODULES if importlib.util.find_spec(name) is None]
    steps = ("json", *PACKAGE_FORMATS)
    with progress_bar() as progress:
        task = progress.add_task("reading the input", total=len(steps) + 2)

        def step(name: str) -> None:
            progress.update(task, description=name)

        def rendering(name: str) -> None:
            progress.update(task, advance=1, description=f"rendering {name}")

        assessment, notes = run(
            model,
            use_kb=True,
            simulate=not missing,
            risk=risk_inputs_of(answers_file, policy_file),
            on_step=step,
            ml_attacks=None if ml_missing else AttackSettings(),
        )
        assessment = apply_decisions(assessment, decisions)
        package = render_package(assessment, steps, pdf_optional=True, on_format=rendering)
        progress.update(task, advance=1, description="writing files")
        write_files(out_dir, package.files)
        progress.update(task, advance=1)
    if ml_missing:
        notes.append(
            f"no attacks on the ML model: they need {', '.join(ml_missing)} "
            "(pip install 'mdrisk[ml]')"
        )
    if missing:
        notes.append(
            f"no simulation of patient harm: the glucose simulator needs {', '.join(missing)} "
            "(pip install 'mdrisk[sim]')"
        )
    for line in header_lines(assessment, model, out_dir, set(package.files)):
        out_console.print(line, markup=False)
    print_notes(notes + package.notes)
