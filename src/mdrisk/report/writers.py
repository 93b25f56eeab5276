"""The registry of report formats, by name. A writer's module is imported only when its format
is asked for, so a command that writes JSON and Markdown does not load Jinja2 or a PDF engine."""

from __future__ import annotations

from importlib import import_module

from mdrisk.report.interface import ReportWriter

# Format name -> (module, class) of its writer, in the order a package lists them.
WRITERS: dict[str, tuple[str, str]] = {
    "json": ("mdrisk.report.canonical_json", "CanonicalJsonWriter"),
    "markdown": ("mdrisk.report.markdown", "MarkdownWriter"),
    "html": ("mdrisk.report.html", "HtmlWriter"),
    "pdf": ("mdrisk.report.pdf", "PdfWriter"),
    "csv": ("mdrisk.report.csv_tables", "CsvWriter"),
    "sarif": ("mdrisk.report.sarif", "SarifWriter"),
    "vex": ("mdrisk.report.vex", "VexWriter"),
}


def writer_class(name: str) -> type[ReportWriter]:
    try:
        module, attribute = WRITERS[name]
    except KeyError:
        raise ValueError(
            f"unknown format '{name}'; choose from {', '.join(sorted(WRITERS))}"
        ) from None
    writer: type[ReportWriter] = getattr(import_module(module), attribute)
    return writer


def writer_for(name: str) -> ReportWriter:
    return writer_class(name)()
