"""The ``mdrisk`` command: argument parsing, progress, files and exit codes; no analysis.

Exit status: 0 done, 1 the tool could not finish (a missing program, an internal error),
2 bad input (the message names the file, line and field) or bad usage.
"""

from __future__ import annotations

import sys
from contextlib import ExitStack
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING

import click

from mdrisk import __version__, bundled
from mdrisk.assessment import Assessment
from mdrisk.atomic import write_bytes_atomic
from mdrisk.cli_common import (
    EXIT_FAILED,
    err_console,
    guarded,
    out_console,
    progress_bar,
)
from mdrisk.cli_extract import extract_command
from mdrisk.cli_kb import kb_group
from mdrisk.cli_landscape import landscape_group
from mdrisk.cli_llm import enrich
from mdrisk.cli_report import parse_formats, report, run_demo
from mdrisk.cli_risk import risk
from mdrisk.cli_scenarios import scenarios_command
from mdrisk.cli_simulate import simulate_group
from mdrisk.model import load_model
from mdrisk.model.diagram import GraphvizMissing, render_svg, to_dot

if TYPE_CHECKING:
    from mdrisk.pipeline import KnowledgeInputs


def example_path(name: str) -> Path:
    """A built-in reference device model, by name (``bgms``) or file name."""
    stem = name.removesuffix(".yaml")
    resource = resources.files("mdrisk") / "examples" / f"{stem}.yaml"
    with resources.as_file(resource) as path:
        if not path.is_file():
            raise click.BadParameter(f"no built-in example '{name}'; see 'mdrisk examples'")
        return path


def _render_package(
    assessment: Assessment, formats: tuple[str, ...], with_svg: bool
) -> tuple[dict[str, bytes], list[str]]:
    """Every file of the output folder, rendered in memory first so none is half-written."""
    from mdrisk.report.writers import writer_for

    files: dict[str, bytes] = {}
    notes: list[str] = []
    for name in formats:
        writer = writer_for(name)
        files.update(writer.render_files(assessment))
    highlight = frozenset(point.element for point in assessment.fdi_points)
    dot_text = to_dot(assessment.device_model(), highlight)
    files["control-structure.dot"] = dot_text.encode("utf-8")
    if with_svg:
        try:
            files["control-structure.svg"] = render_svg(dot_text)
        except GraphvizMissing as missing:
            notes.append(f"no SVG diagram: {missing}")
    return files, notes


def _write_package(out_dir: Path, files: dict[str, bytes]) -> None:
    for file_name, data in sorted(files.items()):
        write_bytes_atomic(out_dir / file_name, data)


def _summary(assessment: Assessment) -> str:
    warnings = sum(1 for check in assessment.checks if check.severity == "warning")
    return (
        f"{len(assessment.device.components)} components, {len(assessment.device.links)} "
        f"links, {len(assessment.control_actions)} control actions, {len(assessment.ucas)} "
        f"UCAs, {len(assessment.fdi_points)} FDI points, {len(assessment.loss_scenarios)} "
        f"loss scenarios, {len(assessment.checks)} checks ({warnings} warnings)"
    )


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="mdrisk")
def main() -> None:
    """Premarket cybersecurity risk assessment of AI/ML-enabled medical devices.

    Describe a device as a control structure (YAML), then validate, analyze (STPA-Sec) and
    draw it. Try 'mdrisk demo' for the whole chain on the built-in glucose device.
    """


@main.command()
@click.argument("model", type=click.Path(path_type=Path, dir_okay=False))
@click.option("--strict", is_flag=True, help="Exit with status 1 when a check finds a warning.")
@guarded
def validate(model: Path, strict: bool) -> None:
    """Check a device model file: schema, ids, kinds, and STPA completeness checks.

    Errors (exit status 2) name the file, line and field and say how to fix them; completeness
    findings are printed as warnings and notes.
    """
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


@main.command()
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
@click.option(
    "--store",
    "store_path",
    type=click.Path(path_type=Path, dir_okay=False),
    default=None,
    help="Knowledge-base file for --kb (implies --kb; default: "
    "$MDRISK_HOME/kb.sqlite or ~/.local/share/mdrisk/kb.sqlite). A missing file "
    "means pack rules only.",
)
@click.option(
    "--simulate",
    is_flag=True,
    help="Measure the patient harm of every loss scenario the glucose simulator can "
    "stand for (the 'impact' section; needs the sim extra; a few seconds).",
)
@guarded
def analyze(
    model: Path,
    out_dir: Path,
    formats: tuple[str, ...],
    no_svg: bool,
    use_kb: bool,
    store_path: Path | None,
    simulate: bool,
) -> None:
    """Run STPA-Sec on a device model and write the assessment to a folder.

    With --kb, also tie each component and link to weaknesses, attack techniques and known
    vulnerabilities (the 'threats' section); this works offline with no imported data.
    """
    _analyze_to(
        model,
        out_dir,
        formats,
        with_svg=not no_svg,
        use_kb=use_kb or store_path is not None,
        store_path=store_path,
        simulate=simulate,
    )


