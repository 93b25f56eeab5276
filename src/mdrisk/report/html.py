"""The HTML evidence report: one self-contained file (inline CSS and SVG, no script, no
external resource), its sections following the FDA premarket cybersecurity guidance.

Every value from the device model, the knowledge base or a later stage reaches the page
through Jinja2's autoescaping; the only markup inserted as-is is SVG this package drew (the
heat map, the plots) or sanitised (the control-structure diagram). A Content-Security-Policy allows no
script at all and no style but the page's own style sheet (by its hash).
"""

from __future__ import annotations

import base64
import hashlib
import re
from collections import Counter
from collections.abc import Callable
from functools import lru_cache
from importlib import resources
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined
from markupsafe import Markup, escape

from mdrisk.assessment import Assessment
from mdrisk.assessment.risk import RiskItem
from mdrisk.decisions import decided_findings
from mdrisk.model.schema import UCAType
from mdrisk.report.architecture import architecture_views
from mdrisk.report.controls import CONTROL_CATEGORY, PROTECTIONS, protections_of
from mdrisk.report.coverage_view import coverage_view, no_match_lines
from mdrisk.report.diagram_svg import control_structure_svg
from mdrisk.report.heatmap import colour_of
from mdrisk.report.interface import ReportWriter
from mdrisk.report.risk_view import heatmap, risk_details
from mdrisk.report.tables import report_tables
from mdrisk.report.verification import impact_plots, tests_for
from mdrisk.report.vulnerability_status import VulnerabilityStatus, vulnerability_statuses

FDA_GUIDANCE = (
    "FDA, \u201cCybersecurity in Medical Devices: Quality System Considerations and "
    "Content of Premarket Submissions\u201d (2023, updated 2025)"
)
_ID = re.compile(r"\b(?:CVE-\d{4}-\d{4,}|[A-Z]{1,4}-\d+)\b")
UCA_TITLES = {
    UCAType.not_provided: "not provided",
    UCAType.provided_unsafe: "provided, causing hazard",
    UCAType.wrong_timing: "wrong timing or order",
    UCAType.wrong_duration: "stopped too soon / applied too long",
}


