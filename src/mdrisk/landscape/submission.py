"""FDA submission numbers: 510(k) K, De Novo DEN and PMA P numbers, found and normalised.

"k 252054", "K-252054", '=HYPERLINK("...pmn.cfm?ID=K252054", "K252054")' -> K252054;
"P140011/S008" -> P140011 with supplement S008 (records about a PMA device cite the base
number, so links use ``link_key``). BK/BP (CBER) numbers are read too.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_NUMBER = re.compile(r"^(DEN|BK|BP|K|P)\s*-?\s*(\d{6})(?:\s*/\s*(S\d{1,4}))?$", re.I)
_HYPERLINK = re.compile(r'^=HYPERLINK\(\s*"([^"]*)"\s*,\s*"([^"]*)"\s*\)$', re.I)
PATHWAYS = {"K": "510(k)", "BK": "510(k)", "DEN": "De Novo", "P": "PMA", "BP": "PMA"}


@dataclass(frozen=True)
class Submission:
    prefix: str  # K, DEN, P, BK, BP
    digits: str
    supplement: str | None = None

    @property
    def id(self) -> str:
        base = self.link_key
        return f"{base}/{self.supplement}" if self.supplement else base

    @property
    def link_key(self) -> str:
        return f"{self.prefix}{self.digits}"

    @property
    def pathway(self) -> str:
        return PATHWAYS[self.prefix]


def written_number(text: str) -> str:
    """The number as written: the shown text of an Excel HYPERLINK, else ``text``."""
    value = text.strip()
    link = _HYPERLINK.match(value)
    return link.group(2).strip() if link else value


def parse_submission(text: str) -> Submission | None:
    """The submission number ``text`` holds (plain or as an Excel HYPERLINK), or None."""
    found = _NUMBER.match(written_number(text))
    if not found:
        return None
    supplement = found.group(3).upper() if found.group(3) else None
    return Submission(found.group(1).upper(), found.group(2), supplement)


def link_keys(values: list[str] | tuple[str, ...]) -> list[str]:
    """The sorted link keys of every readable submission number among ``values``."""
    keys = {parsed.link_key for parsed in map(parse_submission, values) if parsed}
    return sorted(keys)
