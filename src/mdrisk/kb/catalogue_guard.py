"""A catalogue release (CWE, CAPEC, ATT&CK, ATLAS, KEV, EPSS) replaces the stored one as a
whole, so a smaller file would silently drop entries: a cut download, a one-entry test file, a
view instead of the catalogue. Such an import is refused, naming what it would drop (records
of a kind, or relations of a kind: weakness hierarchy, attack patterns, mitigations), unless
the user says ``--replace``."""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable, Mapping, Set

from mdrisk.errors import Problem
from mdrisk.kb.records import ImportBatch
from mdrisk.kb.store import Store

EXAMPLES = 5
# what one document holds: record ids by kind, (src, dst) pairs by kind of relation
_Held = tuple[dict[str, set[str]], dict[str, set[tuple[str, str]]]]


def _examples(ids: Iterable[str]) -> str:
    chosen = sorted(ids)
    more = f", … {len(chosen) - EXAMPLES:,} more" if len(chosen) > EXAMPLES else ""
    return ", ".join(chosen[:EXAMPLES]) + more


def relation_pairs(batch: ImportBatch) -> dict[str, set[tuple[str, str]]]:
    found: dict[str, set[tuple[str, str]]] = {}
    for relation in batch.relations:
        found.setdefault(relation.rel, set()).add((relation.src, relation.dst))
    return found


def _shrinking(
    held: Mapping[str, Set[Hashable]],
    incoming: Mapping[str, Set[Hashable]],
    what: str,
    origin: str,
    shown: Callable[[Hashable], str],
) -> list[Problem]:
    problems = []
    for kind, held_items in sorted(held.items()):
        new = incoming.get(kind, set())
        if len(new) >= len(held_items):
            continue
        dropped = held_items - new
        problems.append(
            Problem(
                f"holds {len(new):,} {kind} {what}(s) where the knowledge base holds "
                f"{len(held_items):,} (from {origin}): importing it would drop "
                f"{len(dropped):,} ({_examples(shown(item) for item in dropped)})",
                fix="check that the file is a whole release; give --replace to import it anyway",
            )
        )
    return problems


def _pair(item: Hashable) -> str:
    src, dst = item if isinstance(item, tuple) else (item, "")
    return f"{src} -> {dst}"


def record_ids(batch: ImportBatch) -> dict[str, set[str]]:
    found: dict[str, set[str]] = {}
    for record in batch.records:
        found.setdefault(record.kind, set()).add(record.id)
    return found


class ShrinkGuard:
    """Compares each catalogue batch of one import with what it would replace: the batch of
    the same document imported just before it in this import, else the stored copy."""

    def __init__(self, store: Store) -> None:
        self._store = store
        self._earlier: dict[str, tuple[_Held, str]] = {}

    def problems(self, batch: ImportBatch, file_name: str) -> list[Problem]:
        """One problem per kind of record, and per kind of relation, of which ``batch``
        holds fewer than what it replaces; none when nothing is replaced. Remembers
        ``batch`` for the next file."""
        incoming = (record_ids(batch), relation_pairs(batch))
        if batch.source_key in self._earlier:
            held, origin = self._earlier[batch.source_key]
        else:
            held = (
                self._store.document_ids(batch.source_key),
                self._store.document_relations(batch.source_key),
            )
            origin = self._store.document_file(batch.source_key) or "an earlier import"
        self._earlier[batch.source_key] = (incoming, f"{file_name}, earlier in this import")
        return _shrinking(held[0], incoming[0], "record", origin, str) + _shrinking(
            held[1], incoming[1], "relation", origin, _pair
        )