@lru_cache(maxsize=1)
def _environment() -> Environment:
    environment = Environment(
        loader=PackageLoader("mdrisk", "templates"),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    return environment


@lru_cache(maxsize=1)
def stylesheet() -> str:
    return (resources.files("mdrisk") / "templates" / "report.css").read_text(encoding="utf-8")


def content_security_policy(css: str) -> str:
    digest = base64.b64encode(hashlib.sha256(css.encode("utf-8")).digest()).decode("ascii")
    return (
        f"default-src 'none'; style-src 'sha256-{digest}'; img-src data:; "
        "base-uri 'none'; form-action 'none'"
    )


def _linker(anchored: set[str]) -> Callable[[Any], Markup]:
    """A filter: escaped text with every id that has a row on the page made a link to it."""

    def link_ids(value: Any) -> Markup:
        text = str(value)
        out: list[str] = []
        last = 0
        for match in _ID.finditer(text):
            if match.group() not in anchored:
                continue
            out.append(str(escape(text[last : match.start()])))
            identifier = match.group()
            out.append(f'<a href="#{identifier}">{identifier}</a>')
            last = match.end()
        out.append(str(escape(text[last:])))
        return Markup("".join(out))

    return link_ids


def _summary(assessment: Assessment, statuses: list[VulnerabilityStatus]) -> list[tuple]:
    warnings = sum(1 for check in assessment.checks if check.severity == "warning")
    unresolved = len({s.vulnerability.id for s in statuses if s.unresolved})
    cards = [
        ("components", len(assessment.device.components), f"{len(assessment.device.links)} links"),
        ("FDI points", len(assessment.fdi_points), "where false data can reach an ML engine"),
        (
            "loss scenarios",
            len(assessment.loss_scenarios),
            f"{len(assessment.ucas)} unsafe control actions",
        ),
        (
            "threats",
            len(assessment.threats),
            f"{sum(len(t.pack_rules) for t in assessment.threats)} technology-pack findings",
        ),
        (
            "known vulnerabilities",
            len({s.vulnerability.id for s in statuses}),
            f"{unresolved} unresolved",
        ),
    ]
    if assessment.risks:
        levels = Counter(r.level for r in assessment.risks)
        shown = ", ".join(f"{count} {level}" for level, count in sorted(levels.items()))
        cards.append(("risks", len(assessment.risks), shown))
    cards.append(("checks", len(assessment.checks), f"{warnings} warnings"))
    return cards


def _protection_matrix(assessment: Assessment) -> list[dict[str, Any]]:
    rows = []
    for link in assessment.device.links:
        technology = link.channel.technology
        if technology is None or link.channel.in_process:
            continue
        present = protections_of(link)
        rows.append(
            {
                "link": link,
                "technology": technology.name
                + (f" {technology.version}" if technology.version else ""),
                "marks": [(name in present) for name in PROTECTIONS],
                "notes": link.channel.protections.notes,
            }
        )
    return rows


def _common_residual_rule(risks: list[RiskItem]) -> str | None:
    """The residual-risk rule, when every risk was lowered under the same one (said once)."""
    rules = {r.residual.rule for r in risks}
    return rules.pop() if len(rules) == 1 and "" not in rules else None


def html_context(assessment: Assessment, for_print: bool = False) -> dict[str, Any]:
    """Everything the template shows, computed once."""
    statuses = vulnerability_statuses(assessment)
    verified = tests_for(assessment)
    tables = report_tables(assessment, verified)
    diagram, diagram_note = control_structure_svg(assessment)
    anchored = (
        {c.id for c in assessment.checks}
        | {f.id for f in assessment.fdi_points}
        | {s.id for s in assessment.loss_scenarios}
        | {t.id for t in assessment.threats}
        | {u.id for u in assessment.ucas}
        | {c.id for c in assessment.control_actions}
        | {h.id for h in assessment.device.hazards}
        | {loss.id for loss in assessment.device.losses}
        | {s.vulnerability.id for s in statuses}
        | {r.id for r in assessment.risks}
        | {s.id for s in assessment.scenarios}
        | {f.id for f in assessment.impact}
    )
    if for_print:  # the print variant leaves the loss-scenario list to the HTML and CSV
        anchored -= {s.id for s in assessment.loss_scenarios}
    css = stylesheet()
    coverage = coverage_view(assessment)
    return {
        "a": assessment,
        "info": assessment.device.device,
        "css": Markup(css),
        "csp": content_security_policy(css),
        "guidance": FDA_GUIDANCE,
        "cards": _summary(assessment, statuses),
        "tables": tables,
        "diagram": Markup(diagram) if diagram else None,
        "diagram_note": diagram_note,
        "heatmap": heatmap(assessment),
        "policy": assessment.risk_policy,
        "risk_details": risk_details(assessment),
        "residual_rule": _common_residual_rule(assessment.risks),
        "plots": [
            (title, Markup(svg), caption) for title, svg, caption in impact_plots(assessment)
        ],
        "statuses": statuses,
        "coverage": coverage,
        "no_match": no_match_lines(coverage, bool(assessment.provenance.kb_snapshots)),
        "unresolved": [s for s in statuses if s.unresolved],
        "resolved": [s for s in statuses if not s.unresolved],
        "views": architecture_views(assessment),
        "protection_matrix": _protection_matrix(assessment),
        "protection_names": [CONTROL_CATEGORY[name] for name in PROTECTIONS],
        "uca_titles": UCA_TITLES,
        "has_scenarios": bool(assessment.scenarios),
        "decided": decided_findings(assessment),
        "anchored": anchored,
    }


def render_html(assessment: Assessment, for_print: bool = False) -> str:
    """The report page. ``for_print``: the variant a PDF is made from, with every disclosure
    open and the long loss-scenario list left to the HTML and CSV files."""
    context = html_context(assessment, for_print)
    environment = _environment()
    template = environment.get_template("report.html.j2")
    return template.render(
        **context, ids=_linker(context["anchored"]), level_colour=colour_of, print=for_print
    )


class HtmlWriter(ReportWriter):
    name = "html"
    file_name = "report.html"

    def render(self, assessment: Assessment) -> bytes:
        return render_html(assessment).encode("utf-8")
