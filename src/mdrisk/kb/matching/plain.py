"""Entries of plain release ranges, judged by comparing keys: ``status.judge`` made fast.

Most published versions are plain: intervals whose bounds are release numbers (no wildcard
such as "5.x", no calendar date, no build number), no package ecosystem's own ordering, no
status ``changes``. For such an entry and a plain queried version (a release number, not a
wildcard or date), :func:`judge` answers exactly what ``status.judge`` answers, comparing the
precomputed ``BoundKey``s of the bounds with the version's instead of reading ``Version``s
through ``compare_to_bound``. Anything else is left to ``status.judge`` (``plain_reading``
and ``plain_version`` return None).

A ``PlainReading`` is also what the store keeps for each distinct versions text at import
(``to_json``/``from_json``): a query then reads the bounds without parsing them again.
"""

from __future__ import annotations

import hashlib
import json
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from importlib import metadata
from pathlib import Path
from typing import Any, NamedTuple

from mdrisk.kb.matching import ecosystems, ranges, versions
from mdrisk.kb.matching import status as verdicts
from mdrisk.kb.matching.ranges import Interval
from mdrisk.kb.matching.versions import ZERO, Segment, Version, normalise, parse_version

# how a release number compares with a bound that has no build: (release, pre, post)
BoundKey = tuple[tuple[Segment, ...], tuple[int, int, int], tuple[Segment, ...]]


class WildBound(NamedTuple):
    """A wildcard bound ("12.2.x"): a version under its prefix (``parts``, as written)
    stands level with it; any other compares by release number."""

    parts: tuple[Segment, ...]
    release: tuple[Segment, ...]


Bound = BoundKey | WildBound
# lower bound, lower inclusive, upper bound, upper inclusive (None: open)
PlainInterval = tuple[Bound | None, bool, Bound | None, bool]
_FORMAT = "plain-1"  # the layout of to_json


class PlainConstraint(NamedTuple):
    """One prepared constraint: ``text`` as ``Constraint.text``, ``range_text`` as its
    ``VersionRange.text`` (``range_norm`` normalised), ``problem`` as the range's."""

    affected: bool
    everything: bool
    intervals: tuple[PlainInterval, ...]
    problem: str
    text: str
    range_text: str
    range_norm: str
    wild: bool = False  # a bound is a WildBound


class PlainReading(NamedTuple):
    """An entry's constraints in the order ``status.judge`` weighs them. Tuples (not
    objects): the collector stops tracking them, however many a large store's queries keep."""

    unaffected: tuple[PlainConstraint, ...]
    affected: tuple[PlainConstraint, ...]

    def span(self, default_status: str) -> verdicts.Span | None:
        """``status.affected_span`` of the same constraints."""
        default = _default(default_status)
        if not self.affected or (default == verdicts.AFFECTED and self.unaffected):
            return None
        lows: list[verdicts.SpanBound] = []
        highs: list[verdicts.SpanBound] = []
        for constraint in self.affected:
            if (
                constraint.everything
                or constraint.problem
                or constraint.wild
                or not constraint.intervals
            ):
                return None
            for lower, _, upper, _ in constraint.intervals:
                lows.append(verdicts.LOWEST if lower is None else (0, _release(lower)))
                highs.append(verdicts.HIGHEST if upper is None else (0, _release(upper)))
        texts = frozenset(constraint.range_norm for constraint in self.affected)
        return verdicts.Span(min(lows), max(highs), texts)


@dataclass(frozen=True, slots=True)
class PlainVersion:
    """A queried version as plain readings compare it."""

    text: str
    key: BoundKey
    norm: str
    parts: tuple[Segment, ...]  # as written, for wildcard bounds
    release: tuple[Segment, ...]


def _release(bound: Bound) -> tuple[Segment, ...]:
    return bound.release if isinstance(bound, WildBound) else bound[0]


def _bound_key(bound: Version | None) -> Bound | None | bool:
    """The bound as ``compare_to_bound`` reads it; False where it is not plain."""
    if bound is None:
        return None
    if bound.calendar:
        return False
    if bound.wildcard:
        return WildBound(bound.parts, bound.release_key)
    if bound.build:
        return False
    return (bound.release_key, bound.pre_key, bound.post)


def _plain_interval(interval: Interval) -> PlainInterval | None:
    lower, upper = _bound_key(interval.lower), _bound_key(interval.upper)
    if lower is False or upper is False:
        return None
    assert lower is not True and upper is not True
    return (lower, interval.lower_inclusive, upper, interval.upper_inclusive)


def plain_reading(constraints: Sequence[verdicts.Constraint]) -> PlainReading | None:
    """The plain form of prepared constraints, or None where ``status.judge`` must read them."""
    unaffected: list[PlainConstraint] = []
    affected: list[PlainConstraint] = []
    for constraint in constraints:
        covered = constraint.versions
        if covered.native is not None:
            return None
        changes = constraint.source.get("changes")
        if constraint.status == verdicts.AFFECTED and isinstance(changes, list) and changes:
            return None
        intervals: list[PlainInterval] = []
        for interval in covered.intervals:
            read = _plain_interval(interval)
            if read is None:
                return None
            intervals.append(read)
        plain = PlainConstraint(
            constraint.status == verdicts.AFFECTED,
            covered.everything,
            tuple(intervals),
            covered.problem,
            constraint.text,
            covered.text,
            normalise(covered.text),
            _any_wild(intervals),
        )
        (affected if plain.affected else unaffected).append(plain)
    return PlainReading(tuple(unaffected), tuple(affected))


