"""Controls against one attack: the device's own, and mitigations from the catalogues.

Device controls are the protections the model declares on the entry link (authentication,
encryption, integrity, replay protection). Catalogue mitigations come from the threats on
the entry element: the technology pack rules' ATT&CK and ATLAS mitigations, and, with a
knowledge base, the mitigations of each known vulnerability's CWE -> CAPEC -> ATT&CK chain.
A catalogue mitigation is in place only when the analyst's answers file says so.

:func:`credit` applies the matrix's residual rule: each control in place lowers exploitability
by its levels along the attack kinds it stops, device controls first, until the cap; the risk
is lowered as far as its least-protected attack kind is; every control records what it was
credited, and the steps say why.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from mdrisk.assessment.risk import RiskControl
from mdrisk.assessment.threats import ElementThreat
from mdrisk.kb.catalog_ids import natural
from mdrisk.risk.answers import LoadedAnswers
from mdrisk.risk.derive import DeviceFacts
from mdrisk.risk.matrix import DeviceControlRule, ResidualRule
from mdrisk.risk.targets import RiskTarget
from mdrisk.risk.weakest_path import ALL_KINDS, Credit, weakest_path

FRAMEWORKS = {
    "attack_ics": "ATT&CK for ICS",
    "attack-ics": "ATT&CK for ICS",
    "ics": "ATT&CK for ICS",
    "attack_enterprise": "ATT&CK Enterprise",
    "attack-enterprise": "ATT&CK Enterprise",
    "enterprise": "ATT&CK Enterprise",
    "atlas": "ATLAS",
    "capec": "CAPEC",
}


@dataclass(frozen=True)
class MitigationRef:
    """A catalogue mitigation and how it was reached."""

    id: str
    name: str = ""
    framework: str = ""
    via: str = ""


# CVE id -> the mitigations the knowledge base chains to it (kb.enrich's ``mitigations``).
MitigationLookup = Callable[[str], Sequence[MitigationRef]]


def mitigations_from_enricher(enricher: Callable[[str], Any]) -> MitigationLookup:
    """A lookup over the pipeline's enricher (``kb.enrich.enrich_vulnerability`` as plain
    data): each mitigation of the vulnerability's CWE -> CAPEC -> ATT&CK chain."""

    def lookup(vulnerability: str) -> list[MitigationRef]:
        data = enricher(vulnerability)
        if hasattr(data, "model_dump"):
            data = data.model_dump(mode="json")
        entries = data.get("mitigations") if isinstance(data, dict) else None
        found = []
        for entry in entries or []:
            if isinstance(entry, dict) and isinstance(entry.get("id"), str):
                via = entry.get("via") or []
                found.append(
                    MitigationRef(
                        entry["id"],
                        str(entry.get("name") or ""),
                        str(entry.get("framework") or ""),
                        ", ".join(v for v in via if isinstance(v, str)),
                    )
                )
        return found

    return lookup


def device_controls(target: RiskTarget, device: DeviceFacts) -> list[RiskControl]:
    link = device.links.get(target.element)
    if link is None:
        return []
    shield = link.channel.protections
    found = []
    for control in ("authentication", "encryption", "integrity", "replay_protection"):
        if getattr(shield, control):
            found.append(
                RiskControl(
                    id=f"{link.id}.{control}",
                    name=f"{control.replace('_', ' ')} on {link.id}",
                    kind="device",
                    framework="device model",
                    source=f"links[{link.id}].channel.protections.{control}",
                    in_place=True,
                )
            )
    return found


def _framework_of(identifier: str, given: str = "") -> str:
    if given:
        return FRAMEWORKS.get(given, given)
    if identifier.startswith("AML.M"):
        return "ATLAS"
    if identifier.startswith(("M08", "M09")):
        return "ATT&CK for ICS"
    if identifier.startswith("M1"):
        return "ATT&CK Enterprise"
    return ""


