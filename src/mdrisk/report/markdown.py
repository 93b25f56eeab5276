"""The Markdown report: what a person reads first, every row carrying the ids it came from.

This module assembles the sections, each written by its own module; text from the device
model is untrusted and every section escapes it (``markdown_text``) so that a name holding
markup or table syntax shows as text wherever the Markdown is rendered.
"""

from __future__ import annotations

from mdrisk.assessment import Assessment
from mdrisk.report.interface import ReportWriter
from mdrisk.report.markdown_decisions import decisions_section
from mdrisk.report.markdown_package import package_sections
from mdrisk.report.markdown_risk import risk_scoring_section
from mdrisk.report.markdown_scenarios import scenarios_section
from mdrisk.report.markdown_stpa import (
    checks_section,
    model_sections,
    stpa_sections,
    summary_section,
)
from mdrisk.report.markdown_text import escape, table
from mdrisk.report.markdown_threats import threats_section


def render_markdown(assessment: Assessment) -> str:
    info = assessment.device.device
    out: list[str] = [f"# STPA-Sec assessment: {escape(info.name)}", ""]
    if info.manufacturer:
        out += [f"Manufacturer: {escape(info.manufacturer)}", ""]
    if info.intended_use:
        out += [f"Intended use: {escape(info.intended_use)}", ""]
    out += summary_section(assessment)
    out += model_sections(assessment)
    out += stpa_sections(assessment)
    out += threats_section(assessment)
    out += scenarios_section(assessment)
    out += package_sections(assessment)
    out += risk_scoring_section(assessment)
    out += checks_section(assessment)
    out += decisions_section(assessment)

    provenance = assessment.provenance
    out += ["", "## Provenance", ""]
    out += table(
        ["what", "value"],
        [
            ("tool", f"{provenance.tool} {provenance.tool_version}"),
            ("model file", provenance.model_file),
            ("model SHA-256", provenance.model_sha256),
            ("created", provenance.created),
        ]
        + [(f"knowledge base: {s.source}", s.sha256) for s in provenance.kb_snapshots],
    )
    return "\n".join(out) + "\n"


class MarkdownWriter(ReportWriter):
    name = "markdown"
    file_name = "report.md"

    def render(self, assessment: Assessment) -> bytes:
        return render_markdown(assessment).encode("utf-8")
