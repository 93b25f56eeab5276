"""One product's affected entries, read once, and which of them a queried version concerns.

A name that recurs in thousands of records (a kernel, a browser, an RTOS) would have every
entry judged for every query. Entries are grouped by their published versions (read once per
distinct versions and default status, ``VersionsRead``: from the reading the store kept at
import where it kept one, ``plain``, else by parsing the stored text): a group is judged once
per query and answers for all its vulnerabilities. A group with a ``verdicts.Span`` is judged "outside
the affected versions" for any version outside it, so a query with such a version skips it;
the groups left are found by bisection on the spans' upper ends. A vulnerability named more
than once for the product keeps its entries apart, in the store's order (the matcher weighs
one against the other).
"""

from __future__ import annotations

from bisect import bisect_left
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from typing import Any, NamedTuple

from mdrisk.kb.matching import plain
from mdrisk.kb.matching import status as verdicts
from mdrisk.kb.matching.plain import PlainReading
from mdrisk.kb.matching.versions import normalise

# which versions an entry publishes: their stored JSON text, or the id of their reading as
# the store keeps it (equal keys, equal versions)
VersionsKey = str | int
# an entry: vulnerability id, default status, versions key
Row = tuple[str, str, VersionsKey]
# the constraint dicts of a versions key (decoded where not read before): key, vulnerability id
Decode = Callable[[VersionsKey, str], tuple[dict[str, Any], ...]]
# the stored plain readings (``plain.to_json``) of reading ids
FetchReadings = Callable[[list[int]], dict[int, str]]


# verdicts kept per reading of versions, for the versions last asked
KEPT_VERDICTS = 32


class ReadVersions:
    """An entry's published versions with its default status, read once, and the verdicts
    of the versions last asked of them (no version at all among them). One object per
    reading: compared and hashed by identity. ``plain``: the versions as ``plain`` judges
    them (None: only ``status.judge`` can); ``status.judge`` reads ``constraints``, prepared
    when first needed where ``prepare`` is given instead."""

    __slots__ = ("_constraints", "_source", "_verdicts", "default_status", "plain", "span")

    def __init__(
        self,
        constraints: tuple[verdicts.Constraint, ...] | None,
        default_status: str,
        span: verdicts.Span | None,
        plain: PlainReading | None = None,
        source: tuple[Decode, VersionsKey, str] | None = None,
    ) -> None:
        self._constraints = constraints
        # where constraints are not given: how to read them (decode, key, vulnerability id),
        # kept as data rather than a closure (one object, not four, per reading)
        self._source = source
        self.default_status = default_status
        self.span = span
        self.plain = plain
        self._verdicts: dict[str | None, verdicts.Verdict] = {}

    @property
    def constraints(self) -> tuple[verdicts.Constraint, ...]:
        if self._constraints is None:
            assert self._source is not None
            decode, key, vuln_id = self._source
            self._constraints = verdicts.prepare(decode(key, vuln_id))
        return self._constraints

    def verdict(self, version_text: str | None) -> verdicts.Verdict:
        known = self._verdicts.get(version_text)
        if known is None:
            if len(self._verdicts) >= KEPT_VERDICTS:
                self._verdicts.clear()
            known = self._judge(version_text)
            self._verdicts[version_text] = known
        return known

    def _judge(self, version_text: str | None) -> verdicts.Verdict:
        if self.plain is not None:
            if not version_text or not version_text.strip():
                return plain.judge_no_version(self.plain, self.default_status)
            version = plain.plain_version(version_text)
            if version is not None:
                return plain.judge(self.plain, self.default_status, version)
        return verdicts.judge(self.constraints, self.default_status, version_text)


class Group(NamedTuple):
    """The vulnerabilities (each named once for the product) that publish the same versions."""

    versions: ReadVersions
    vuln_ids: tuple[str, ...]


