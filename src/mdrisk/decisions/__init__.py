"""The analyst's decisions about findings: read from a decisions file, applied to an assessment.

``file``: the decisions file (YAML or JSON), checked with located errors; ``apply``: each
decision matched to the finding it names, marked stale when that finding is gone, and the
lookups the report writers use.
"""

from mdrisk.decisions.apply import (
    STALE_RULE,
    decided_findings,
    decision_for_vulnerability,
    stale_decisions,
    with_decisions,
)
from mdrisk.decisions.file import (
    DecisionsFile,
    LoadedDecisions,
    decisions_from_text,
    load_decisions,
)

__all__ = [
    "STALE_RULE",
    "DecisionsFile",
    "LoadedDecisions",
    "decided_findings",
    "decision_for_vulnerability",
    "decisions_from_text",
    "stale_decisions",
    "load_decisions",
    "with_decisions",
]