@lru_cache(maxsize=4096)
def plain_version(version_text: str | None) -> PlainVersion | None:
    """The queried version's key, or None where ``status.judge`` must read it (no version,
    not a version, a wildcard, a calendar date)."""
    if not version_text or not version_text.strip():
        return None
    version = parse_version(version_text)
    if version is None or version.wildcard or version.calendar:
        return None
    return PlainVersion(
        version_text,
        (version.release_key, version.pre_key, version.post),
        normalise(version_text),
        version.parts,
        version.release_key,
    )


def _default(default_status: str) -> str:
    return verdicts.status_of(default_status) if default_status else verdicts.UNKNOWN


def _any_wild(intervals: Sequence[PlainInterval]) -> bool:
    return any(
        isinstance(lower, WildBound) or isinstance(upper, WildBound)
        for lower, _, upper, _ in intervals
    )


def _side(version: PlainVersion, bound: Bound) -> int:
    """``compare_to_bound`` for a plain version."""
    if isinstance(bound, WildBound):
        size = len(bound.parts)
        if (version.parts + (ZERO,) * size)[:size] == (bound.parts + (ZERO,) * size)[:size]:
            return 0
        left: tuple[object, ...] = version.release
        right: tuple[object, ...] = bound.release
    else:
        left, right = version.key, bound
    return (left > right) - (left < right)


def _inside_wild(constraint: PlainConstraint, version: PlainVersion) -> bool:
    for lower, lower_inclusive, upper, upper_inclusive in constraint.intervals:
        if lower is not None:
            side = _side(version, lower)
            if side < 0 or (side == 0 and not lower_inclusive):
                continue
        if upper is not None:
            side = _side(version, upper)
            if side > 0 or (side == 0 and not upper_inclusive):
                continue
        return True
    return False


def _inside(constraint: PlainConstraint, version: PlainVersion) -> bool | None:
    """``VersionRange.contains`` for a plain range and version."""
    if constraint.everything or version.norm == constraint.range_norm:
        return True
    if not constraint.intervals:
        return None
    if constraint.wild:
        inside = _inside_wild(constraint, version)
        return None if constraint.problem and not inside else inside
    key = version.key
    for lower, lower_inclusive, upper, upper_inclusive in constraint.intervals:
        if lower is not None and (key < lower or (key == lower and not lower_inclusive)):
            continue
        if upper is not None and (key > upper or (key == upper and not upper_inclusive)):
            continue
        return True
    return None if constraint.problem else False


def judge_no_version(reading: PlainReading, default_status: str) -> verdicts.Verdict:
    """``status.judge`` of the reading's constraints when the query gives no version."""
    if not reading.affected and not reading.unaffected:
        if _default(default_status) == verdicts.AFFECTED:
            return verdicts.Verdict(verdicts.AFFECTED, verdicts.BY_ALL, "all versions are affected")
        return verdicts.Verdict(verdicts.UNKNOWN, verdicts.NO_VERSION, "no version given")
    everything = [c for c in reading.affected if c.everything]
    if everything and not reading.unaffected:
        return verdicts.Verdict(
            verdicts.AFFECTED,
            verdicts.BY_ALL,
            f"all versions are affected ('{everything[0].range_text}')",
        )
    listed = "; ".join(f"'{c.text}'" for c in reading.affected[:3]) or "see the record"
    return verdicts.Verdict(
        verdicts.UNKNOWN, verdicts.NO_VERSION, f"no version given; affected versions: {listed}"
    )


def judge(reading: PlainReading, default_status: str, version: PlainVersion) -> verdicts.Verdict:
    """``status.judge`` of the reading's constraints for a plain version."""
    text = version.text
    for constraint in reading.unaffected:
        if _inside(constraint, version) is True:
            return verdicts.Verdict(
                verdicts.UNAFFECTED,
                verdicts.BY_RANGE,
                f"{text} is fixed or not affected ('{constraint.text}')",
            )
    first_unknown: PlainConstraint | None = None
    for constraint in reading.affected:
        inside = _inside(constraint, version)
        if inside is True:
            if constraint.everything:
                return verdicts.Verdict(
                    verdicts.AFFECTED,
                    verdicts.BY_ALL,
                    f"all versions are affected ('{constraint.range_text}')",
                )
            return verdicts.Verdict(
                verdicts.AFFECTED, verdicts.BY_RANGE, f"{text} within '{constraint.text}'"
            )
        if inside is None and first_unknown is None:
            first_unknown = constraint
    if first_unknown is not None:
        why = first_unknown.problem or f"it cannot be compared with '{text}'"
        return verdicts.Verdict(
            verdicts.UNKNOWN,
            verdicts.UNREADABLE_ENTRY,
            f"the published version '{first_unknown.range_text}' cannot be interpreted ({why})",
        )
    return verdicts.judge_unlisted(
        _default(default_status),
        bool(reading.unaffected),
        [constraint.text for constraint in reading.affected],
        text,
    )


