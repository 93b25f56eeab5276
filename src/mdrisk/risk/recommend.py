"""Controls the policy recommends for one risk, read off its attack path.

Each recommended control of the policy (``recommended_controls``) names the attack-path fact
that makes it worth recommending (``where``); this module reads that fact from the device
model and the risk target. A control is recommended when its fact holds on the risk's entry
and it addresses one of the risk's attack kinds. Its instance id is ``<control>@<element>``
(stable: the control's id and the element it goes on), the id ``mdrisk risk --with-control``
and the policy's ``apply`` list take.

:func:`with_controls` is the model change a recommended control stands for, where the model
can say it (a protection on a link, a signed model update path); controls the model has no
field for (plausibility limits, hardening) are credited by the policy alone, and say so.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from mdrisk.assessment.threats import ElementThreat
from mdrisk.model.schema import ComponentKind, DeviceModel, SignalNature
from mdrisk.risk.derive import DeviceFacts
from mdrisk.risk.matrix import RecommendedControl
from mdrisk.risk.targets import RiskTarget

_MACHINES = frozenset(
    k for k in ComponentKind if k not in (ComponentKind.human, ComponentKind.controlled_process)
)


@dataclass(frozen=True)
class Recommendation:
    """One recommended control on one element, and why it fits this risk."""

    control: RecommendedControl
    element: str
    why: str
    # The protections it sets on links of the model (link id -> protection names).
    model_change: tuple[tuple[str, tuple[str, ...]], ...] = ()

    @property
    def id(self) -> str:
        return f"{self.control.id}@{self.element}"

    @property
    def title(self) -> str:
        return self.control.title.replace("{element}", self.element)


def _link_between_machines(target: RiskTarget, device: DeviceFacts) -> bool:
    link = device.links.get(target.element)
    if link is None or link.channel.in_process:
        return False
    channel = device.channel(link.id)
    if channel is not None and channel.through_ui:
        return False
    ends = (device.components.get(link.source), device.components.get(link.target))
    return all(end is not None and end.kind in _MACHINES for end in ends)


def _update_links(target: RiskTarget, device: DeviceFacts) -> list[str]:
    links = []
    for engine in target.ml_engines:
        component = device.components.get(engine)
        if component is not None and component.ml is not None:
            links += [i for i in component.ml.update_path if i in device.links]
    return sorted(set(links))


def _fits(
    control: RecommendedControl,
    target: RiskTarget,
    device: DeviceFacts,
    threats: dict[str, ElementThreat],
) -> Recommendation | None:
    where, element = control.where, target.element
    link = device.links.get(element)
    shield = link.channel.protections if link is not None else None
    kinds = target.attack_kinds
    if where == "unauthenticated_link":
        if (
            shield is not None
            and not shield.authentication
            and _link_between_machines(target, device)
        ):
            return Recommendation(
                control,
                element,
                f"{element} accepts data from any peer (no authentication declared)",
                ((element, ("authentication", "integrity")),),
            )
        return None
    if where == "unencrypted_link":
        if shield is not None and not shield.encryption and _link_between_machines(target, device):
            return Recommendation(
                control,
                element,
                f"{element} carries its data unencrypted",
                ((element, ("encryption",)),),
            )
        return None
    if where == "data_store":
        component = device.components.get(element)
        if component is not None and component.kind in (
            ComponentKind.cloud,
            ComponentKind.storage,
            ComponentKind.ehr,
        ):
            return Recommendation(control, element, f"{element} holds many patients' data")
        return None
    if where == "unprotected_replay":
        if (
            shield is not None
            and not shield.replay_protection
            and "replay" in kinds
            and _link_between_machines(target, device)
        ):
            return Recommendation(
                control,
                element,
                f"{element} has no replay protection and the risk includes old data or "
                "commands sent again or late",
                ((element, ("replay_protection",)),),
            )
        return None
    if where == "unchecked_integrity":
        if shield is not None and shield.authentication and not shield.integrity:
            return Recommendation(
                control,
                element,
                f"{element} authenticates its peer but does not protect message integrity",
                ((element, ("integrity",)),),
            )
        return None
    if where == "human_entry":
        channel = device.channel(element)
        component = device.components.get(element)
        typed = channel is not None and channel.through_ui
        person = component is not None and component.kind == ComponentKind.human
        if typed or person or (link is not None and _from_person(link.source, device)):
            return Recommendation(
                control,
                element,
                f"the false data enters at {element} through a person or a user interface, "
                "which no channel protection covers",
            )
        return None
    if where == "component_entry":
        component = device.components.get(element)
        if component is not None and component.kind in _MACHINES:
            return Recommendation(
                control,
                element,
                f"the attack needs {element} itself compromised (its software or settings)",
            )
        return None
    if where == "unsigned_model":
        links = [
            i
            for i in _update_links(target, device)
            if not (
                device.links[i].channel.protections.authentication
                and device.links[i].channel.protections.integrity
            )
        ]
        if links and ("model_tampering" in kinds or "model_update" in target.fdi_targets):
            return Recommendation(
                control,
                element,
                f"the model reaches the device over {', '.join(links)} without a verified "
                "origin and integrity",
                tuple((i, ("authentication", "integrity")) for i in links),
            )
        return None
    if where == "training_data":
        if "training_poisoning" in kinds:
            return Recommendation(
                control, element, "data an attacker can contribute is used to train the model"
            )
        return None
    if where == "known_vulnerability":
        known = sorted(
            v.id for t in target.threats if t in threats for v in threats[t].vulnerabilities
        )
        if known:
            shown = ", ".join(known[:5]) + (f" and {len(known) - 5} more" if len(known) > 5 else "")
            return Recommendation(control, element, f"known vulnerabilities on {element}: {shown}")
        return None
    if where == "receiver_limits":
        if "false_values" in kinds and target.hazards and _has_quantities(target, device):
            return Recommendation(
                control,
                element,
                "false values reach a decision; the receiver can refuse values and commands "
                "outside what is physically or clinically possible",
            )
        return None
    return None  # declared_detector: recommended from the device's detectors (not yet read)


# Signals no value or rate limit can judge: a forged image, video, identity or model file is
# as plausible as a genuine one.
_NO_LIMITS = frozenset(
    {SignalNature.image, SignalNature.video, SignalNature.identifier, SignalNature.model}
)


def _has_quantities(target: RiskTarget, device: DeviceFacts) -> bool:
    """Whether the entry carries something limits can refuse (a value, a command, a setting):
    not when every signal on the link is an image, video, identity or model."""
    link = device.links.get(target.element)
    if link is None or not link.carries:
        return True
    return not all(
        (device.natures.get(signal.name) or signal.nature) in _NO_LIMITS for signal in link.carries
    )


def _from_person(component_id: str, device: DeviceFacts) -> bool:
    component = device.components.get(component_id)
    return component is not None and component.kind == ComponentKind.human


def recommend(
    target: RiskTarget,
    device: DeviceFacts,
    controls: Sequence[RecommendedControl],
    threats: Sequence[ElementThreat],
) -> list[Recommendation]:
    """The policy's controls that fit the risk, in the policy's order."""
    by_id = {t.id: t for t in threats}
    found = []
    for control in controls:
        if not set(control.against) & target.attack_kinds:
            continue
        fit = _fits(control, target, device, by_id)
        if fit is not None:
            found.append(fit)
    return found


def with_protections(model: DeviceModel, changes_: Iterable[str]) -> DeviceModel:
    """A copy of ``model`` with the protections named ``<link>.<protection>`` declared."""
    changes: dict[str, set[str]] = {}
    for change in changes_:
        link_id, _, name = change.rpartition(".")
        changes.setdefault(link_id, set()).add(name)
    if not changes:
        return model
    links = []
    for link in model.links:
        names = changes.get(link.id)
        if names:
            shield = link.channel.protections.model_copy(update={n: True for n in names})
            link = link.model_copy(
                update={"channel": link.channel.model_copy(update={"protections": shield})}
            )
        links.append(link)
    return model.model_copy(update={"links": links})
