"""Rubric answers read off the device model, where the model says them.

Each rule takes the facts of one target (:class:`Facts`) and returns an answer with the
reason, or None when the model does not say (the question then goes to the analyst, or to
its worst case). The rubric names these rules in its ``derive`` fields; a name not in
:data:`RULES` is refused when the rubric is loaded.

``credit_controls`` off reads every channel as if it had no protection: the attack as it
would be without the device's security controls, for the initial risk rating.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property

from mdrisk.assessment.risk import SeverityRating
from mdrisk.kb.pack import TechnologyPack
from mdrisk.model.schema import (
    Component,
    ComponentKind,
    DeviceModel,
    Link,
    LinkKind,
    Protections,
    SignalNature,
)
from mdrisk.risk import channels
from mdrisk.risk.targets import RiskTarget
from mdrisk.stpa.signed import declared_natures

SEVERITY_ORDER = ("negligible", "minor", "serious", "critical", "catastrophic")
_PEOPLE_AND_BODIES = {ComponentKind.human, ComponentKind.controlled_process}
_MANY_PATIENTS = {ComponentKind.cloud, ComponentKind.ehr, ComponentKind.storage}
_ONE_PATIENT = {ComponentKind.sensor, ComponentKind.actuator}


class DeviceFacts:
    """The device model with lookups the rules share (channels are classified once)."""

    def __init__(self, model: DeviceModel, pack: TechnologyPack) -> None:
        self.model = model
        self.pack = pack
        self.components = {c.id: c for c in model.components}
        self.links = {link.id: link for link in model.links}
        self.links_of = model.links_by_component()
        self.data_use = {use.strip().lower() for use in model.device.data_use}
        self._channels: dict[str, channels.Channel | None] = {}

    @cached_property
    def natures(self) -> dict[str, SignalNature]:
        """Each signal's declared nature (``stpa.signed.declared_natures``), read once."""
        return declared_natures(self.model)

    def channel(self, element: str) -> channels.Channel | None:
        if element not in self._channels:
            if element in self.links:
                found = channels.link_channel(self.links[element], self.pack)
            elif element in self.components:
                found = channels.component_channel(
                    self.components[element],
                    self.model,
                    self.pack,
                    self.links_of.get(element, []),
                )
            else:
                found = None
            self._channels[element] = found
        return self._channels[element]


@dataclass(frozen=True)
class Facts:
    target: RiskTarget
    device: DeviceFacts
    severity: SeverityRating
    credit_controls: bool = True

    @cached_property
    def link(self) -> Link | None:
        return self.device.links.get(self.target.element)

    @cached_property
    def component(self) -> Component | None:
        return self.device.components.get(self.target.element)

    @cached_property
    def protections(self) -> Protections:
        if self.link is None or not self.credit_controls:
            return Protections()
        return self.link.channel.protections

    @cached_property
    def channel(self) -> channels.Channel | None:
        return self.device.channel(self.target.element)

    def kind_of(self, component_id: str) -> ComponentKind | None:
        component = self.device.components.get(component_id)
        return component.kind if component else None

    @property
    def is_person_or_body(self) -> bool:
        return self.component is not None and self.component.kind in _PEOPLE_AND_BODIES


Answer = tuple[str, str] | None
Rule = Callable[[Facts], Answer]


def _entry(facts: Facts) -> str:
    return f"{facts.target.element_type} {facts.target.element}"


# --- attack vector ---------------------------------------------------------------------------


def _reach(facts: Facts) -> channels.Channel | None:
    return None if facts.is_person_or_body else facts.channel


_AV_RANK = {"physical": 0, "local": 1, "adjacent": 2, "network": 3}


def _attacker_vector(facts: Facts) -> tuple[str, str] | None:
    """Where no channel of the model says how the element is reached (a person, a body),
    the most remote access vector among the attacker profiles of its scenarios."""
    known = [(a.access_vector, a.id) for a in facts.target.attackers if a.access_vector in _AV_RANK]
    if not known:
        return None
    vector, attacker = max(known, key=lambda item: (_AV_RANK[item[0]], item[1]))
    return vector, (
        f"no channel of the model reaches {_entry(facts)}; its most remote "
        f"attacker profile, {attacker}, acts with access vector {vector}"
    )


def _by_attacker(facts: Facts, answers: dict[str, str]) -> Answer:
    found = _attacker_vector(facts)
    if found is None or found[0] not in answers:
        return None
    return answers[found[0]], found[1]


def uses_channel(facts: Facts) -> Answer:
    channel = _reach(facts)
    if channel is None:
        return _by_attacker(
            facts, {"network": "yes", "adjacent": "yes", "local": "no", "physical": "no"}
        )
    if channel.reach in (channels.NETWORK, channels.ADJACENT, channels.NEAR, channels.WIRED):
        return "yes", f"{_entry(facts)} is reached over {channel.describe()}"
    what = "an in-process call" if channel.reach == channels.LOCAL else "input by hand"
    return "no", f"{_entry(facts)} is reached through {what}: {channel.describe()}"


