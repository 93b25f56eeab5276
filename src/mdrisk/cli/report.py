"""``mdrisk report``: the evidence package (HTML, Markdown, PDF, CSV, SARIF, VEX) from an
assessment or a device model.

Every file is rendered in memory first (``mdrisk.report.package``) and only then written
(each atomically), so a failure leaves no half-written package.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from mdrisk.cli.common import (
    apply_decisions,
    decisions_option,
    guarded,
    out_console,
    parse_formats,
    print_notes,
    progress_bar,
    read_decisions,
    require_sim_extra,
    risk_inputs_of,
    risk_options,
    store_option,
    write_files,
)

if TYPE_CHECKING:
    from mdrisk.assessment import Assessment


def _is_assessment(path: Path) -> bool:
    """An assessment.json (from 'mdrisk analyze'), rather than a device model."""
    if path.suffix.casefold() != ".json":
        return False
    try:
        with path.open("rb") as handle:
            data = json.load(handle)
    except (OSError, ValueError, RecursionError):
        return False  # the model loader (or the assessment reader) will say what is wrong
    return isinstance(data, dict) and "provenance" in data and "fdi_points" in data


def _assessment_of(
    source: Path, use_kb: bool, store_path: Path | None, simulate: bool, risk: Any = None
) -> tuple[Assessment, list[str]]:
    """The assessment in ``source`` (an assessment.json), or the analysis of the device model
    in it, with the knowledge base and the glucose simulator when asked. ``risk``: the
    analyst's answers and policy; an assessment read from a file is rated again under them."""
    if _is_assessment(source):
        from mdrisk.assessment_file import load_assessment

        assessment = load_assessment(source)
        if risk is not None:
            from mdrisk.pipeline import rate_risks

            assessment = rate_risks(assessment, risk)
        return assessment, []
    from mdrisk.pipeline import run

    return run(source, use_kb=use_kb, store_path=store_path, simulate=simulate, risk=risk)


def _print_written(out_dir: Path, files: Iterable[str]) -> None:
    """The files written, with each sub-folder (``csv/``) as one line and its file count."""
    names = list(files)
    folders = sorted({name.split("/", 1)[0] for name in names if "/" in name})
    for name in sorted(name for name in names if "/" not in name):
        out_console.print(f"wrote {out_dir / name}", markup=False)
    for folder in folders:
        count = sum(1 for name in names if name.startswith(folder + "/"))
        out_console.print(f"wrote {out_dir / folder}/ ({count} files)", markup=False)


@click.command("report")
@click.argument("source", type=click.Path(path_type=Path, dir_okay=False))
@click.option(
    "--out",
    "out_dir",
    type=click.Path(path_type=Path, file_okay=False),
    required=True,
    help="Folder for the evidence package.",
)
@click.option(
    "--format",
    "formats",
    multiple=True,
    help="Formats, comma-separated or repeated: html, md (markdown), pdf, csv, sarif, "
    "vex, json, or all. [default: html,md,pdf,csv,sarif,vex, PDF only when an "
    "engine is installed]",
)
@click.option(
    "--kb",
    "use_kb",
    is_flag=True,
    help="For a device model: attach threats and known vulnerabilities from the "
    "technology pack and the knowledge base.",
)
@store_option
@click.option(
    "--simulate",
    is_flag=True,
    help="For a device model: measure the patient harm of the loss scenarios the "
    "glucose simulator can stand for (needs the sim extra).",
)
@risk_options
@decisions_option
@guarded
def report(
    source: Path,
    out_dir: Path,
    formats: tuple[str, ...],
    use_kb: bool,
    store_path: Path | None,
    simulate: bool,
    answers_file: Path | None,
    policy_file: Path | None,
    decisions_file: Path | None,
) -> None:
    """Write the premarket evidence package for SOURCE: an assessment.json written by 'mdrisk
    analyze', or a device model (analysed first).

    HTML (self-contained, no script), Markdown, PDF (WeasyPrint or Chromium), CSV (one file
    per table), SARIF 2.1.0 (findings at their line in the device model) and a CycloneDX
    VEX of the matched vulnerabilities, with the canonical assessment.json and the diagram.
    """
    from mdrisk.report.package import PACKAGE_FORMATS, render_package

    chosen = parse_formats(formats) if formats else PACKAGE_FORMATS
    if simulate:
        require_sim_extra()
    decisions = read_decisions(decisions_file)
    steps = ("json", *(name for name in chosen if name != "json"))
    with progress_bar() as progress:
        task = progress.add_task(
            "analysing and simulating" if simulate else "reading the input", total=len(steps) + 2
        )
        assessment, notes = _assessment_of(
            source, use_kb, store_path, simulate, risk_inputs_of(answers_file, policy_file)
        )
        # An assessment read back keeps the decisions it was written with unless given anew.
        assessment = apply_decisions(assessment, decisions)

        def rendering(name: str) -> None:
            progress.update(task, advance=1, description=f"rendering {name}")

        package = render_package(assessment, steps, pdf_optional=not formats, on_format=rendering)
        progress.update(task, advance=1, description="writing files")
        write_files(out_dir, package.files)
        progress.update(task, advance=1)
    print_notes(notes + package.notes)
    _print_written(out_dir, package.files)
