"""What the analyst decided about findings, as applied to this assessment.

Each decision is keyed by a finding's stable id (``R-``, ``LS-``, ``SC-``, ``TH-``) or by a
vulnerability id (``CVE-...``), the latter optionally scoped to one threat or one element
(``CVE-2020-27269@TH-38f874``, ``CVE-2020-27269@insulin_pump``). A decision whose finding is
not in this assessment is ``stale``: it was made about something a model edit removed.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from mdrisk.assessment.base import Record

DecisionStatus = Literal["open", "mitigated", "accepted", "not_affected", "false_positive"]
FindingKind = Literal["risk", "loss_scenario", "scenario", "threat", "vulnerability"]

DECISION_STATUSES: tuple[DecisionStatus, ...] = (
    "open",
    "mitigated",
    "accepted",
    "not_affected",
    "false_positive",
)


class Decision(Record):
    key: str  # as the decisions file spells it: "R-f25cc5", "CVE-2020-27269@TH-38f874"
    finding: str  # the id it names: "R-f25cc5", "CVE-2020-27269"
    kind: FindingKind
    scope: str | None = None  # a vulnerability's threat (TH-n) or element id, when scoped
    status: DecisionStatus
    justification: str = ""
    owner: str = ""
    date: str = ""  # ISO date, as written
    # A CycloneDX justification (code_not_reachable, ...) for a not_affected vulnerability.
    vex_justification: str | None = None
    stale: bool  # True when this assessment has no such finding
    names: str = ""  # what it names, in words (empty when stale)
    # For a vulnerability: the threats (TH-n) whose match of it the decision covers.
    threats: list[str] = Field(default_factory=list)


class DecisionLog(Record):
    """The decisions file applied to this assessment, and every decision in it, in key order."""

    file: str
    sha256: str
    entries: list[Decision] = Field(default_factory=list)

    @property
    def stale(self) -> list[Decision]:
        return [entry for entry in self.entries if entry.stale]
