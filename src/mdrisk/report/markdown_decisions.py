"""The analyst's decisions in the Markdown report: the stale ones first (a decision about a
finding this assessment no longer has), then every decision with what it names."""

from __future__ import annotations

from mdrisk.assessment import Assessment
from mdrisk.report.markdown_text import escape, table


def decisions_section(assessment: Assessment) -> list[str]:
    log = assessment.decisions
    if log is None:
        return []
    out = [
        "",
        "## Analyst decisions",
        "",
        f"From {escape(log.file)} (SHA-256 {log.sha256[:16]}…), each keyed by a finding's "
        "stable id. A stale decision names a finding this assessment no longer has.",
        "",
        "### Stale decisions",
        "",
    ]
    if log.stale:
        out += table(
            ["decision on", "status", "justification", "owner", "date"],
            [(d.key, d.status, d.justification, d.owner, d.date) for d in log.stale],
        )
    else:
        out.append("None: every decision names a finding of this assessment.")
    out += ["", "### Every decision", ""]
    out += table(
        ["decision on", "names", "status", "justification", "owner", "date"],
        [
            (
                d.key,
                "STALE" if d.stale else d.names,
                d.status + (f" ({d.vex_justification})" if d.vex_justification else ""),
                d.justification,
                d.owner,
                d.date,
            )
            for d in log.entries
        ],
    )
    return out
