"""Whether one affected entry applies to one installed version.

In: the entry's normalised constraint dicts (``AffectedEntry.versions``), its default status,
and the version the analyst has (or None). Out: a ``Verdict`` — affected, unaffected or
unknown — with the reason in words and how sure the version evidence is.

Rules (CVE JSON 5 semantics, applied to every source):
- a constraint with status "unknown" says nothing and is skipped;
- a version inside an "unaffected" constraint is unaffected, whatever else matches (a fix
  always wins, so a fixed version never matches);
- otherwise a version inside an "affected" constraint is affected;
- otherwise the default status applies — except that a list of affected versions with a
  default of "affected" and no unaffected entry is read as "only these versions" (otherwise
  the list would say nothing);
- a constraint that cannot be read, or a version that cannot be read, gives "unknown" and says
  why; it never silently matches.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from mdrisk.kb.matching.ranges import VersionRange, constraint_range, describe_constraint
from mdrisk.kb.matching.versions import Segment, Version, compare_to_bound, normalise, parse_version

AFFECTED = "affected"
UNAFFECTED = "unaffected"
UNKNOWN = "unknown"

# How the verdict was reached: the matcher turns these into confidence.
BY_RANGE = "range"  # the version is inside a published range or equals a listed version
BY_ALL = "all"  # every version is affected
BY_DEFAULT = "default"  # not listed; the record's default status applies
NO_VERSION = "no-version"  # the query gave no version
UNREADABLE_ENTRY = "unreadable-entry"  # the published version text could not be interpreted
UNREADABLE_QUERY = "unreadable-query"  # the query's version could not be interpreted
UNSTATED = "unstated"  # the record lists nothing for the version and has no default status


@dataclass(frozen=True)
class Verdict:
    status: str
    basis: str
    why: str


def status_of(status_text: object) -> str:
    """AFFECTED, UNAFFECTED or UNKNOWN for a status as records write it (empty: affected)."""
    status = str(status_text or AFFECTED).casefold()
    if status in ("fixed", "known_not_affected", "not_affected", "unaffected"):
        return UNAFFECTED
    if status in (
        "affected",
        "known_affected",
        "first_affected",
        "last_affected",
        "under_investigation_affected",
    ):
        return AFFECTED
    return UNKNOWN


def _status(constraint: Mapping[str, Any]) -> str:
    return status_of(constraint.get("status"))


def _with_changes(constraint: Mapping[str, Any], version: Version, status: str) -> str:
    """CVE 5 ``changes``: the status changes at listed versions inside a range."""
    changes = constraint.get("changes")
    if not isinstance(changes, list):
        return status
    for change in changes:
        if not isinstance(change, Mapping):
            continue
        at = parse_version(str(change.get("at", "")))
        if at is not None and compare_to_bound(version, at) in (0, 1):
            status = _status(change)
    return status


def _quoted(text: str) -> str:
    return f"'{text}'"


@dataclass(frozen=True)
class Constraint:
    """One constraint dict, read once: its status, the versions it covers, how to say it."""

    source: Mapping[str, Any]
    status: str
    versions: VersionRange
    text: str


def prepare(constraints: Sequence[Mapping[str, Any]]) -> tuple[Constraint, ...]:
    """Read an entry's constraint dicts once (status "unknown" ones say nothing: dropped)."""
    prepared = []
    for constraint in constraints:
        if not isinstance(constraint, Mapping):
            continue
        status = _status(constraint)
        if status != UNKNOWN:
            prepared.append(
                Constraint(
                    constraint,
                    status,
                    constraint_range(constraint),
                    describe_constraint(constraint),
                )
            )
    return tuple(prepared)


def evaluate(
    constraints: Sequence[Mapping[str, Any]], default_status: str, version_text: str | None
) -> Verdict:
    """The verdict for one entry. ``version_text`` None or blank: the query gave no version."""
    return judge(prepare(constraints), default_status, version_text)


