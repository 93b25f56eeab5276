"""The Markdown section on how each risk score was reached.

The risk register itself is a table of the evidence-package sections; this section holds
the reasoning behind it: the medical-device CVSS rubric's questions and answers for every
metric (grouped where risks share one rationale), the exploitability and residual steps,
the known vulnerabilities re-scored in the device's context, and the questions left for the
analyst. Every cell is escaped by ``markdown_text.table``.
"""

from __future__ import annotations

from mdrisk.assessment import Assessment
from mdrisk.assessment.risk import CvssResult, RiskItem
from mdrisk.report.markdown_text import escape, table


def _rubric_pair(risk: RiskItem) -> tuple[CvssResult | None, CvssResult | None]:
    v3 = next((c for c in risk.cvss if c.origin == "rubric" and c.version.startswith("3")), None)
    v4 = next((c for c in risk.cvss if c.origin == "rubric" and c.version == "4.0"), None)
    return v3, v4


def _rationale_key(risk: RiskItem) -> tuple:
    """Risks whose rubric walk took the same answers from the same sources share one table
    (their reasons differ only in the hazard they name)."""
    v3, v4 = _rubric_pair(risk)
    steps = tuple(
        (d.metric, d.value, s.question, s.answer, s.source)
        for d in (v3.metrics if v3 else [])
        for s in d.steps
    )
    return (risk.element, v3.vector if v3 else "", v4.vector if v4 else "", steps)


def _cvss_groups(risks: list[RiskItem]) -> list[str]:
    groups: dict[tuple, list[RiskItem]] = {}
    for risk in risks:
        groups.setdefault(_rationale_key(risk), []).append(risk)
    out = [
        "",
        "### CVSS vectors from the medical-device rubric",
        "",
        "Each metric is set by the rubric's questions, answered by the device model, the "
        "analyst's answers file, or else the worst case (then listed as open). The CVSS "
        "4.0 vector is read from the same answers; its safety values (MSI:S, MSA:S) mark "
        "an exploit that can harm the patient.",
        "",
    ]
    for members in groups.values():
        v3, v4 = _rubric_pair(members[0])
        if v3 is None:
            continue
        ids = ", ".join(r.id for r in members)
        quoted = f", reasons as given for {members[0].id}" if len(members) > 1 else ""
        out += [
            f"**{escape(ids)}** (entry {escape(members[0].element)}{quoted}): "
            f"`{escape(v3.vector)}` "
            f"{v3.base_score:.1f} {escape(v3.base_severity)}"
            + (f"; `{escape(v4.vector)}` {v4.score:.1f} {escape(v4.score_kind)}" if v4 else ""),
            "",
        ]
        rows = []
        for decision in v3.metrics:
            for step in decision.steps:
                rows.append(
                    (
                        f"{decision.metric}:{decision.value}",
                        step.question,
                        step.text,
                        step.answer,
                        step.source,
                        step.reason,
                    )
                )
            if decision.categories:
                rows.append(
                    (
                        f"{decision.metric}:{decision.value}",
                        "",
                        "highest of: " + "; ".join(decision.categories),
                        "",
                        "",
                        "",
                    )
                )
        out += table(["metric", "question", "asks", "answer", "from", "why"], rows)
        out += [""]
    return out


def _exploitability(risks: list[RiskItem]) -> list[str]:
    out = ["", "### Exploitability, controls and residual risk", ""]
    if risks:
        out += [escape(risks[0].residual.rule), ""]
    out += table(
        [
            "risk",
            "exploitability (how)",
            "range",
            "controls credited",
            "recommended controls",
            "residual (how)",
        ],
        [
            (
                r.id,
                "; ".join(r.exploitability.steps),
                f"{r.exploitability.best}..{r.exploitability.worst}"
                if r.exploitability.best != r.exploitability.worst
                else "-",
                ", ".join(f"{c.id} -{c.credited_levels}" for c in r.controls if c.credited_levels)
                or "none",
                ", ".join(
                    f"{c.id}{' (applied)' if c.applied else ''}"
                    for c in r.controls
                    if c.kind == "recommended"
                )
                or "none",
                "; ".join(r.residual.steps),
            )
            for r in risks
        ],
    )
    return out


def _vulnerabilities(risks: list[RiskItem]) -> list[str]:
    rows = []
    for risk in risks:
        for vulnerability in risk.vulnerabilities:
            for result in vulnerability.cvss:
                published = "" if result.published_score is None else f"{result.published_score:g}"
                agrees = {None: "", True: "yes", False: "NO"}[result.agrees]
                rows.append(
                    (
                        vulnerability.id,
                        risk.id,
                        vulnerability.element,
                        result.origin,
                        result.base_vector,
                        published,
                        f"{result.base_score:.1f}",
                        agrees,
                        f"{result.score:.1f} ({result.score_kind})",
                        "; ".join(f"{c.metric}:{c.value} {c.reason}" for c in result.context)
                        or "—",
                    )
                )
    if not rows:
        return []
    return [
        "",
        "### Known vulnerabilities in the device's context",
        "",
        "Published vectors recomputed (and compared with the published base score), then "
        "scored with the metrics the device model settles.",
        "",
        *table(
            [
                "vulnerability",
                "risk",
                "element",
                "origin",
                "base vector",
                "published",
                "recomputed",
                "agrees",
                "in context",
                "context metrics",
            ],
            rows,
        ),
    ]


def _open_questions(risks: list[RiskItem]) -> list[str]:
    asked: dict[str, list[str]] = {}
    for risk in risks:
        for question in risk.open_questions:
            asked.setdefault(question, []).append(risk.id)
    if not asked:
        return []
    return [
        "",
        "### Open questions for the analyst",
        "",
        "Answer these in an answers file (`mdrisk risk MODEL --answers FILE`) with a "
        "justification; until then the worst case stands.",
        "",
        *table(["question", "risks"], [(q, ", ".join(ids)) for q, ids in asked.items()]),
    ]


def _policy_terms(assessment: Assessment) -> str:
    policy = assessment.risk_policy
    if policy is None:
        return ""
    applied = policy.apply if isinstance(policy.apply, str) else ", ".join(policy.apply) or "none"
    return (
        f" ({escape(policy.source)}): open rubric questions count at their {policy.unanswered}, "
        f"the residual assumes recommended controls: {escape(applied)}"
    )


def risk_scoring_section(assessment: Assessment) -> list[str]:
    """How each risk score was reached, or nothing when there are no risks."""
    risks = assessment.risks
    if not risks:
        return []
    out = [
        "",
        "## Risk scoring: how each score was reached",
        "",
        f"Policy: {escape(risks[0].matrix)}{_policy_terms(assessment)}. Severity comes from "
        "measured harm, the analyst (answers file, the hazard's or its losses' severity in the "
        "model) or the worst case; exploitability from the device as designed: the rubric's "
        "CVSS exploitability, published vulnerabilities, KEV, EPSS, the attacker and the path.",
    ]
    out += _cvss_groups(risks)
    out += _exploitability(risks)
    out += _vulnerabilities(risks)
    out += _open_questions(risks)
    return out
