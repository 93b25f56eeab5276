"""The vendor alias table: which names mean the same company, and which companies are related.

In: the YAML table (default: the maintained ``mdrisk/data/vendor-aliases.yaml``). Out: an
``AliasTable`` that resolves any written vendor name to company ids — several for joint
advisories ("ENEA, Green Hills Software, ITRON, IP Infusion, and Wind River") — and says
whether two names are the same company, related (one owns or acquired the other) or unrelated.
A malformed table is refused with an ``InputError`` naming the file and the entry.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mdrisk.errors import InputError, Problem
from mdrisk.kb.matching.names import loose_vendor_key, vendor_key, vendor_words
from mdrisk.parsing.source import SourceDocument, parse_document, read_text

SAME = "alias"
RELATED = "related"

_SPLIT = re.compile(r"\s*(?:,|;|/|\band\b|&)\s*", re.IGNORECASE)
_NO_VENDOR = {"", "na", "n/a", "none", "unknown", "unspecified", "-", "*", "various", "multiple"}
UNKNOWN_PREFIX = "?"  # ids of vendors the table does not know: "?" + their key


@dataclass(frozen=True)
class VendorGroup:
    id: str
    name: str
    aliases: tuple[str, ...] = ()
    part_of: tuple[str, ...] = ()
    note: str = ""


@dataclass(frozen=True)
class VendorLink:
    """How a query's vendor agrees with an entry's: ``kind`` is SAME or RELATED."""

    kind: str
    query_id: str
    entry_id: str


def _problem(path: str, message: str, record: str, fix: str = "") -> InputError:
    return InputError(path, [Problem(message, field=record, fix=fix)])


def _strings(value: Any, path: str, record: str, key: str) -> tuple[str, ...]:
    if value is None:
        return ()
    if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
        raise _problem(
            path, f"'{key}' must be a list of names", record, fix=f"write {key}: [Name, Other Name]"
        )
    return tuple(v.strip() for v in value)


class AliasTable:
    def __init__(self, groups: Iterable[VendorGroup], source: str = "") -> None:
        self.groups: dict[str, VendorGroup] = {}
        self._by_key: dict[str, str] = {}
        self._by_loose: dict[str, set[str]] = {}
        self._resolved: dict[str, frozenset[str]] = {}
        for group in groups:
            self.groups[group.id] = group
            for name in (group.name, *group.aliases):
                key = vendor_key(name)
                if not key:
                    continue
                owner = self._by_key.get(key)
                if owner is not None and owner != group.id:
                    raise _problem(
                        source or "vendor aliases",
                        f"'{name}' is listed for both '{owner}' and '{group.id}'",
                        f"vendors.{group.id}",
                        fix="keep each name in one entry",
                    )
                self._by_key[key] = group.id
                self._by_loose.setdefault(loose_vendor_key(name), set()).add(group.id)
        for group in self.groups.values():
            for parent in group.part_of:
                if parent not in self.groups:
                    raise _problem(
                        source or "vendor aliases",
                        f"part_of names '{parent}', which is not an id in the table",
                        f"vendors.{group.id}",
                        fix="use the id of another entry",
                    )
        self._related = self._relations()

    @classmethod
    def load(cls, path: Path | str) -> AliasTable:
        """The user's table at ``path`` (the maintained one comes from ``mdrisk.bundled``)."""
        return cls.from_text(read_text(Path(path)), str(path))

    @classmethod
    def from_text(cls, text: str, source: str) -> AliasTable:
        return cls.from_document(parse_document(text, source))

    @classmethod
    def from_document(cls, document: SourceDocument) -> AliasTable:
        """The table of a parsed document (no aliases or tags, nesting bounded)."""
        source, data = document.file, document.data
        if not isinstance(data, dict) or not isinstance(data.get("vendors"), list):
            raise _problem(
                source,
                "the table must be a mapping with a 'vendors' list",
                "vendors",
                fix="start the file with 'vendors:' and list entries under it",
            )
        groups: list[VendorGroup] = []
        seen: set[str] = set()
        for index, entry in enumerate(data["vendors"]):
            record = f"vendors[{index}]"
            if not isinstance(entry, dict):
                raise _problem(
                    source,
                    "each vendor must be a mapping",
                    record,
                    fix="write '- id: ...' and 'name: ...'",
                )
            name = entry.get("name")
            if not isinstance(name, str) or not name.strip():
                raise _problem(source, "a vendor needs a 'name'", record)
            group_id = entry.get("id", vendor_key(name))
            if not isinstance(group_id, str) or not re.fullmatch(r"[a-z0-9_]+", group_id):
                raise _problem(
                    source, f"id '{group_id}' must be lower-case letters, digits and '_'", record
                )
            if group_id in seen:
                raise _problem(source, f"id '{group_id}' is used twice", record)
            seen.add(group_id)
            unknown = set(entry) - {"id", "name", "aliases", "part_of", "note"}
            if unknown:
                raise _problem(
                    source,
                    f"unknown key(s): {', '.join(sorted(unknown))}",
                    f"vendors.{group_id}",
                    fix="use id, name, aliases, part_of, note",
                )
            groups.append(
                VendorGroup(
                    group_id,
                    name.strip(),
                    _strings(entry.get("aliases"), source, f"vendors.{group_id}", "aliases"),
                    _strings(entry.get("part_of"), source, f"vendors.{group_id}", "part_of"),
                    str(entry.get("note") or ""),
                )
            )
        return cls(groups, source)

    def _relations(self) -> dict[str, frozenset[str]]:
        """Each id with its owners (transitively: Welch Allyn -> Hillrom -> Baxter) and
        everything it owns; siblings under one owner are not related to each other."""
        ancestors = {gid: self._ancestors(gid) for gid in self.groups}
        related = {gid: set(found) for gid, found in ancestors.items()}
        for gid, found in ancestors.items():
            for owner in found:
                related[owner].add(gid)
        return {gid: frozenset(found) for gid, found in related.items()}

    def _ancestors(self, gid: str) -> set[str]:
        found, frontier = set(), [gid]
        while frontier:
            for parent in self.groups[frontier.pop()].part_of:
                if parent not in found and parent != gid:
                    found.add(parent)
                    frontier.append(parent)
        return found

    # --- resolving names -------------------------------------------------------------------

    def _lookup(self, name: str) -> str | None:
        key = vendor_key(name)
        if not key:
            return None
        if key in self._by_key:
            return self._by_key[key]
        loose = self._by_loose.get(loose_vendor_key(name))
        if loose and len(loose) == 1:
            return next(iter(loose))
        return None

    def resolve(self, name: str | None) -> frozenset[str]:
        """Company ids for a written vendor name; unknown companies get "?" + their key."""
        name = name or ""
        found = self._resolved.get(name)
        if found is None:
            found = self._resolve_uncached(name)
            if len(self._resolved) < 100_000:
                self._resolved[name] = found
        return found

    def _resolve_uncached(self, name: str) -> frozenset[str]:
        name = name.strip()
        if name.casefold() in _NO_VENDOR or not vendor_key(name):
            return frozenset()
        found = self._lookup(name)
        if found:
            return frozenset({found})
        inner_ids = {
            found for found in map(self._lookup, re.findall(r"\(([^()]*)\)", name)) if found
        }
        outer = re.sub(r"\s*\([^()]*\)", " ", name).strip()
        outer_id = self._lookup(outer) if outer else None
        if outer_id:
            return frozenset(inner_ids | {outer_id})
        parts = [p for p in _SPLIT.split(outer) if p and vendor_key(p)]
        ids = set(inner_ids)
        if len(parts) > 1:
            for part in parts:
                part_id = self._lookup(part)
                if part_id:
                    ids.add(part_id)
                elif not inner_ids:
                    ids.add(UNKNOWN_PREFIX + loose_vendor_key(part))
        return frozenset(ids or {UNKNOWN_PREFIX + loose_vendor_key(name)})

    def link(self, query_ids: frozenset[str], entry_ids: frozenset[str]) -> VendorLink | None:
        """How the two sets of company ids agree: the same company first, else related."""
        for qid in sorted(query_ids):
            if qid in entry_ids:
                return VendorLink(SAME, qid, qid)
        for qid in sorted(query_ids):
            for eid in sorted(entry_ids):
                if eid in self._related.get(qid, ()):
                    return VendorLink(RELATED, qid, eid)
        return None

    def related_ids(self, gid: str) -> frozenset[str]:
        return self._related.get(gid, frozenset())

    def display(self, gid: str) -> str:
        group = self.groups.get(gid)
        return group.name if group else gid.lstrip(UNKNOWN_PREFIX)

    def phrases(self, gid: str) -> tuple[tuple[str, ...], ...]:
        """The word sequences naming a company (to strip from product names: "BD Pyxis ...")."""
        group = self.groups.get(gid)
        names = (group.name, *group.aliases) if group else (gid.lstrip(UNKNOWN_PREFIX),)
        found: set[tuple[str, ...]] = set()
        for name in names:
            words = tuple(vendor_words(re.sub(r"\s*\([^()]*\)", " ", name)))
            if words:
                found.add(words)
        return tuple(sorted(found))

    def names(self) -> dict[str, str]:
        """Every known vendor key -> company id (for finding vendors inside free text)."""
        return dict(self._by_key)
