"""``mdrisk report``: the evidence package (HTML, Markdown, PDF, CSV, SARIF, VEX) from an
assessment or a device model; and the package that ``mdrisk demo`` writes.

Every file is rendered in memory first and only then written (each atomically), so a failure
leaves no half-written package.
"""

from __future__ import annotations

import importlib.util
import json
from collections.abc import Iterable
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path

import click

from mdrisk.assessment import Assessment
from mdrisk.atomic import write_bytes_atomic
from mdrisk.cli_common import err_console, guarded, out_console, progress_bar

ALIASES = {"md": "markdown", "htm": "html", "cyclonedx": "vex", "cdx": "vex"}
PACKAGE_FORMATS = ("html", "markdown", "pdf", "csv", "sarif", "vex")


def parse_formats(values: Iterable[str]) -> tuple[str, ...]:
    """Format names from repeated and comma-separated options (``html,md pdf``), aliases
    resolved, "all" for every format, in the order given, each once."""
    from mdrisk.report.writers import WRITERS

    names: list[str] = []
    for value in values:
        for part in value.replace(" ", ",").split(","):
            name = ALIASES.get(part.strip().casefold(), part.strip().casefold())
            if not name:
                continue
            names += list(WRITERS) if name == "all" else [name]
    unknown = [name for name in names if name not in WRITERS]
    if unknown:
        raise click.BadParameter(
            f"unknown format {', '.join(unknown)}; choose from "
            f"{', '.join(sorted(WRITERS))} (or md, all)",
            param_hint="--format",
        )
    return tuple(dict.fromkeys(names))


@dataclass
class Package:
    files: dict[str, bytes] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)


def render_package(
    assessment: Assessment,
    formats: tuple[str, ...],
    with_diagram: bool = True,
    pdf_optional: bool = False,
) -> Package:
    """The files of ``formats`` in memory, and the control-structure diagram (DOT and SVG).
    ``pdf_optional``: without a PDF engine, leave the PDF out with a note instead of failing."""
    from mdrisk.model.diagram import to_dot, to_svg
    from mdrisk.report.pdf import PdfEngineMissing
    from mdrisk.report.writers import writer_for

    package = Package()
    for name in dict.fromkeys(formats):
        writer = writer_for(name)
        try:
            package.files.update(writer.render_files(assessment))
        except PdfEngineMissing as missing:
            if not pdf_optional:
                raise
            package.notes.append(f"no PDF: {missing}")
    if with_diagram:
        highlight = frozenset(point.element for point in assessment.fdi_points)
        dot_text = to_dot(assessment.device_model(), highlight)
        package.files["control-structure.dot"] = dot_text.encode("utf-8")
        package.files["control-structure.svg"] = to_svg(assessment.device_model(), highlight)
    return package


def write_package(out_dir: Path, package: Package) -> None:
    for file_name, data in sorted(package.files.items()):
        write_bytes_atomic(out_dir / file_name, data)


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


def build_assessment(
    source: Path, stack: ExitStack, use_kb: bool, store_path: Path | None, simulate: bool = False
) -> tuple[Assessment, list[str]]:
    """The assessment in ``source`` (an assessment.json), or the analysis of the device model
    in it, with the knowledge base and the glucose simulator when asked."""
    if _is_assessment(source):
        from mdrisk.assessment_file import load_assessment

        return load_assessment(source), []
    from mdrisk.cli import _knowledge
    from mdrisk.model import load_model
    from mdrisk.pipeline import assess

    loaded = load_model(source)
    knowledge, notes = (None, [])
    if use_kb:
        knowledge, notes = _knowledge(stack, store_path)
    return assess(loaded, knowledge=knowledge, simulate=simulate), notes


def produce(
    source: Path,
    out_dir: Path,
    formats: tuple[str, ...],
    use_kb: bool,
    store_path: Path | None,
    pdf_optional: bool,
    simulate: bool = False,
) -> tuple[Assessment, Package]:
    """Analyse (or read) ``source``, render the package and write it, with a progress bar."""
    steps = ("json", *(name for name in formats if name != "json"))
    with progress_bar() as progress, ExitStack() as stack:
        task = progress.add_task("reading the input", total=len(steps) + 2)
        if simulate:
            progress.update(task, description="analysing and simulating")
        assessment, notes = build_assessment(source, stack, use_kb, store_path, simulate)
        progress.update(task, advance=1)
        package = Package(notes=list(notes))
        for name in steps:
            progress.update(task, description=f"rendering {name}")
            part = render_package(
                assessment, (name,), with_diagram=name == "json", pdf_optional=pdf_optional
            )
            package.files.update(part.files)
            package.notes += part.notes
            progress.update(task, advance=1)
        progress.update(task, description="writing files")
        write_package(out_dir, package)
        progress.update(task, advance=1)
    return assessment, package


def print_written(out_dir: Path, package: Package) -> None:
    for note in package.notes:
        err_console.print(f"note: {note}", markup=False)
    folders = sorted({name.split("/", 1)[0] for name in package.files if "/" in name})
    files = sorted(name for name in package.files if "/" not in name)
    for name in files:
        out_console.print(f"wrote {out_dir / name}", markup=False)
    for name in folders:
        count = sum(1 for file in package.files if file.startswith(name + "/"))
        out_console.print(f"wrote {out_dir / name}/ ({count} files)", markup=False)


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
@click.option(
    "--store",
    "store_path",
    type=click.Path(path_type=Path, dir_okay=False),
    default=None,
    help="Knowledge-base file for --kb (implies --kb).",
)
@click.option(
    "--simulate",
    is_flag=True,
    help="For a device model: measure the patient harm of the loss scenarios the "
    "glucose simulator can stand for (needs the sim extra).",
)
@guarded
def report(
    source: Path,
    out_dir: Path,
    formats: tuple[str, ...],
    use_kb: bool,
    store_path: Path | None,
    simulate: bool,
) -> None:
    """Write the premarket evidence package for SOURCE: an assessment.json written by 'mdrisk
    analyze', or a device model (analysed first).

    HTML (self-contained, no script), Markdown, PDF (WeasyPrint or Chromium), CSV (one file
    per table), SARIF 2.1.0 (findings at their line in the device model) and a CycloneDX
    VEX of the matched vulnerabilities, with the canonical assessment.json and the diagram.
    """
    chosen = parse_formats(formats) if formats else PACKAGE_FORMATS
    if simulate:
        from mdrisk.cli_simulate import require_sim_extra

        require_sim_extra()
    _, package = produce(
        source,
        out_dir,
        chosen,
        use_kb or store_path is not None,
        store_path,
        pdf_optional=not formats,
        simulate=simulate,
    )
    print_written(out_dir, package)


def run_demo(model: Path, out_dir: Path) -> Assessment:
    """The whole chain on a built-in device, offline: the technology pack and the default
    knowledge base when one exists, the glucose simulator when the sim extra is installed,
    every format (PDF when an engine is installed)."""
    simulate = all(
        importlib.util.find_spec(name) is not None for name in ("numpy", "simglucose", "sklearn")
    )
    assessment, package = produce(
        model,
        out_dir,
        PACKAGE_FORMATS,
        use_kb=True,
        store_path=None,
        pdf_optional=True,
        simulate=simulate,
    )
    if not simulate:
        package.notes.append(
            "no simulation of patient harm: the glucose simulator needs the "
            "sim extra (pip install 'mdrisk[sim]')"
        )
    print_written(out_dir, package)
    return assessment
