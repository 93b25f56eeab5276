"""The risk section of the report: the heat map (severity × exploitability) and, per risk,
how each score was reached (CVSS metrics and rubric answers, controls, residual steps)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from markupsafe import Markup

from mdrisk import bundled
from mdrisk.assessment import Assessment
from mdrisk.report.heatmap import heatmap_svg
from mdrisk.report.stages import field, risks, text_of

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


def _grid(records: list[Any], residual: bool) -> tuple[dict, dict, list[str]]:
    cells: dict[tuple[str, str], list[str]] = {}
    levels: dict[tuple[str, str], str] = {}
    seen: list[str] = []
    for risk in records:
        source = field(risk, "residual") if residual else risk
        if source is None:
            continue
        severity = (
            text_of(field(field(risk, "severity"), "level"))
            if not residual
            else text_of(field(source, "severity"))
        )
        exploitability = field(source, "exploitability")
        exploitability = text_of(
            field(exploitability, "level")
            if not isinstance(exploitability, str)
            else exploitability
        )
        if not severity or not exploitability:
            continue
        cells.setdefault((severity, exploitability), []).append(text_of(field(risk, "id")))
        levels[(severity, exploitability)] = text_of(field(source, "level"))
        seen.append(exploitability)
    return cells, levels, seen


def _matrix_named(name: str) -> tuple[tuple[str, ...], tuple[str, ...], dict] | None:
    """(severities, exploitabilities, cell levels) of the built-in risk matrix when the risks
    were rated with it, so that empty cells are coloured too; None for another matrix."""
    try:
        from mdrisk.risk.matrix import heat_map_cells
    except ImportError:
        return None
    matrix = bundled.risk_matrix().matrix
    if matrix.name != name:
        return None
    return (tuple(matrix.severity), tuple(matrix.exploitability_levels), heat_map_cells(matrix))


def heatmap(assessment: Assessment) -> Heatmap | None:
    """The heat maps of the risks before and after their controls, or None without risks."""
    records = risks(assessment)
    if not records:
        return None
    cells, levels, seen = _grid(records, residual=False)
    after, after_levels, seen_after = _grid(records, residual=True)
    exploitabilities = tuple(
        sorted(set(seen + seen_after), key=lambda w: _rank(w, EXPLOITABILITY_ORDER))
    )
    severities = tuple(
        sorted(
            {s for s, _ in cells} | {s for s, _ in after} | set(SEVERITIES),
            key=lambda w: _rank(w, SEVERITIES),
        )
    )
    names = {text_of(field(r, "matrix")) for r in records}
    known = _matrix_named(names.pop()) if len(names) == 1 else None
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
    before_svg = heatmap_svg(severities, exploitabilities, cells, levels, "Risks before controls")
    after_svg = (
        heatmap_svg(
            severities, exploitabilities, after, after_levels, "Residual risks after controls"
        )
        if after
        else None
    )
    return Heatmap(
        Markup(before_svg), severities, exploitabilities, Markup(after_svg) if after_svg else None
    )


@dataclass(frozen=True)
class RiskDetail:
    record: Any
    cvss: list[Any]
    controls: list[Any]
    residual_steps: list[str]
    exploitability_steps: list[str]
    open_questions: list[str]


def risk_details(assessment: Assessment) -> list[RiskDetail]:
    details = []
    for risk in risks(assessment):
        residual = field(risk, "residual")
        exploitability = field(risk, "exploitability")
        details.append(
            RiskDetail(
                record=risk,
                cvss=list(field(risk, "cvss", default=[])),
                controls=list(field(risk, "controls", default=[])),
                residual_steps=[text_of(s) for s in field(residual, "steps", default=[])]
                if residual is not None
                else [],
                exploitability_steps=[
                    text_of(s) for s in field(exploitability, "steps", default=[])
                ]
                if exploitability is not None
                else [],
                open_questions=[text_of(q) for q in field(risk, "open_questions", default=[])],
            )
        )
    return details
