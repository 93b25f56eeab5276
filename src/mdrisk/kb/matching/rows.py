"""One product's affected entries, read once, and which of them a queried version concerns.

A name that recurs in thousands of records (a kernel, a browser, an RTOS) would have every
entry judged for every query. Entries are grouped by their published versions (read once per
distinct stored text and default status, ``VersionsRead``): a group is judged once per query
and answers for all its vulnerabilities. A group with a ``verdicts.Span`` is judged "outside
the affected versions" for any version outside it, so a query with such a version skips it;
the groups left are found by bisection on the spans' upper ends. A vulnerability named more
than once for the product keeps its entries apart, in the store's order (the matcher weighs
one against the other).
"""

from __future__ import annotations

from bisect import bisect_left
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from mdrisk.kb.matching import status as verdicts
from mdrisk.kb.matching.versions import normalise

# the versions a stored text holds (decoded where not read before): text, vulnerability id
Decode = Callable[[str, str], tuple[dict[str, Any], ...]]


# verdicts kept per reading of versions, for the versions last asked
KEPT_VERDICTS = 32


@dataclass(frozen=True, eq=False)  # one object per reading: compared and hashed by identity
class ReadVersions:
    """An entry's published versions with its default status, read once, and the verdicts
    of the versions last asked of them (no version at all among them)."""

    constraints: tuple[verdicts.Constraint, ...]
    default_status: str
    span: verdicts.Span | None
    _verdicts: dict[str | None, verdicts.Verdict] = field(default_factory=dict, repr=False)

    def verdict(self, version_text: str | None) -> verdicts.Verdict:
        known = self._verdicts.get(version_text)
        if known is None:
            if len(self._verdicts) >= KEPT_VERDICTS:
                self._verdicts.clear()
            known = verdicts.judge(self.constraints, self.default_status, version_text)
            self._verdicts[version_text] = known
        return known


@dataclass(frozen=True)
class Group:
    """The vulnerabilities (each named once for the product) that publish the same versions."""

    versions: ReadVersions
    vuln_ids: tuple[str, ...]


class VersionsRead:
    """Versions read once per distinct (stored JSON text, default status): many entries
    publish the same ranges. Bounded: forgotten whole when it holds ``limit`` readings."""

    def __init__(self, limit: int = 200_000) -> None:
        self._known: dict[tuple[str, str], ReadVersions] = {}
        self._limit = limit

    def read(self, text: str, default_status: str, vuln_id: str, decode: Decode) -> ReadVersions:
        key = (text, default_status)
        known = self._known.get(key)
        if known is None:
            if len(self._known) >= self._limit:
                self._known.clear()
            constraints = verdicts.prepare(decode(text, vuln_id))
            known = ReadVersions(
                constraints, default_status, verdicts.affected_span(constraints, default_status)
            )
            self._known[key] = known
        return known


class ProductRows:
    """The entries of one (vendor, product) name: ``(vulnerability id, default status,
    versions as stored)`` in the store's order, grouped by versions."""

    def __init__(
        self, entries: Iterable[tuple[str, str, str]], read: VersionsRead, decode: Decode
    ) -> None:
        listed = [
            (vuln_id, read.read(text, default_status, vuln_id, decode))
            for vuln_id, default_status, text in entries
        ]
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
        self._by_text: dict[str, list[int]] = defaultdict(list)
        for position, group in enumerate(self.groups):
            span = group.versions.span
            if span is None:
                self._always.append(position)
                continue
            spans.append((span.highest, span.lowest, position))
            for text in span.texts:
                self._by_text[text].append(position)
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
