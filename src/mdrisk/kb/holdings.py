"""What a knowledge-base store holds, for the reader of a result: sources, dates, counts.

In: a ``kb.store.Store`` (its snapshots and record counts). Out: a ``KbHoldings`` naming every
importer with its files, records and import dates, the count of each record kind, and
whether a full CVE feed (NVD) is held — without one, a product that no record names is
"not covered", never "no known vulnerability".
"""

from __future__ import annotations

from typing import Protocol

from mdrisk.assessment.threats import KbHoldings, KbSource

# importers whose data can be a full feed of published CVEs, and how many records make it
# one (NVD held about 250,000 CVEs in 2024): a few NVD files are not a feed
COMPREHENSIVE_IMPORTERS = frozenset({"nvd"})
COMPREHENSIVE_MIN_RECORDS = 100_000


class _SnapshotLike(Protocol):
    importer: str
    imported: str
    documents: int


class _HoldingsSource(Protocol):
    def snapshots(self) -> list: ...

    def counts(self) -> dict[str, int]: ...


def holdings_of(store: _HoldingsSource) -> KbHoldings:
    by_importer: dict[str, list[_SnapshotLike]] = {}
    for snapshot in store.snapshots():
        by_importer.setdefault(snapshot.importer, []).append(snapshot)
    sources = [
        KbSource(
            importer=importer,
            files=len(snapshots),
            documents=sum(s.documents or 0 for s in snapshots),
            first_imported=min((s.imported for s in snapshots), default=""),
            last_imported=max((s.imported for s in snapshots), default=""),
        )
        for importer, snapshots in sorted(by_importer.items())
    ]
    return KbHoldings(
        sources=sources,
        counts=store.counts(),
        comprehensive=any(
            s.importer in COMPREHENSIVE_IMPORTERS and s.documents >= COMPREHENSIVE_MIN_RECORDS
            for s in sources
        ),
    )
