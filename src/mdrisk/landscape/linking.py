"""Tie adverse events, recalls and advisories to AI-enabled devices and their makers.

Three ways, strongest first:

- ``submission``: the record names the device's K/DEN/P number (normalised; a PMA
  supplement P140011/S008 is cited as P140011);
- ``maker+product code``: the record's product code is the device's and its maker is the
  same company (names normalised with the vendor alias table, ``kb/matching/aliases.py``
  and ``data/vendor-aliases.yaml``: "GE Medical Systems, LLC" = "GE HealthCare"). A maker
  with several AI devices in one product code links to all of them ("candidates");
- nothing else: a product code alone says only that the record is about the same kind of
  device, so it is never counted as a link to a device.

Company ids come from ``AliasTable.resolve``: a known company's id, or "?" + a loose key of
the name for one the table does not know, so two spellings of an unknown maker still meet.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from mdrisk.kb.matching.aliases import RELATED, AliasTable
from mdrisk.landscape.records import AIDevice

SUBMISSION = "submission"
MAKER_CODE = "maker+product code"


@dataclass(frozen=True)
class DeviceLink:
    kind: str  # SUBMISSION | MAKER_CODE
    submissions: tuple[str, ...]  # the AI devices (their submission ids)


class DeviceIndex:
    """The AI-enabled devices by link key, and by (product code, company)."""

    def __init__(self, devices: list[AIDevice], aliases: AliasTable) -> None:
        self.aliases = aliases
        self.by_key: dict[str, list[AIDevice]] = defaultdict(list)
        self.by_code_company: dict[tuple[str, str], list[AIDevice]] = defaultdict(list)
        for device in devices:
            self.by_key[device.link_key].append(device)
            for company in self.companies(device.company):
                self.by_code_company[(device.product_code, company)].append(device)

    def companies(self, name: str) -> frozenset[str]:
        return self.aliases.resolve(name)

    def link(
        self, submissions: list[str], product_codes: list[str], makers: list[str]
    ) -> DeviceLink | None:
        """How a record (citing ``submissions`` link keys, ``product_codes`` and ``makers``)
        ties to AI devices, or None."""
        named = sorted(
            {device.submission for key in submissions for device in self.by_key.get(key, [])}
        )
        if named:
            return DeviceLink(SUBMISSION, tuple(named))
        companies = {company for maker in makers for company in self.companies(maker)}
        candidates = sorted(
            {
                device.submission
                for code in product_codes
                for company in companies
                for device in self.by_code_company.get((code, company), [])
            }
        )
        if candidates:
            return DeviceLink(MAKER_CODE, tuple(candidates))
        return None


def company_relation(
    aliases: AliasTable, first: frozenset[str], second: frozenset[str]
) -> tuple[str, str, str] | None:
    """("same company" | "related", id in first, id in second) or None."""
    found = aliases.link(first, second)
    if found is None:
        return None
    return ("related" if found.kind == RELATED else "same company", found.query_id, found.entry_id)
