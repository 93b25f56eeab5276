"""The analyst's decision on each row of the finding tables (risks, attack scenarios, loss
scenarios, threats, known vulnerabilities): four more columns, when the assessment carries
decisions, so the HTML, Markdown and CSV files show them alike."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from mdrisk.assessment import Assessment
from mdrisk.assessment.decisions import Decision
from mdrisk.decisions import decided_findings, decision_for_vulnerability

DECISION_HEADERS = ("decision", "decision justification", "decision owner", "decision date")
# Tables whose first column is the id of a finding a decision may name.
FINDING_TABLES = ("risks", "scenarios", "loss_scenarios", "threats")


def decision_cells(decision: Decision | None) -> tuple[str, str, str, str]:
    if decision is None:
        return ("", "", "", "")
    return (decision.status, decision.justification, decision.owner, decision.date)


def with_decision_columns(tables: dict[str, Any], assessment: Assessment) -> dict[str, Any]:
    """``tables`` (a report table by key) with the decision columns added where they apply;
    unchanged when the assessment has no decisions."""
    if assessment.decisions is None:
        return tables
    decided = decided_findings(assessment)
    threats = {threat.id: threat for threat in assessment.threats}
    out = dict(tables)
    for key in FINDING_TABLES:
        if key in tables:
            table = tables[key]
            rows = [row + decision_cells(decided.get(row[0])) for row in table.rows]
            out[key] = replace(table, headers=table.headers + DECISION_HEADERS, rows=rows)
    if "vulnerabilities" in tables:  # rows: vulnerability id, threat id, ...
        table = tables["vulnerabilities"]
        rows = []
        for row in table.rows:
            threat = threats.get(row[1])
            decision = (
                None if threat is None else decision_for_vulnerability(assessment, threat, row[0])
            )
            rows.append(row + decision_cells(decision))
        out["vulnerabilities"] = replace(table, headers=table.headers + DECISION_HEADERS, rows=rows)
    return out
