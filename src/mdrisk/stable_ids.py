"""Ids derived from what defines a finding, so that an edit elsewhere in the model leaves them
unchanged and an analyst's decision keyed by one survives it.

An id is a prefix and the first hex digits of a SHA-256 over the defining parts. Six digits
keep ids short; where two findings of one list would collide, both get longer digests until
they differ, which depends only on the two keys, never on list order.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence

DIGITS = 6


def _digest(parts: Sequence[str]) -> str:
    return hashlib.sha256("\x1f".join(parts).encode("utf-8")).hexdigest()


def stable_id(prefix: str, *parts: str, digits: int = DIGITS) -> str:
    return f"{prefix}-{_digest(parts)[:digits]}"


def stable_ids(prefix: str, keys: Iterable[Sequence[str]]) -> dict[tuple[str, ...], str]:
    """One id per distinct key; colliding keys lengthen their digests until they differ."""
    digests = {tuple(key): _digest(key) for key in keys}
    by_short: dict[str, list[tuple[str, ...]]] = {}
    for key, digest in digests.items():
        by_short.setdefault(digest[:DIGITS], []).append(key)
    ids: dict[tuple[str, ...], str] = {}
    for short, keys_here in by_short.items():
        if len(keys_here) == 1:
            ids[keys_here[0]] = f"{prefix}-{short}"
            continue
        digits = DIGITS
        while len({digests[key][:digits] for key in keys_here}) < len(keys_here):
            digits += 2
        for key in keys_here:
            ids[key] = f"{prefix}-{digests[key][:digits]}"
    return ids