# --- the form the store keeps -----------------------------------------------------------------


_NO_PRE = (1, 0, 0)


def _segment_json(segment: Segment) -> Any:
    """A number without suffix as the number, a word as the word, else the triple."""
    rank, number, word = segment
    if rank == 1 and not word:
        return number
    if rank == 0 and number == 0 and word:
        return word
    return list(segment)


def _segment_of(value: Any) -> Segment:
    if isinstance(value, int):
        return (1, value, "")
    if isinstance(value, str):
        return (0, 0, value)
    rank, number, word = value
    return (int(rank), int(number), str(word))


def _key_json(key: Bound | None) -> Any:
    if key is None:
        return None
    if isinstance(key, WildBound):
        return {
            "w": [_segment_json(s) for s in key.parts],
            "r": [_segment_json(s) for s in key.release],
        }
    release, pre, post = key
    written: list[Any] = [[_segment_json(s) for s in release]]
    if pre != _NO_PRE or post:
        written.append(None if pre == _NO_PRE else list(pre))
    if post:
        written.append([_segment_json(s) for s in post])
    return written


def _key_of(value: Any) -> Bound | None:
    if value is None:
        return None
    if isinstance(value, dict):
        return WildBound(
            tuple(_segment_of(s) for s in value["w"]), tuple(_segment_of(s) for s in value["r"])
        )
    release = tuple(_segment_of(s) for s in value[0])
    pre = _NO_PRE if len(value) < 2 or value[1] is None else tuple(value[1])
    post = tuple(_segment_of(s) for s in value[2]) if len(value) > 2 else ()
    return (release, pre, post)


def to_json(reading: PlainReading | None) -> str:
    """The reading as the store keeps it ("null": not plain, judged by ``status.judge``).
    Per constraint: affected, everything, intervals, problem, text, range text (0: the
    same as the text), normalised range text (0: the same as the range text)."""
    if reading is None:
        return "null"
    return json.dumps(
        [
            [
                int(c.affected),
                int(c.everything),
                [
                    [_key_json(lo), int(lo_in), _key_json(hi), int(hi_in)]
                    for lo, lo_in, hi, hi_in in c.intervals
                ],
                c.problem,
                c.text,
                0 if c.range_text == c.text else c.range_text,
                0 if c.range_norm == c.range_text else c.range_norm,
            ]
            for c in (*reading.unaffected, *reading.affected)
        ],
        ensure_ascii=False,
        separators=(",", ":"),
    )


def from_json(text: str) -> PlainReading | None:
    """A reading :func:`to_json` wrote; None for "null"."""
    value = json.loads(text)
    if value is None:
        return None
    unaffected: list[PlainConstraint] = []
    affected: list[PlainConstraint] = []
    for is_affected, everything, intervals, problem, described, written_range, norm in value:
        range_text = str(described if written_range == 0 else written_range)
        read: tuple[PlainInterval, ...] = tuple(
            (_key_of(lo), bool(lo_in), _key_of(hi), bool(hi_in))
            for lo, lo_in, hi, hi_in in intervals
        )
        constraint = PlainConstraint(
            bool(is_affected),
            bool(everything),
            read,
            str(problem),
            str(described),
            range_text,
            range_text if norm == 0 else str(norm),
            _any_wild(read),
        )
        (affected if constraint.affected else unaffected).append(constraint)
    return PlainReading(tuple(unaffected), tuple(affected))


def text_digest(versions_text: str) -> bytes:
    """The key the store keeps a versions text's reading under."""
    return hashlib.blake2b(versions_text.encode("utf-8"), digest_size=16).digest()


def stored_reading(versions_text: str) -> str:
    """What the store keeps for a versions text as it stores them (a JSON list of constraint
    dicts): the :func:`to_json` of its plain reading, "null" where it has none."""
    try:
        constraints = json.loads(versions_text)
    except ValueError:
        return "null"
    if not isinstance(constraints, list) or not all(isinstance(c, dict) for c in constraints):
        return "null"
    return to_json(plain_reading(verdicts.prepare(constraints)))


@lru_cache(maxsize=1)
def reading_format() -> str:
    """What stored readings are computed with: this module and the ones that read versions
    (their source), and univers. A store whose readings say otherwise is read the slow way
    until a writable open computes them again."""
    digest = hashlib.sha256(_FORMAT.encode())
    for module in (versions, ranges, verdicts, ecosystems, sys.modules[__name__]):
        source = Path(module.__file__ or "")
        digest.update(source.read_bytes() if source.is_file() else module.__name__.encode())
    try:
        digest.update(metadata.version("univers").encode())
    except metadata.PackageNotFoundError:
        pass
    return f"{_FORMAT}:{digest.hexdigest()[:16]}"
