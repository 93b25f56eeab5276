"""The device and STPA-Sec sections of the Markdown report: summary, losses and hazards,
control structure, control actions, unsafe control actions, false-data injection points, loss
scenarios and checks."""

from __future__ import annotations

from collections import Counter

from mdrisk.assessment import Assessment
from mdrisk.model.schema import Link, UCAType
from mdrisk.report.controls import protections_of
from mdrisk.report.markdown_text import table

_UCA_TITLES = {
    UCAType.not_provided: "Not provided",
    UCAType.provided_unsafe: "Provided, causing hazard",
    UCAType.wrong_timing: "Wrong timing or order",
    UCAType.wrong_duration: "Stopped too soon / applied too long",
}


def _channel(link: Link) -> str:
    technology = link.channel.technology
    if technology is None:
        return ""
    return technology.name + (f" {technology.version}" if technology.version else "")


def _protections(link: Link) -> str:
    return ", ".join(name.replace("_", " ") for name in protections_of(link)) or "none"


def summary_section(assessment: Assessment) -> list[str]:
    """How much the model and the analysis hold, counted."""
    out: list[str] = ["## Summary", ""]
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
    return out


def model_sections(assessment: Assessment) -> list[str]:
    """Losses, hazards and the control structure as the model states them."""
    out: list[str] = ["## Losses and hazards", ""]
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
    return out


def stpa_sections(assessment: Assessment) -> list[str]:
    """Control actions, unsafe control actions, FDI points and loss scenarios."""
    out: list[str] = ["## Control actions", ""]
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
    action_names = {ca.id: ca.name for ca in assessment.control_actions}
    out += table(
        ["id", "control action", "type", "unsafe control action", "hazards"],
        [
            (
                u.id,
                f"{action_names.get(u.control_action, '')} ({u.control_action})",
                _UCA_TITLES[u.type],
                u.text,
                ", ".join(u.hazards) or "—",
            )
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
    out += [
        "One class per entry point, falsified signal, manipulation and UCA, kept only where "
        "the manipulation pushes the controller the way the UCA needs. Families: feedback "
        "(false data into a belief), controller (tampered settings or software), ml_model "
        "(the model's own error, a substituted or poisoned model), control_path (an action "
        "or an ML output tampered on its way).",
        "",
    ]
    out += table(
        ["id", "family", "entry (members)", "signal", "manipulation", "effect", "UCA", "hazards"],
        [
            (
                s.id,
                s.family,
                s.element + (f" (+{len(s.members) - 1})" if len(s.members) > 1 else ""),
                s.signal,
                s.manipulation,
                (f"{s.effect.output} {s.effect.direction}" if s.effect else "")
                + (f"; {s.belief}" if s.belief else ""),
                f"{action_names.get(s.control_action, '')} {s.uca_type.value} ({s.uca})",
                ", ".join(s.hazards),
            )
            for s in assessment.loss_scenarios
        ],
    )
    return out


def checks_section(assessment: Assessment) -> list[str]:
    """What the model checks found, with what to do."""
    out: list[str] = ["", "## Checks", ""]
    out += table(
        ["id", "severity", "rule", "finding", "what to do"],
        [(c.id, c.severity, c.rule, c.message, c.fix) for c in assessment.checks],
    )
    return out
