"""The risk section of the report: the heat map (severity × exploitability) and, per risk,
how each score was reached (CVSS metrics and rubric answers, controls, residual steps)."""

from __future__ import annotations

from dataclasses import dataclass

from markupsafe import Markup

from mdrisk import bundled
from mdrisk.assessment import Assessment
from mdrisk.assessment.risk import CvssResult, RiskControl, RiskItem
from mdrisk.report.heatmap import heatmap_svg

SEVERITIES = ("negligible", "minor", "serious", "critical", "catastrophic")
# Exploitability words from least to most likely, as ISO 14971-style matrices name them.
EXPLOITABILITY_ORDER = (
    "improbable",
    "remote",
    "very low",
    "low",
    "unlikely",
    "occasional",
    "medium",
    "possible",
    "probable",
    "high",
    "likely",
    "very high",
    "frequent",
)


def _rank(word: str, order: tuple[str, ...]) -> tuple[int, str]:
    key = word.strip().casefold()
    return (order.index(key) if key in order else len(order)), key


@dataclass(frozen=True)
class Heatmap:
    svg: Markup
    severities: tuple[str, ...]
    exploitabilities: tuple[str, ...]
    residual_svg: Markup | None


# A risk placed on the heat map: (risk id, severity, exploitability, level of the cell).
Placed = tuple[str, str, str, str]


def _before(risk: RiskItem) -> Placed:
    return risk.id, risk.severity.level, risk.exploitability.level, risk.level


def _after(risk: RiskItem) -> Placed:
    residual = risk.residual
    return risk.id, residual.severity, residual.exploitability, residual.level


def _grid(placed: list[Placed]) -> tuple[dict, dict, list[str]]:
    cells: dict[tuple[str, str], list[str]] = {}
    levels: dict[tuple[str, str], str] = {}
    seen: list[str] = []
    for risk_id, severity, exploitability, level in placed:
        if not severity or not exploitability:
            continue
        cells.setdefault((severity, exploitability), []).append(risk_id)
        levels[(severity, exploitability)] = level
        seen.append(exploitability)
    return cells, levels, seen


def _matrix_of(assessment: Assessment) -> tuple[tuple[str, ...], tuple[str, ...], dict] | None:
    """(severities, exploitabilities, cell levels) of the policy the risks were rated under,
    so that empty cells are coloured too: the one the assessment records, else the built-in
    matrix when its name matches; None when neither is known."""
    policy = assessment.risk_policy
    if policy is not None:
        cells = {
            (severity, level): row[index]
            for level, row in policy.cells.items()
            for index, severity in enumerate(policy.severities)
        }
        return tuple(policy.severities), tuple(policy.exploitability), cells
    try:
        from mdrisk.risk.matrix import heat_map_cells
    except ImportError:
        return None
    matrix = bundled.risk_matrix().matrix
    name = assessment.risks[0].matrix if assessment.risks else ""
    if matrix.name != name:
        return None
    return (tuple(matrix.severity), tuple(matrix.exploitability_levels), heat_map_cells(matrix))


def heatmap(assessment: Assessment) -> Heatmap | None:
    """The heat maps of the risks before and after their controls, or None without risks."""
    records = assessment.risks
    if not records:
        return None
    cells, levels, seen = _grid([_before(r) for r in records])
    after, after_levels, seen_after = _grid([_after(r) for r in records])
    exploitabilities = tuple(
        sorted(set(seen + seen_after), key=lambda w: _rank(w, EXPLOITABILITY_ORDER))
    )
    severities = tuple(
        sorted(
            {s for s, _ in cells} | {s for s, _ in after} | set(SEVERITIES),
            key=lambda w: _rank(w, SEVERITIES),
        )
    )
    names = {r.matrix for r in records}
    known = _matrix_of(assessment) if len(names) == 1 else None
    if (
        known is not None
        and set(severities) <= set(known[0])
        and set(exploitabilities) <= set(known[1])
    ):
        severities, exploitabilities, grid = known
        levels = {**grid, **levels}
        after_levels = {**grid, **after_levels}
    if not exploitabilities:
        return None
    before_svg = heatmap_svg(
        severities,
        exploitabilities,
        cells,
        levels,
        "Risks as designed (before recommended controls)",
    )
    after_svg = (
        heatmap_svg(
            severities,
            exploitabilities,
            after,
            after_levels,
            "Residual risks (with the controls the policy applies)",
        )
        if after
        else None
    )
    return Heatmap(
        Markup(before_svg), severities, exploitabilities, Markup(after_svg) if after_svg else None
    )


@dataclass(frozen=True)
class RiskDetail:
    record: RiskItem
    cvss: list[CvssResult]
    controls: list[RiskControl]
    residual_steps: list[str]
    exploitability_steps: list[str]
    open_questions: list[str]


def risk_details(assessment: Assessment) -> list[RiskDetail]:
    return [
        RiskDetail(
            record=risk,
            cvss=list(risk.cvss),
            controls=list(risk.controls),
            residual_steps=list(risk.residual.steps),
            exploitability_steps=list(risk.exploitability.steps),
            open_questions=list(risk.open_questions),
        )
        for risk in assessment.risks
    ]
