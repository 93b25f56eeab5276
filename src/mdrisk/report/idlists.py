"""Lists of finding ids, sorted as people count and written compactly ("LS-1–LS-24, LS-30")."""

from __future__ import annotations

import re
from collections.abc import Iterable

_NUMBERED = re.compile(r"^(.*?)(\d+)$")


def natural_key(identifier: str) -> tuple[str, int, str]:
    """``LS-9`` before ``LS-10``; ids without a trailing number sort by text."""
    match = _NUMBERED.match(identifier)
    if match is None:
        return identifier, -1, identifier
    return match.group(1), int(match.group(2)), identifier


def sorted_ids(ids: Iterable[str]) -> list[str]:
    return sorted(set(ids), key=natural_key)


def id_ranges(ids: Iterable[str]) -> str:
    """Runs of consecutive ids of one prefix as ``first–last``; every id stays recoverable."""
    parts: list[str] = []
    run: list[tuple[str, int, str]] = []

    def close() -> None:
        if not run:
            return
        if len(run) >= 3:
            parts.append(f"{run[0][2]}–{run[-1][2]}")
        else:
            parts.extend(item[2] for item in run)
        run.clear()

    for identifier in sorted_ids(ids):
        prefix, number, _ = key = natural_key(identifier)
        if run and not (number >= 0 and run[-1][0] == prefix and run[-1][1] + 1 == number):
            close()
        run.append(key)
        if number < 0:
            close()
    close()
    return ", ".join(parts)