def catalogue_mitigations(
    target: RiskTarget, threats: Sequence[ElementThreat], lookup: MitigationLookup | None
) -> list[MitigationRef]:
    """Mitigations of the threats the target names, one entry per id, sources merged."""
    found: dict[str, list[MitigationRef]] = {}
    wanted = set(target.threats)
    for threat in threats:
        if threat.id not in wanted:
            continue
        for finding in threat.pack_rules:
            for catalog in ("attack_ics", "attack_enterprise", "atlas"):
                for identifier in getattr(finding.mitigations, catalog):
                    found.setdefault(identifier, []).append(
                        MitigationRef(
                            identifier,
                            framework=FRAMEWORKS[catalog],
                            via=f"pack rule {finding.rule} ({threat.id})",
                        )
                    )
        if lookup is not None:
            for vulnerability in threat.vulnerabilities:
                for ref in lookup(vulnerability.id):
                    found.setdefault(ref.id, []).append(
                        MitigationRef(
                            ref.id,
                            ref.name,
                            _framework_of(ref.id, ref.framework),
                            f"{vulnerability.id}{' via ' + ref.via if ref.via else ''}",
                        )
                    )
    merged = []
    for identifier in sorted(found, key=natural):
        refs = found[identifier]
        name = next((r.name for r in refs if r.name), "")
        framework = next((r.framework for r in refs if r.framework), _framework_of(identifier))
        via = "; ".join(sorted({r.via for r in refs if r.via}))
        merged.append(MitigationRef(identifier, name, framework, via))
    return merged


def mitigation_controls(refs: Sequence[MitigationRef], answers: LoadedAnswers) -> list[RiskControl]:
    controls = []
    for ref in refs:
        implemented = answers.implemented(ref.id)
        name = ref.name or ref.id
        controls.append(
            RiskControl(
                id=ref.id,
                name=name,
                kind="mitigation",
                framework=ref.framework,
                source=ref.via,
                in_place=implemented is not None,
                justification=f"{implemented.justification} [{answers.file}: mitigations.{ref.id}]"
                if implemented
                else "",
            )
        )
    return controls


def credit(
    controls: Sequence[RiskControl], attack_kinds: frozenset[str], rule: ResidualRule
) -> tuple[list[RiskControl], int, list[str]]:
    """Each control with its credited levels, the total reduction, and the steps.

    The reduction is that of the weakest path (:mod:`mdrisk.risk.weakest_path`): a device
    control counts only against the attack kinds it stops, and the attacker takes the kind
    the controls stop least."""
    rules: dict[str, DeviceControlRule] = {r.control: r for r in rule.device_controls}
    in_place = {c.id.rsplit(".", 1)[-1] for c in controls if c.kind == "device"}
    ordered = sorted(
        controls, key=lambda c: (c.kind != "device", _rule_order(c, rule), natural(c.id))
    )
    credits, reasons = [], []
    for control in ordered:
        levels, why = 0, ""
        stops: frozenset[str] | None = frozenset()
        if control.kind == "device":
            name = control.id.rsplit(".", 1)[-1]
            device_rule = rules.get(name)
            if device_rule is None:
                why = (
                    "the rubric's questions read it from the model (AC, PR), so it is not "
                    "counted twice"
                    if name in ("authentication", "encryption")
                    else "the policy gives this control no credit"
                )
            elif not attack_kinds & set(device_rule.against):
                why = (
                    f"it addresses {', '.join(device_rule.against)}, not this attack "
                    f"({', '.join(sorted(attack_kinds)) or 'unknown'})"
                )
            elif missing := [r for r in device_rule.requires if r not in in_place]:
                why = f"it counts only with {', '.join(missing)}, which the link lacks"
            else:
                levels, stops = device_rule.lowers, frozenset(device_rule.against)
        elif control.in_place:
            levels, stops = rule.implemented_mitigation.lowers, ALL_KINDS
        credits.append(Credit(levels, stops))
        reasons.append(why)
    path = weakest_path(credits, attack_kinds, rule.max_reduction)
    steps, credited = [], []
    for control, given, share, why in zip(ordered, credits, path.levels, reasons, strict=True):
        if share:
            steps.append(f"{control.name} ({control.id}): -{share}")
        elif given.levels:
            why = (
                f"the cap of {rule.max_reduction} level(s) is reached"
                if given.stops is ALL_KINDS or path.binding in given.stops
                else f"the reduction is that of the {path.binding} path (the least protected), "
                "which it does not stop"
            )
        if not share and control.in_place and why:
            steps.append(f"{control.name} ({control.id}): no credit, {why}")
        credited.append(control.model_copy(update={"credited_levels": share}))
    credited.sort(key=lambda c: (c.kind != "device", natural(c.id)))
    return credited, path.total, steps


def _rule_order(control: RiskControl, rule: ResidualRule) -> int:
    names = [r.control for r in rule.device_controls]
    name = control.id.rsplit(".", 1)[-1]
    return names.index(name) if control.kind == "device" and name in names else len(names)
