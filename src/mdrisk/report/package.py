"""The evidence package: every report file of an assessment, rendered in memory.

Nothing here writes a file: the caller writes the package only once every file is rendered,
so a failure leaves no half-written folder.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from mdrisk.assessment import Assessment
from mdrisk.model.diagram import to_dot, to_svg, too_large_to_draw
from mdrisk.report.interface import PdfEngineMissing
from mdrisk.report.writers import WRITERS, writer_for

# The formats of a package when none are named (JSON and the diagram always come with it).
PACKAGE_FORMATS = ("html", "markdown", "pdf", "csv", "sarif", "vex")
ALIASES = {"md": "markdown", "htm": "html", "cyclonedx": "vex", "cdx": "vex"}
DIAGRAM_DOT = "control-structure.dot"
DIAGRAM_SVG = "control-structure.svg"


class UnknownFormat(ValueError):
    """A format name no writer has."""


def resolve_formats(values: Iterable[str]) -> tuple[str, ...]:
    """Format names from repeated and comma-separated values (``html,md pdf``), aliases
    resolved, "all" for every format, in the order given, each once."""
    names: list[str] = []
    for value in values:
        for part in value.replace(" ", ",").split(","):
            name = ALIASES.get(part.strip().casefold(), part.strip().casefold())
            if not name:
                continue
            names += list(WRITERS) if name == "all" else [name]
    unknown = [name for name in names if name not in WRITERS]
    if unknown:
        raise UnknownFormat(
            f"unknown format {', '.join(unknown)}; choose from "
            f"{', '.join(sorted(WRITERS))} (or md, all)"
        )
    return tuple(dict.fromkeys(names))


@dataclass
class Package:
    """File names (``csv/risks.csv`` for a file in a folder) and their bytes, and notes on
    what was left out and why."""

    files: dict[str, bytes] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)


def render_package(
    assessment: Assessment,
    formats: Iterable[str],
    *,
    svg: bool = True,
    pdf_optional: bool = False,
    on_format: Callable[[str], None] | None = None,
) -> Package:
    """The control-structure diagram (DOT, and SVG unless ``svg`` is False) and the files of each of ``formats``. ``pdf_optional``:
    without a PDF engine, leave the PDF out with a note instead of raising
    :class:`PdfEngineMissing`. ``on_format`` hears each format's name before it renders."""
    package = Package()
    highlight = frozenset(point.element for point in assessment.fdi_points)
    package.files[DIAGRAM_DOT] = to_dot(assessment.device, highlight).encode("utf-8")
    too_large = too_large_to_draw(assessment.device)
    if svg and too_large is not None:
        package.notes.append(too_large)
    elif svg:
        package.files[DIAGRAM_SVG] = to_svg(assessment.device, highlight)
    for name in dict.fromkeys(formats):
        if on_format is not None:
            on_format(name)
        try:
            package.files.update(writer_for(name).render_files(assessment))
        except PdfEngineMissing as missing:
            if not pdf_optional:
                raise
            package.notes.append(f"no PDF: {missing}")
    return package