def judge(
    constraints: tuple[Constraint, ...], default_status: str, version_text: str | None
) -> Verdict:
    """``evaluate`` for constraints already read by ``prepare``."""
    default = _status({"status": default_status}) if default_status else UNKNOWN
    affected = [c for c in constraints if c.status == AFFECTED]
    unaffected = [c for c in constraints if c.status == UNAFFECTED]
    everything = [c.versions for c in affected if c.versions.everything]

    if not version_text or not version_text.strip():
        if not constraints:
            if default == AFFECTED:
                return Verdict(AFFECTED, BY_ALL, "all versions are affected")
            return Verdict(UNKNOWN, NO_VERSION, "no version given")
        if everything and not unaffected:
            return Verdict(
                AFFECTED, BY_ALL, f"all versions are affected ({_quoted(everything[0].text)})"
            )
        listed = "; ".join(_quoted(c.text) for c in affected[:3]) or "see the record"
        return Verdict(UNKNOWN, NO_VERSION, f"no version given; affected versions: {listed}")

    version = parse_version(version_text)
    outcome_unknown: list[VersionRange] = []
    for constraint in unaffected:
        if constraint.versions.contains(version, version_text) is True:
            return Verdict(
                UNAFFECTED,
                BY_RANGE,
                f"{version_text} is fixed or not affected ({_quoted(constraint.text)})",
            )
    for constraint in affected:
        inside = constraint.versions.contains(version, version_text)
        if inside is True:
            status = _with_changes(constraint.source, version, AFFECTED) if version else AFFECTED
            if status == UNAFFECTED:
                return Verdict(
                    UNAFFECTED,
                    BY_RANGE,
                    f"{version_text} is fixed by a change inside {_quoted(constraint.text)}",
                )
            if constraint.versions.everything:
                return Verdict(
                    AFFECTED,
                    BY_ALL,
                    f"all versions are affected ({_quoted(constraint.versions.text)})",
                )
            return Verdict(AFFECTED, BY_RANGE, f"{version_text} within {_quoted(constraint.text)}")
        if inside is None:
            outcome_unknown.append(constraint.versions)
    if version is None:
        return Verdict(
            UNKNOWN, UNREADABLE_QUERY, f"version {_quoted(version_text)} cannot be interpreted"
        )
    if outcome_unknown:
        first = outcome_unknown[0]
        why = first.problem or "it cannot be compared with " + _quoted(version_text)
        return Verdict(
            UNKNOWN,
            UNREADABLE_ENTRY,
            f"the published version {_quoted(first.text)} cannot be interpreted ({why})",
        )
    return judge_unlisted(default, bool(unaffected), [c.text for c in affected], version_text)


def judge_unlisted(
    default: str, any_unaffected: bool, affected_texts: Sequence[str], version_text: str
) -> Verdict:
    """The verdict for a readable version that no constraint holds or cannot tell about:
    the entry's ``default`` status (as ``status_of`` reads it) decides."""
    if default == AFFECTED and (any_unaffected or not affected_texts):
        return Verdict(
            AFFECTED,
            BY_DEFAULT,
            f"{version_text} is not listed; the record's default status is affected",
        )
    if default == UNKNOWN and not affected_texts:
        return Verdict(
            UNKNOWN, UNSTATED, f"the record does not say whether {version_text} is affected"
        )
    listed = "; ".join(_quoted(text) for text in affected_texts[:3])
    return Verdict(
        UNAFFECTED, BY_DEFAULT, f"{version_text} is outside the affected versions ({listed})"
    )


# A release number as ``Span`` bounds hold it: (0, release_key), below or above every one.
SpanBound = tuple[int, tuple[Segment, ...]]
LOWEST: SpanBound = (-1, ())
HIGHEST: SpanBound = (1, ())


@dataclass(frozen=True)
class Span:
    """Release numbers outside ``lowest``..``highest`` are judged unaffected by an entry;
    ``texts``: its affected ranges as written (normalised), which match an identical
    version text whatever the numbers say."""

    lowest: SpanBound
    highest: SpanBound
    texts: frozenset[str]


def span_key(version_text: str | None) -> SpanBound | None:
    """Where a queried version falls among ``Span`` bounds; None where spans cannot tell
    (no version, not a version, a wildcard such as "5.x", a calendar date)."""
    if not version_text or not version_text.strip():
        return None
    version = parse_version(version_text)
    if version is None or version.wildcard or version.calendar:
        return None
    return (0, version.release_key)


def affected_span(constraints: tuple[Constraint, ...], default_status: str) -> Span | None:
    """The span outside which :func:`judge` answers "unaffected" for every version that has
    a ``span_key``: the entry lists plain affected ranges and is unaffected outside them (its
    default is not "affected", or no "unaffected" entry turns it into a list of exceptions).
    None when no such span exists (every version, unreadable text, an ecosystem's own
    ordering, a wildcard or calendar bound).

    Why it holds: a version whose release number is below a range's lower bound (or above
    its upper one) compares below (above) it whatever its pre-release, post-release or build
    (``compare_to_bound`` orders the release first), so every affected range answers False;
    ``judge`` then reaches its last line, "outside the affected versions"."""
    default = _status({"status": default_status}) if default_status else UNKNOWN
    affected = [c for c in constraints if c.status == AFFECTED]
    if not affected:
        return None
    if default == AFFECTED and any(c.status == UNAFFECTED for c in constraints):
        return None
    lows: list[SpanBound] = []
    highs: list[SpanBound] = []
    for constraint in affected:
        versions = constraint.versions
        if (
            versions.everything
            or versions.problem
            or versions.native is not None
            or not versions.intervals
        ):
            return None
        for interval in versions.intervals:
            for bound in (interval.lower, interval.upper):
                if bound is not None and (bound.wildcard or bound.calendar):
                    return None
            lows.append(LOWEST if interval.lower is None else (0, interval.lower.release_key))
            highs.append(HIGHEST if interval.upper is None else (0, interval.upper.release_key))
    texts = frozenset(normalise(c.versions.text) for c in affected)
    return Span(min(lows), max(highs), texts)
