"""The registry of report formats, by name."""

from __future__ import annotations

from mdrisk.report.canonical_json import CanonicalJsonWriter
from mdrisk.report.csv_tables import CsvWriter
from mdrisk.report.html import HtmlWriter
from mdrisk.report.interface import ReportWriter
from mdrisk.report.markdown import MarkdownWriter
from mdrisk.report.pdf import PdfWriter
from mdrisk.report.sarif import SarifWriter
from mdrisk.report.vex import VexWriter

WRITERS: dict[str, type[ReportWriter]] = {
    writer.name: writer
    for writer in (
        CanonicalJsonWriter,
        MarkdownWriter,
        HtmlWriter,
        PdfWriter,
        CsvWriter,
        SarifWriter,
        VexWriter,
    )
}


def writer_for(name: str) -> ReportWriter:
    try:
        return WRITERS[name]()
    except KeyError:
        raise ValueError(
            f"unknown format '{name}'; choose from {', '.join(sorted(WRITERS))}"
        ) from None