def _knowledge(stack: ExitStack, store_path: Path | None) -> tuple[KnowledgeInputs, list[str]]:
    """The pack, and the store's matcher, enricher and snapshots when the store exists."""
    from mdrisk.assessment import SnapshotRef
    from mdrisk.cli_kb import open_store
    from mdrisk.kb.enrich import enrich_vulnerability
    from mdrisk.kb.matching.matcher import Matcher
    from mdrisk.kb.paths import default_store_path
    from mdrisk.pipeline import KnowledgeInputs

    pack = bundled.technology_pack()
    path = store_path or default_store_path()
    if not path.is_file():
        return KnowledgeInputs(pack), [
            f"no knowledge base at {path}: technology-pack rules "
            "only (add data with 'mdrisk kb import')"
        ]
    store = stack.enter_context(open_store(path))
    notes: list[str] = []
    snapshots = tuple(
        SnapshotRef(source=f"{s.importer}/{s.file}", sha256=s.sha256, imported=s.imported)
        for s in store.snapshots()
    )
    if not snapshots:
        notes.append(f"the knowledge base at {path} is empty: technology-pack rules only")
    matcher = Matcher.from_store(store, bundled.vendor_aliases())

    def enricher(cve_id: str) -> dict:
        return enrich_vulnerability(store, cve_id).model_dump(mode="json")

    from mdrisk.kb.support import sbom_entries

    sbom = tuple(sbom_entries(store.records("sbom_component")))
    return KnowledgeInputs(pack, matcher, enricher, snapshots, sbom), notes


def _analyze_to(
    model: Path,
    out_dir: Path,
    formats: tuple[str, ...],
    with_svg: bool,
    use_kb: bool = False,
    store_path: Path | None = None,
    simulate: bool = False,
) -> None:
    from mdrisk.cli_simulate import impact_lines, require_sim_extra
    from mdrisk.pipeline import assess

    formats = tuple(dict.fromkeys(("json",) + parse_formats(formats)))
    kb_notes: list[str] = []
    with progress_bar() as progress, ExitStack() as kb_stack:
        task = progress.add_task("loading model", total=4)
        loaded = load_model(model)
        knowledge = None
        if use_kb:
            knowledge, kb_notes = _knowledge(kb_stack, store_path)
        progress.update(task, advance=1, description="analysing (STPA-Sec)")
        if simulate:
            require_sim_extra()
        assessment = assess(loaded, knowledge=knowledge, simulate=simulate)
        progress.update(task, advance=1, description="rendering reports")
        files, notes = _render_package(assessment, formats, with_svg)
        progress.update(task, advance=1, description="writing files")
        _write_package(out_dir, files)
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
    for line in impact_lines(assessment) if simulate else []:
        out_console.print(line, markup=False)
    for note in kb_notes + notes:
        err_console.print(f"note: {note}", markup=False)
    for file_name in sorted(files):
        out_console.print(f"wrote {out_dir / file_name}", markup=False)


@main.command()
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
    from mdrisk.stpa.fdi import derive_fdi_points
    from mdrisk.stpa.graph import ControlStructure

    if out_file.suffix not in (".dot", ".svg", ".gv"):
        raise click.BadParameter("the file name must end in .dot, .gv or .svg", param_hint="--out")
    loaded = load_model(model)
    points = derive_fdi_points(ControlStructure.of(loaded.model))
    dot_text = to_dot(loaded.model, frozenset(point.element for point in points))
    data = render_svg(dot_text) if out_file.suffix == ".svg" else dot_text.encode("utf-8")
    write_bytes_atomic(out_file, data)
    out_console.print(f"wrote {out_file}", markup=False)


@main.command()
def examples() -> None:
    """List the built-in reference device models."""
    folder = resources.files("mdrisk") / "examples"
    for entry in sorted(folder.iterdir(), key=lambda item: item.name):
        if entry.name.endswith(".yaml"):
            out_console.print(f"{entry.name.removesuffix('.yaml'):16} {entry}", markup=False)


@main.command()
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
@guarded
def demo(out_dir: Path, example: str) -> None:
    """Run the whole chain on a built-in reference device, offline, with embedded defaults.

    Uses the technology pack and the default knowledge base when one exists, and writes the
    evidence package in every format (PDF when WeasyPrint or Chromium is installed).
    """
    model = example_path(example)
    assessment = run_demo(model, out_dir)
    out_console.print(f"{model.name}: {_summary(assessment)}", markup=False)
    out_console.print(f"demo results in {out_dir.resolve()}", markup=False)


main.add_command(kb_group)
main.add_command(simulate_group)
main.add_command(report)
main.add_command(enrich)
main.add_command(risk)
main.add_command(scenarios_command)
main.add_command(landscape_group)
main.add_command(extract_command)

if __name__ == "__main__":
    main()
