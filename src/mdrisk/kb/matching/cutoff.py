"""The confidence cut-off: what is reported as a match and what as possible.

A candidate below the cut-off is never dropped: it is listed as "possible, needs review" with
its reason (a version the record does not state, a range that cannot be read, a vendor that
only resembles), so the analyst decides.
"""

from __future__ import annotations

from collections.abc import Iterable

from mdrisk.kb.matching.query import VulnMatch

MIN_CONFIDENCE = 0.5
POSSIBLE = "possible, needs review"


def split_by_confidence(
    matches: Iterable[VulnMatch], threshold: float = MIN_CONFIDENCE
) -> tuple[list[VulnMatch], list[VulnMatch]]:
    """(matches at or above ``threshold``, the rest as possible), order kept."""
    confident: list[VulnMatch] = []
    possible: list[VulnMatch] = []
    for match in matches:
        (confident if match.confidence >= threshold else possible).append(match)
    return confident, possible
