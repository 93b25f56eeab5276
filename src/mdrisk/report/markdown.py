"""The Markdown report: what a person reads first, every row carrying the ids it came from.

Text from the device model is untrusted: it is escaped so that a name holding markup or
table syntax shows as text wherever the Markdown is rendered.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Sequence

from mdrisk.assessment import Assessment
from mdrisk.assessment.threats import KnownVulnerability, PackFinding
from mdrisk.model.schema import Link, UCAType
from mdrisk.report.interface import ReportWriter

_SPECIAL = re.compile(r"([\\`*\[\]<>|])")
_UCA_TITLES = {
    UCAType.not_provided: "Not provided",
    UCAType.provided_unsafe: "Provided, causing hazard",
    UCAType.wrong_timing: "Wrong timing or order",
    UCAType.wrong_duration: "Stopped too soon / applied too long",
}


def escape(text: object) -> str:
    """Markdown-safe inline text: markup characters escaped, '&' kept literal, one line."""
    value = str(text).replace("&", "&amp;")
    value = " ".join(value.split())
    return _SPECIAL.sub(r"\\\1", value)


def table(headers: Sequence[str], rows: Iterable[Sequence[object]]) -> list[str]:
    lines = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    body = ["| " + " | ".join(escape(cell) for cell in row) + " |" for row in rows]
    return lines + (body or ["| " + " | ".join(["—"] + [""] * (len(headers) - 1)) + " |"])


def _channel(link: Link) -> str:
    technology = link.channel.technology
    if technology is None:
        return ""
    return technology.name + (f" {technology.version}" if technology.version else "")


def _protections(link: Link) -> str:
    shield = link.channel.protections
    names = ("authentication", "encryption", "integrity", "replay_protection")
    present = [name.replace("_", " ") for name in names if getattr(shield, name)]
    return ", ".join(present) or "none"


def _kev_epss(vulnerability: KnownVulnerability) -> str:
    marks = []
    if vulnerability.kev:
        marks.append("KEV")
    if vulnerability.epss is not None:
        marks.append(f"EPSS {vulnerability.epss:.3f}")
    scores = [f"CVSS {s.base_score:g}" for s in vulnerability.cvss if s.base_score is not None]
    return ", ".join(marks + scores[:1]) or "—"


def _some(ids: list[str], limit: int = 10) -> str:
    """At most ``limit`` ids; a CWE chain through the store can reach dozens of CAPECs."""
    shown = ", ".join(ids[:limit])
    return shown + (f" … (+{len(ids) - limit})" if len(ids) > limit else "")


def _threats_section(assessment: Assessment) -> list[str]:
    """Pack rules and known vulnerabilities per element; absent unless analysed with --kb."""
    if not assessment.threats:
        return []
    out = [
        "",
        "## Threats and known vulnerabilities",
        "",
        "What the technology pack and the knowledge base tie to each component and link: "
        "pack rules with their CWE, CAPEC, ATT&CK (ICS, Enterprise) and ATLAS ids, and "
        "published vulnerabilities matched to the technology.",
        "",
    ]
    out += table(
        [
            "id",
            "element",
            "technology",
            "FDI points",
            "pack rules",
            "CWE",
            "CAPEC",
            "ATT&CK",
            "ATLAS",
            "known vulnerabilities",
        ],
        [
            (
                t.id,
                f"{t.element} ({t.element_type})",
                t.technology or "(element)",
                ", ".join(t.fdi_points) or "—",
                ", ".join(f.rule for f in t.pack_rules) or "—",
                _some(t.references.cwe),
                _some(t.references.capec),
                _some(t.references.attack_ics + t.references.attack_enterprise),
                _some(t.references.atlas),
                ", ".join(v.id for v in t.vulnerabilities) or "—",
            )
            for t in assessment.threats
        ],
    )
    rules: dict[str, PackFinding] = {}
    for threat in assessment.threats:
        for finding in threat.pack_rules:
            rules.setdefault(finding.rule, finding)
    if rules:
        out += ["", "### Technology pack rules applied", ""]
        out += table(
            ["rule", "title", "why"],
            [(f.rule, f.title, f.rationale) for _, f in sorted(rules.items())],
        )
    known = [(t, v) for t in assessment.threats for v in t.vulnerabilities]
    if known:
        out += ["", "### Known vulnerabilities", ""]
        out += table(
            [
                "id",
                "threat",
                "element",
                "technology",
                "confidence",
                "exploitation",
                "CWE",
                "why it matches",
            ],
            [
                (
                    v.id,
                    t.id,
                    t.element,
                    t.technology or "",
                    f"{v.confidence:.2f}",
                    _kev_epss(v),
                    ", ".join(v.references.cwe),
                    v.reason,
                )
                for t, v in known
            ],
        )
    return out


def _package_sections(assessment: Assessment) -> list[str]:
    """Risks, SBOM, unresolved anomalies, architecture views, traceability (FDA guidance)."""
    from mdrisk.report.markdown_package import package_sections  # it builds on this module

    return package_sections(assessment)


def _risk_scoring(assessment: Assessment) -> list[str]:
    """How each risk score was reached (CVSS rubric answers, exploitability, residual)."""
    from mdrisk.report.markdown_risk import risk_scoring_section  # it builds on this module

    return risk_scoring_section(assessment)


def _scenarios_section(assessment: Assessment) -> list[str]:
    """Attack scenarios SC-n, ranked, the first few step by step."""
    from mdrisk.report.markdown_scenarios import scenarios_section  # it builds on this module

    return scenarios_section(assessment)


def render_markdown(assessment: Assessment) -> str:
    info = assessment.device.device
    out: list[str] = [f"# STPA-Sec assessment: {escape(info.name)}", ""]
    if info.manufacturer:
        out += [f"Manufacturer: {escape(info.manufacturer)}", ""]
    if info.intended_use:
        out += [f"Intended use: {escape(info.intended_use)}", ""]
    out += ["## Summary", ""]
    warnings = sum(1 for check in assessment.checks if check.severity == "warning")
    out += table(
        ["what", "count"],
        [
            ("components", len(assessment.device.components)),
            ("links", len(assessment.device.links)),
            ("losses", len(assessment.device.losses)),
            ("hazards", len(assessment.device.hazards)),
            ("control actions", len(assessment.control_actions)),
            ("unsafe control actions", len(assessment.ucas)),
            ("false-data injection points", len(assessment.fdi_points)),
            ("loss scenarios", len(assessment.loss_scenarios)),
            ("check findings (warnings)", f"{len(assessment.checks)} ({warnings})"),
        ]
        + (
            [
                (
                    "threats (pack findings, known vulnerabilities)",
                    f"{len(assessment.threats)} ({sum(len(t.pack_rules) for t in assessment.threats)}"
                    f", {len({v.id for t in assessment.threats for v in t.vulnerabilities})})",
                )
            ]
            if assessment.threats
            else []
        ),
    )
    out += [""]

    out += ["## Losses and hazards", ""]
    out += table(
        ["id", "loss", "severity"],
        [(loss.id, loss.description, loss.severity or "") for loss in assessment.device.losses],
    )
    out += [""]
    out += table(
        ["id", "hazard", "losses"],
        [(h.id, h.description, ", ".join(h.losses)) for h in assessment.device.hazards],
    )
    out += [""]

    out += ["## Control structure", "", "### Components", ""]
    out += table(
        ["id", "name", "kind", "technologies"],
        [
            (
                c.id,
                c.name,
                c.kind.value,
                "; ".join(" ".join(filter(None, (t.name, t.version))) for t in c.technologies),
            )
            for c in assessment.device.components
        ],
    )
    out += ["", "### Links", ""]
    out += table(
        ["id", "from → to", "kind", "carries", "channel", "protections"],
        [
            (
                link.id,
                f"{link.source} → {link.target}",
                link.kind.value,
                ", ".join(s.name for s in link.carries),
                _channel(link),
                _protections(link),
            )
            for link in assessment.device.links
        ],
    )
    out += [""]

    out += ["## Control actions", ""]
    out += table(
        ["id", "controller → controlled", "action", "hazards", "feedback path"],
        [
            (
                ca.id,
                f"{ca.controller} → {ca.controlled}",
                ca.name,
                ", ".join(ca.hazards),
                " → ".join(ca.feedback_links) or "none",
            )
            for ca in assessment.control_actions
        ],
    )
    out += ["", "## Unsafe control actions", ""]
    counts = Counter(uca.type for uca in assessment.ucas)
    out += table(["type", "count"], [(_UCA_TITLES[t], counts[t]) for t in UCAType])
    out += [""]
    out += table(
        ["id", "control action", "type", "unsafe control action", "hazards"],
        [
            (u.id, u.control_action, _UCA_TITLES[u.type], u.text, ", ".join(u.hazards) or "—")
            for u in assessment.ucas
        ],
    )

    out += ["", "## False-data injection points", ""]
    out += [
        "Every component and link upstream of an ML engine input, with the shortest path "
        "by which false data reaches the engine.",
        "",
    ]
    out += table(
        ["id", "element", "ML engine", "input", "path", "channel protections"],
        [
            (
                p.id,
                f"{p.element} ({p.element_type})",
                p.ml_engine,
                p.ml_input if p.target == "inference_input" else "model (update)",
                " → ".join(step.element for step in p.path),
                ", ".join(p.protections) if p.element_type == "link" else "",
            )
            for p in assessment.fdi_points
        ],
    )

    out += ["", "## Loss scenarios", ""]
    out += ["FDI point → ML input → ML misbehaviour → unsafe control action → hazard → loss.", ""]
    out += table(
        ["id", "FDI point", "ML input", "ML misbehaviour", "UCA", "hazards", "losses"],
        [
            (
                s.id,
                s.fdi_point,
                s.ml_input,
                s.ml_misbehaviour,
                s.uca,
                ", ".join(s.hazards),
                ", ".join(s.losses),
            )
            for s in assessment.loss_scenarios
        ],
    )

    out += _threats_section(assessment)
    out += _scenarios_section(assessment)
    out += _package_sections(assessment)
    out += _risk_scoring(assessment)

    out += ["", "## Checks", ""]
    out += table(
        ["id", "severity", "rule", "finding", "what to do"],
        [(c.id, c.severity, c.rule, c.message, c.fix) for c in assessment.checks],
    )

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
