"""Who can reach an element at all: the attacker profiles whose reach rules hold there.

Risks that no attack scenario stands for (reading data where it passes, a control path, a
known vulnerability) have no scenario attackers; their attackers are the profiles that reach
their element, found with the same rules the scenario stage uses (``scenarios.reach``).
"""

from __future__ import annotations

from collections.abc import Callable

from mdrisk.assessment import Assessment
from mdrisk.kb.pack import TechnologyPack
from mdrisk.risk.targets import Attacker
from mdrisk.scenarios.data import ProfileSet
from mdrisk.scenarios.reach import FactsBuilder, reach_reason

AttackersAt = Callable[[str], tuple[Attacker, ...]]


def attackers_at(assessment: Assessment, pack: TechnologyPack, profiles: ProfileSet) -> AttackersAt:
    """A lookup: element id -> the profiles that reach it (none for an unknown element)."""
    device = assessment.device
    known = {c.id for c in device.components} | {link.id for link in device.links}
    facts = FactsBuilder(device, pack, assessment.fdi_points)
    found: dict[str, tuple[Attacker, ...]] = {}

    def lookup(element: str) -> tuple[Attacker, ...]:
        if element not in known:
            return ()
        if element not in found:
            found[element] = tuple(
                Attacker(p.id, p.access_vector, float(p.reach_score))
                for p in sorted(profiles.profiles, key=lambda p: p.id)
                if reach_reason(p, facts[element]) is not None
            )
        return found[element]

    return lookup