def channel_is_ip(facts: Facts) -> Answer:
    channel = _reach(facts)
    if channel is None:
        return _by_attacker(facts, {"network": "yes", "adjacent": "no"})
    if channel.reach == channels.NETWORK:
        return "yes", f"{channel.describe()} carries routable (IP) traffic"
    return "no", f"{channel.describe()} is not an IP channel"


def channel_is_wireless(facts: Facts) -> Answer:
    channel = _reach(facts)
    if channel is None:
        # Adjacent means radio range or the same local network; either way not within reach
        # of a hand (the next question), so the flow ends at Adjacent.
        return _by_attacker(facts, {"adjacent": "yes"})
    if channel.reach in (channels.ADJACENT, channels.NEAR):
        return "yes", f"{channel.describe()} is a radio link"
    return "no", f"{channel.describe()} is wired"


def short_range_radio(facts: Facts) -> Answer:
    channel = _reach(facts)
    if channel is None:
        return _by_attacker(facts, {"adjacent": "no"})
    if channel.reach == channels.NEAR:
        return "yes", f"{channel.describe()} works only within centimetres"
    return "no", (
        f"{channel.describe()} reaches well beyond three metres (Bluetooth LE: tens "
        "of metres, more with a directional antenna)"
    )


def needs_physical_contact(facts: Facts) -> Answer:
    channel = _reach(facts)
    if channel is None:
        return _by_attacker(facts, {"physical": "yes", "local": "no"})
    if channel.reach == channels.CONTACT:
        return "yes", f"{channel.describe()} needs a hand on the device"
    if channel.reach == channels.LOCAL:
        return "no", (
            f"{channel.describe()}: the attacker needs code running on the device, not contact"
        )
    return None


def through_user_interface(facts: Facts) -> Answer:
    channel = _reach(facts)
    if channel is None or channel.reach != channels.CONTACT:
        return None
    if channel.through_ui:
        return "yes", f"{channel.describe()} is the operators' interface"
    return "no", f"{channel.describe()} is a port, not the operators' interface"


# --- complexity and privileges ---------------------------------------------------------------


def _shields(facts: Facts) -> list[str]:
    shield = facts.protections
    return [
        name.replace("_", " ")
        for name in ("authentication", "encryption", "integrity")
        if getattr(shield, name)
    ]


def at_will(facts: Facts) -> Answer:
    if facts.link is None:
        return None
    channel = facts.channel
    if facts.link.channel.in_process or (channel is not None and channel.through_ui):
        return "yes", f"nothing stands between an attacker and {_entry(facts)}"
    shield = facts.protections
    if shield.authentication:
        return "no", f"{_entry(facts)} authenticates its peer: the attacker must defeat that"
    if shield.encryption:
        return "no", (
            f"{_entry(facts)} is encrypted but not authenticated: the attacker must "
            "first take a man-in-the-middle position (e.g. while the devices pair)"
        )
    why = (
        "no protection is declared"
        if facts.credit_controls
        else "before controls: its protections are not credited"
    )
    return "yes", f"{_entry(facts)}: {why}, so the attacker can inject at any time"


def obstacle_kind(facts: Facts) -> Answer:
    if facts.link is None:
        return None
    shield = facts.protections
    if shield.authentication:
        return "defence", "authentication is a security measure to defeat"
    if shield.encryption:
        return "condition", "the man-in-the-middle position is a condition to wait for or set up"
    return None


def authenticates_peer(facts: Facts) -> Answer:
    if facts.link is None:
        return None
    if facts.protections.authentication:
        return "yes", f"{_entry(facts)} declares authentication"
    if facts.link.channel.in_process:
        return "no", f"{_entry(facts)} is an in-process call: nothing is authenticated"
    channel = facts.channel
    if channel is not None and channel.through_ui:
        return None  # who may type on the device is the analyst's to say (lock screen, PIN)
    why = (
        "declares no authentication"
        if facts.credit_controls
        else "before controls: its authentication is not credited"
    )
    return "no", f"{_entry(facts)} {why}"


# --- interaction and scope ------------------------------------------------------------------


def needs_someone_else(facts: Facts) -> Answer:
    target = facts.target
    if not target.fdi_points:
        return None
    if facts.is_person_or_body:
        return "yes", f"the attacker must get {target.element} to act on false information"
    people = [c for c in target.crossed if facts.kind_of(c) == ComponentKind.human]
    if people:
        return "yes", f"the false data passes through {', '.join(people)} on its way"
    engines = ", ".join(target.ml_engines)
    return "no", f"the false data reaches {engines} with no one acting on it"


def _zone_of_entry(facts: Facts) -> str | None:
    if facts.component is not None:
        return facts.component.zone
    if facts.link is not None:
        source = facts.device.components.get(facts.link.source)
        return source.zone if source else None
    return None


