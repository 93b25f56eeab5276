"""The attack-scenario section of the Markdown report: the ranked list, then the first few
scenarios step by step. Every text is escaped as in the rest of the report."""

from __future__ import annotations

from collections import Counter

from mdrisk.assessment import Assessment
from mdrisk.assessment.scenarios import CATEGORIES, AttackScenario
from mdrisk.report.markdown_text import escape, first_ids, table

DETAILED = 10  # scenarios shown step by step
SHOWN_IDS = 6  # ids shown per cell of the ranked list


def _parts(scenario: AttackScenario) -> str:
    parts = scenario.exploitability.parts
    known = [
        f"reach {parts.reach:g}",
        f"skill {parts.skill:g}",
        f"ease {parts.ease:g} ({parts.ease_source})",
        f"hops {parts.hops}",
    ]
    if parts.known_exploited is not None:
        known.append("known exploited" if parts.known_exploited else "not in KEV")
    if parts.epss is not None:
        known.append(f"EPSS {parts.epss:g}")
    if parts.protections_missing is not None:
        known.append(f"protections missing {parts.protections_missing:g}")
    return ", ".join(known)


def _detail(scenario: AttackScenario) -> list[str]:
    out = ["", f"### {escape(scenario.id)}: {escape(scenario.title)}", ""]
    out += [
        f"{index}. {escape(step.kind)}: {escape(step.text)}"
        for index, step in enumerate(scenario.steps, start=1)
    ]
    references = scenario.references
    out += [
        "",
        f"- exploitability {scenario.exploitability.score:g}: {escape(_parts(scenario))}",
        f"- prerequisites: {escape('; '.join(scenario.prerequisites))}",
        f"- path: {escape(' → '.join(scenario.path))}",
        f"- realises: {escape(', '.join(scenario.loss_scenarios) or '—')}; "
        f"threats: {escape(', '.join(scenario.threats) or '—')}",
        f"- references: {escape(', '.join(references.all_ids()) or '—')}",
    ]
    return out


def scenarios_section(assessment: Assessment) -> list[str]:
    """Absent when the assessment has no attack scenarios."""
    scenarios = assessment.scenarios
    if not scenarios:
        return []
    counts = Counter(s.category for s in scenarios)
    out = [
        "",
        "## Attack scenarios",
        "",
        "Attacker entry → exploit → false data → ML misbehaviour → unsafe control action → "
        "hazard → loss, ranked by exploitability (attacker reach and skill, ease of the "
        "exploit or its CVSS exploitability, known exploitation, EPSS, missing channel "
        "protections, hops to the ML engine).",
        "",
    ]
    out += table(["category", "scenarios"], [(c, counts[c]) for c in CATEGORIES if counts[c]])
    out += [""]
    out += table(
        [
            "id",
            "score",
            "category",
            "attacker",
            "entry",
            "exploit",
            "injection",
            "UCA",
            "hazards",
            "losses",
            "loss scenarios",
            "cites",
        ],
        [
            (
                s.id,
                f"{s.exploitability.score:.3f}",
                s.category,
                s.attacker,
                s.element,
                s.exploit_family,
                s.injection,
                s.uca or "—",
                ", ".join(s.hazards),
                ", ".join(s.losses),
                first_ids(s.loss_scenarios, SHOWN_IDS),
                first_ids(s.references.cve + s.references.pack_rules, SHOWN_IDS),
            )
            for s in scenarios
        ],
    )
    out += ["", f"## The {min(DETAILED, len(scenarios))} highest-ranked attack scenarios"]
    for scenario in scenarios[:DETAILED]:
        out += _detail(scenario)
    return out