class VersionsRead:
    """Versions read once per distinct (versions key, default status): many entries
    publish the same ranges. Bounded: forgotten whole when it holds ``limit`` readings."""

    def __init__(self, limit: int = 200_000) -> None:
        self._known: dict[tuple[VersionsKey, str], ReadVersions] = {}
        self._limit = limit

    def read_all(
        self, entries: Iterable[Row], decode: Decode, fetch: FetchReadings
    ) -> list[tuple[str, ReadVersions]]:
        """Each entry's vulnerability id and reading; the stored readings of the reading
        ids not read before are fetched at once."""
        rows = list(entries)
        if len(self._known) + len(rows) >= self._limit:
            self._known.clear()
        known = self._known
        wanted = {
            key
            for _, default_status, key in rows
            if isinstance(key, int) and (key, default_status) not in known
        }
        stored = fetch(sorted(wanted)) if wanted else {}
        listed = []
        for vuln_id, default_status, key in rows:
            reading = known.get((key, default_status))
            if reading is None:
                kept = stored.get(key) if isinstance(key, int) else None
                reading = self._read(key, default_status, vuln_id, decode, kept)
                known[(key, default_status)] = reading
            listed.append((vuln_id, reading))
        return listed

    @staticmethod
    def _read(
        key: VersionsKey, default_status: str, vuln_id: str, decode: Decode, stored: str | None
    ) -> ReadVersions:
        """The reading of one versions key; ``stored``: its plain reading as the store keeps
        it, read instead of parsing the versions (None: none kept)."""
        reading = plain.from_json(stored) if stored is not None else None
        if reading is not None:
            return ReadVersions(
                None,
                default_status,
                reading.span(default_status),
                reading,
                (decode, key, vuln_id),
            )
        constraints = verdicts.prepare(decode(key, vuln_id))
        return ReadVersions(
            constraints,
            default_status,
            verdicts.affected_span(constraints, default_status),
            plain.plain_reading(constraints),
        )


class ProductRows:
    """The entries of one (vendor, product) name (``Row``s) in the store's order, grouped by
    versions."""

    def __init__(
        self,
        entries: Iterable[Row],
        read: VersionsRead,
        decode: Decode,
        fetch: FetchReadings = lambda _: {},
    ) -> None:
        listed = read.read_all(entries, decode, fetch)
        self.size = len(listed)
        named = Counter(vuln_id for vuln_id, _ in listed)
        # entries of a vulnerability named more than once, in order: always judged
        self.repeated = [(v, versions) for v, versions in listed if named[v] > 1]
        grouped: dict[ReadVersions, list[str]] = {}
        for vuln_id, versions in listed:
            if named[vuln_id] == 1:
                grouped.setdefault(versions, []).append(vuln_id)
        self.groups = [Group(versions, tuple(ids)) for versions, ids in grouped.items()]
        self._always: list[int] = []
        spans: list[tuple[verdicts.SpanBound, verdicts.SpanBound, int]] = []
        by_text: dict[str, list[int]] = defaultdict(list)
        for position, group in enumerate(self.groups):
            span = group.versions.span
            if span is None:
                self._always.append(position)
                continue
            spans.append((span.highest, span.lowest, position))
            for text in span.texts:
                by_text[text].append(position)
        # tuples: kept with the product, not tracked by the collector once it has seen them
        self._by_text = {text: tuple(positions) for text, positions in by_text.items()}
        spans.sort(key=lambda item: item[0])
        self._spans = spans
        self._highest = [highest for highest, _, _ in spans]

    def concerning(self, version_text: str | None) -> list[Group]:
        """The groups a query for ``version_text`` must judge, in their order; every other
        group would be judged "outside the affected versions"."""
        key = verdicts.span_key(version_text)
        if key is None or not self._spans:
            return self.groups
        picked = set(self._always)
        for _, lowest, position in self._spans[bisect_left(self._highest, key) :]:
            if lowest <= key:
                picked.add(position)
        picked.update(self._by_text.get(normalise(version_text or ""), ()))
        return [self.groups[position] for position in sorted(picked)]
