"""The attack vector of a device as deployed: who can reach the entry at all.

The medical-device rubric scores a channel's base attack vector from its protocol: anything
that carries IP is Network, even on a segmented hospital network, because "a deployment that
isolates it is expressed with the environmental metric MAV" (its AV-2 guidance; FIRST CVSS
3.1, section 4.2). The attacker profiles that reach an entry say how it is deployed: when the
best placed of them must already be on the ward or hospital network (adjacent), on the host
or at the device, a routable channel's exploitability is read with the modified attack vector
Adjacent (never narrower: a profile's rules may miss a radio or a port the channel has). An
entry no attacker profile reaches, or one an internet attacker reaches, keeps its base vector.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from mdrisk.risk.cvss_scores import metric_values
from mdrisk.risk.targets import Attacker

# CVSS attack vectors from the narrowest to the widest, by attacker-profile access vector.
_ORDER = ("P", "L", "A", "N")
_LETTER = {"physical": "P", "local": "L", "adjacent": "A", "network": "N"}


@dataclass(frozen=True)
class DeployedVector:
    vector: str  # the base vector with MAV added
    letter: str
    who: str  # the attackers that reach the entry, e.g. "network (adjacent)"


def deployment_vector(vector: str, attackers: Sequence[Attacker]) -> DeployedVector | None:
    """The CVSS 3.x vector with the deployment's MAV, or None when it is no narrower than
    the base attack vector (or nobody known reaches the entry)."""
    letters = [_LETTER[a.access_vector] for a in attackers if a.access_vector in _LETTER]
    if not letters or not vector.startswith("CVSS:3"):
        return None
    widest = max(letters, key=_ORDER.index)
    written = metric_values(vector)
    if "MAV" in written or written.get("AV") != "N" or widest == "N":
        return None
    # Narrowed to the local network at most: that a profile's rules miss a radio or a port
    # the channel has is no reason to call it physical.
    widest = "A"
    who = ", ".join(f"{a.id} ({a.access_vector})" for a in sorted(attackers, key=lambda a: a.id))
    return DeployedVector(f"{vector}/MAV:{widest}", widest, who)
