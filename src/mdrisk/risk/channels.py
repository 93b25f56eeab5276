"""How an attacker reaches an element: the channel kinds of a link or a component.

The technology pack recognises a channel's technology (Bluetooth LE, HTTPS, USB, a
touchscreen); its family says whether the traffic is routable, wireless, short-range, or
needs a hand on the device. A component is as reachable as the most remote channel it
speaks on, or the networked platform it runs on (a phone OS, a cloud).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from mdrisk.kb.pack import TechnologyPack
from mdrisk.model.schema import Component, DeviceModel, Link, Technology

# Reach, from the least to the most remote (the CVSS attack vector it stands for).
CONTACT, LOCAL, NEAR, WIRED, ADJACENT, NETWORK = (
    "contact",
    "local",
    "near",
    "wired",
    "adjacent",
    "network",
)
_RANK = {CONTACT: 0, LOCAL: 1, NEAR: 1, WIRED: 1, ADJACENT: 2, NETWORK: 3}

_IP_RADIOS = {"wifi", "cellular"}
_SHORT_RADIOS = {"nfc"}
_PORTS = {"usb", "debug_port"}
# Platforms that put a component on a network whatever its links say.
_NETWORKED_CATEGORIES = {
    "mobile_os",
    "host_os",
    "cloud",
    "ml_serving",
    "database",
    "container",
    "network",
}


@dataclass(frozen=True)
class Channel:
    """One way in: ``reach`` is one of contact, local, near, wired, adjacent, network."""

    element: str
    technology: str
    reach: str
    through_ui: bool = False  # contact through the operators' interface (not a port)

    @property
    def rank(self) -> int:
        return _RANK[self.reach]

    def describe(self) -> str:
        return f"{self.technology} ({self.element})"


def _label(technology: Technology) -> str:
    return " ".join(part for part in (technology.name, technology.version) if part)


def _reach_of(families: list, in_process: bool) -> tuple[str, bool] | None:
    if in_process:
        return LOCAL, False
    found: list[tuple[str, bool]] = []
    for family in families:
        if family.category in ("network", "cloud", "ml_serving") or family.id in _IP_RADIOS:
            found.append((NETWORK, False))
        elif family.id in _SHORT_RADIOS:
            found.append((NEAR, False))
        elif family.category == "wireless":
            found.append((ADJACENT, False))
        elif family.id in _PORTS or family.category == "local_port":
            found.append((CONTACT, False))
        elif family.category == "wired":
            found.append((WIRED, False))
        elif family.category == "human_input":
            found.append((CONTACT, True))
        elif family.category == "in_process":
            found.append((LOCAL, False))
    if not found:
        return None
    return max(found, key=lambda item: _RANK[item[0]])


def link_channel(link: Link, pack: TechnologyPack) -> Channel | None:
    """The channel of a link, or None when the model names no technology the pack knows."""
    technology = link.channel.technology
    if link.channel.in_process:
        return Channel(link.id, _label(technology) if technology else "in-process call", LOCAL)
    if technology is None:
        return None
    reach = _reach_of(pack.families_of(technology), False)
    if reach is None:
        return None
    return Channel(link.id, _label(technology), reach[0], through_ui=reach[1])


def component_channel(
    component: Component,
    model: DeviceModel,
    pack: TechnologyPack,
    links: Sequence[Link] | None = None,
) -> Channel | None:
    """The most remote way into a component: its links' channels and its platforms.
    ``links``: the component's own links, when the caller has them indexed (else every
    link of the model is looked through)."""
    candidates: list[Channel] = []
    own = links if links is not None else model.links
    for link in own:
        if component.id in (link.source, link.target):
            channel = link_channel(link, pack)
            if channel is not None:
                candidates.append(channel)
    for technology in component.technologies:
        families = pack.families_of(technology)
        if any(f.category in _NETWORKED_CATEGORIES for f in families):
            candidates.append(Channel(component.id, _label(technology), NETWORK))
    if not candidates:
        return None
    # Ties keep model order, so the answer names the first channel the model lists.
    best = max(candidates, key=lambda c: c.rank)
    return best
