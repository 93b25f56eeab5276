"""The device's own security controls as the model states them, and the mitigations the
knowledge base recommends for each threat.

Channel protections are named after the control categories of the FDA premarket guidance
(Appendix 1: authentication, cryptography, code/data/execution integrity).
"""

from __future__ import annotations

from dataclasses import dataclass

from mdrisk.assessment import Assessment
from mdrisk.assessment.threats import ElementThreat
from mdrisk.model.schema import DeviceModel, Link
from mdrisk.report.idlists import sorted_ids

PROTECTIONS = ("authentication", "encryption", "integrity", "replay_protection")
CONTROL_CATEGORY = {
    "authentication": "Authentication",
    "encryption": "Cryptography (confidentiality)",
    "integrity": "Code, data and execution integrity",
    "replay_protection": "Integrity (replay protection)",
}


def protections_of(link: Link) -> list[str]:
    """The protections a link's channel has, by field name, in a fixed order."""
    shield = link.channel.protections
    return [name for name in PROTECTIONS if getattr(shield, name)]


def external_links(assessment: Assessment, element: str) -> list[Link]:
    """Links into or out of a component that cross a channel (not in-process, not physical);
    for a link, the link itself."""
    index = _links_by_element(assessment.device)
    own = index.by_id.get(element)
    if own is not None:
        return [own]
    return [
        link
        for link in index.of.get(element, [])
        if link.channel.technology is not None and not link.channel.in_process
    ]


@dataclass(frozen=True)
class _LinkIndex:
    by_id: dict[str, Link]
    of: dict[str, list[Link]]  # component id -> its links, in model order


_last_index: list[tuple[DeviceModel, _LinkIndex]] = []


def _links_by_element(device: DeviceModel) -> _LinkIndex:
    """The model's links by id and by the components they join (a report asks for every
    element of one model, so the last model's index is kept)."""
    if _last_index and _last_index[0][0] is device:
        return _last_index[0][1]
    index = _LinkIndex({link.id: link for link in device.links}, device.links_by_component())
    _last_index[:] = [(device, index)]
    return index


def controls_in_place(assessment: Assessment, element: str) -> list[str]:
    """``"authentication (advisor_to_pump)"``, ...: what protects the element's channels."""
    found = []
    for link in external_links(assessment, element):
        for name in protections_of(link):
            found.append(f"{name.replace('_', ' ')} ({link.id})")
    return found


def recommended_mitigations(threat: ElementThreat) -> list[str]:
    """ATT&CK (ICS, Enterprise) and ATLAS mitigation ids the pack rules recommend."""
    ids: list[str] = []
    for finding in threat.pack_rules:
        mitigations = finding.mitigations
        ids += mitigations.attack_ics + mitigations.attack_enterprise + mitigations.atlas
    return sorted_ids(ids)