def crosses_authority(facts: Facts) -> Answer:
    target = facts.target
    if not target.ml_engines:
        return None
    entry_zone = _zone_of_entry(facts)
    engine_zones = {
        facts.device.components[e].zone for e in target.ml_engines if e in facts.device.components
    }
    if entry_zone is None or None in engine_zones or not engine_zones:
        return None
    others = sorted(z for z in engine_zones if z is not None and z != entry_zone)
    if others:
        return "yes", (
            f"the entry is in zone '{entry_zone}', the ML engine "
            f"{', '.join(target.ml_engines)} in '{', '.join(others)}'"
        )
    return "no", f"the entry and {', '.join(target.ml_engines)} share zone '{entry_zone}'"


# --- confidentiality ------------------------------------------------------------------------


def can_read_data(facts: Facts) -> Answer:
    if facts.is_person_or_body:
        return None
    if facts.component is not None:
        return "yes", f"an attacker in control of {facts.target.element} reads what it holds"
    if facts.link is None:
        return None
    if facts.link.channel.in_process:
        return "yes", "code in the same process reads the data passed"
    channel = facts.channel
    if channel is not None and channel.through_ui:
        return None
    if facts.protections.encryption:
        return "no", f"{_entry(facts)} is encrypted"
    return "yes", f"{_entry(facts)} is not encrypted" + (
        "" if facts.credit_controls else " (before controls)"
    )


def many_patients(facts: Facts) -> Answer:
    kind = facts.kind_of(facts.target.element)
    if kind in _MANY_PATIENTS:
        return "yes", f"{facts.target.element} is a {kind.value} holding many patients' data"
    if kind in _ONE_PATIENT:
        return "no", f"{facts.target.element} is a {kind.value} serving one patient"
    if facts.link is not None:
        ends = [facts.kind_of(facts.link.source), facts.kind_of(facts.link.target)]
        if (
            any(end in _MANY_PATIENTS for end in ends)
            and facts.kind_of(facts.link.source) in _MANY_PATIENTS
        ):
            return "yes", f"{_entry(facts)} carries data out of a store of many patients"
        if any(end in _ONE_PATIENT for end in ends):
            return "no", f"{_entry(facts)} carries one patient's device data"
    return None


def can_read_secrets(facts: Facts) -> Answer:
    if facts.is_person_or_body:
        return None
    if facts.component is not None:
        return "yes", (
            f"an attacker in control of {facts.target.element} reads its keys, "
            "tokens and any model it holds"
        )
    if facts.link is None:
        return None
    if facts.link.channel.in_process:
        return "yes", "code in the same process reads its memory, keys included"
    if facts.protections.encryption:
        return "no", f"{_entry(facts)} is encrypted"
    if facts.link.kind == LinkKind.update:
        return "yes", f"{_entry(facts)} carries the model or software update unencrypted"
    if facts.protections.authentication:
        return None  # whether credentials cross in clear depends on the protocol
    return "no", f"{_entry(facts)} carries no credentials and no model"


# --- integrity and availability -------------------------------------------------------------


def can_change_data(facts: Facts) -> Answer:
    target = facts.target
    if not target.fdi_points:
        return None
    return "yes", (
        f"false data injected at {target.element} reaches "
        f"{', '.join(target.ml_engines)} ({', '.join(target.fdi_points)})"
    )


def can_withhold(facts: Facts) -> Answer:
    if facts.is_person_or_body:
        return None
    if facts.link is not None:
        if facts.link.channel.in_process:
            return "yes", "code in the same process can stop the call"
        return "yes", f"an attacker on {_entry(facts)} can drop, jam or delay it"
    if facts.component is not None:
        return "yes", f"an attacker in control of {facts.target.element} can stop it"
    return None


def harm_possible(facts: Facts) -> Answer:
    severity = facts.severity
    if severity.source == "worst_case":
        return None
    rank = SEVERITY_ORDER.index(severity.level)
    if rank >= SEVERITY_ORDER.index("serious"):
        return "yes", f"severity {severity.level} ({severity.source}: {severity.basis})"
    return "no", f"severity only {severity.level} ({severity.source}: {severity.basis})"


def time_critical(facts: Facts) -> Answer:
    if "monitoring" not in facts.device.data_use:
        return None
    harm = harm_possible(facts)
    if harm is None or harm[0] != "yes":
        return None
    return "yes", f"the device monitors (device.data_use) and {harm[1]}"


RULES: dict[str, Rule] = {
    rule.__name__: rule
    for rule in (
        uses_channel,
        channel_is_ip,
        channel_is_wireless,
        short_range_radio,
        needs_physical_contact,
        through_user_interface,
        at_will,
        obstacle_kind,
        authenticates_peer,
        needs_someone_else,
        crosses_authority,
        can_read_data,
        many_patients,
        can_read_secrets,
        can_change_data,
        can_withhold,
        harm_possible,
        time_critical,
    )
}
