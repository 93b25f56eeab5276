"""How far controls lower one risk's exploitability when its attacks take different paths.

A risk groups attack scenarios of several kinds (false values, replay, model tampering, ...)
at one element. The attacker takes whichever kind the controls stop least, so a control
counts only along the kind it stops: replay protection does nothing for an attacker who
forges fresh values, and integrity does nothing against a replayed genuine message. The
reduction of the risk is the smallest reduction over its attack kinds (the weakest path),
capped by the policy; a control that stops every kind (``None``) counts on every path.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

ALL_KINDS = None


@dataclass(frozen=True)
class Credit:
    """One control's levels and the attack kinds it stops (``None``: every kind)."""

    levels: int
    stops: frozenset[str] | None


@dataclass(frozen=True)
class PathCredit:
    """The reduction, the attack kind that sets it, and each control's share of it."""

    total: int
    binding: str
    levels: tuple[int, ...]


def weakest_path(credits: Sequence[Credit], kinds: frozenset[str], cap: int) -> PathCredit:
    """The reduction along the least-protected attack kind, controls credited in order."""

    def along(kind: str | None) -> tuple[int, ...]:
        shares, total = [], 0
        for credit in credits:
            stops = credit.stops is ALL_KINDS or (kind is not None and kind in credit.stops)
            share = max(0, min(credit.levels, cap - total)) if stops else 0
            total += share
            shares.append(share)
        return tuple(shares)

    if not kinds:
        shares = along(None)
        return PathCredit(sum(shares), "", shares)
    by_kind = {kind: along(kind) for kind in sorted(kinds)}
    binding = min(by_kind, key=lambda kind: sum(by_kind[kind]))
    return PathCredit(sum(by_kind[binding]), binding, by_kind[binding])
