"""The security architecture views the FDA premarket guidance asks for (section V.B.2),
derived from the device model and the STPA findings:

* global system view: trust zones and the links that cross from one zone to another;
* multi-patient harm view: elements whose compromise reaches many patients at once (cloud,
  EHR and gateway components, update links, training data collected from the field);
* updatability and patchability view: how each component receives updates, and how those
  updates are protected;
* security use case views: each control loop (control action, its channel, its feedback)
  with the false-data injection points that can make it unsafe.
"""

from __future__ import annotations

from dataclasses import dataclass

from mdrisk.assessment import Assessment
from mdrisk.model.schema import ComponentKind, Link, LinkKind
from mdrisk.report.controls import protections_of
from mdrisk.report.idlists import id_ranges, sorted_ids

FLEET_KINDS = {ComponentKind.cloud, ComponentKind.ehr, ComponentKind.gateway}
UNZONED = "(no zone given)"


@dataclass(frozen=True)
class ZoneCrossing:
    link: str
    source: str
    target: str
    from_zone: str
    to_zone: str
    kind: str
    channel: str
    protections: list[str]


@dataclass(frozen=True)
class Zone:
    name: str
    components: list[str]


@dataclass(frozen=True)
class FleetElement:
    element: str
    why: str
    fdi_points: list[str]
    hazards: list[str]


@dataclass(frozen=True)
class UpdateRoute:
    component: str
    technologies: str
    routes: str
    protections: str
    note: str


@dataclass(frozen=True)
class UseCase:
    control_action: str
    name: str
    controller: str
    controlled: str
    link: str
    protections: list[str]
    feedback: list[str]
    ucas: str
    fdi_points: list[str]
    hazards: list[str]


@dataclass(frozen=True)
class ArchitectureViews:
    zones: list[Zone]
    crossings: list[ZoneCrossing]
    fleet: list[FleetElement]
    updates: list[UpdateRoute]
    use_cases: list[UseCase]


def _channel_name(assessment: Assessment, link_id: str) -> str:
    link = next(link for link in assessment.device.links if link.id == link_id)
    technology = link.channel.technology
    if link.channel.in_process:
        return "in-process"
    if technology is None:
        return "physical"
    return technology.name + (f" {technology.version}" if technology.version else "")


def architecture_views(assessment: Assessment) -> ArchitectureViews:
    components = {c.id: c for c in assessment.device.components}
    zone_of = {c.id: c.zone or UNZONED for c in assessment.device.components}
    zones: dict[str, list[str]] = {}
    for component in assessment.device.components:
        zones.setdefault(zone_of[component.id], []).append(component.id)
    crossings = [
        ZoneCrossing(
            link.id,
            link.source,
            link.target,
            zone_of[link.source],
            zone_of[link.target],
            link.kind.value,
            _channel_name(assessment, link.id),
            protections_of(link),
        )
        for link in assessment.device.links
        if zone_of[link.source] != zone_of[link.target]
        and zone_of[link.source] != UNZONED
        and zone_of[link.target] != UNZONED
    ]

    points_at: dict[str, list[str]] = {}
    for point in assessment.fdi_points:
        points_at.setdefault(point.element, []).append(point.id)
    hazards_of_point: dict[str, set[str]] = {}
    for scenario in assessment.loss_scenarios:
        for point_id in scenario.fdi_points:
            hazards_of_point.setdefault(point_id, set()).update(scenario.hazards)

    def fleet(element: str, why: str) -> FleetElement:
        points = points_at.get(element, [])
        hazards = {h for p in points for h in hazards_of_point.get(p, set())}
        return FleetElement(element, why, sorted_ids(points), sorted_ids(hazards))

    fleet_elements = [
        fleet(c.id, f"{c.kind.value}: one instance serves every device")
        for c in assessment.device.components
        if c.kind in FLEET_KINDS
    ]
    fleet_elements += [
        fleet(link.id, "update link: one change reaches every device")
        for link in assessment.device.links
        if link.kind == LinkKind.update
    ]
    for engine in assessment.device.components:
        if engine.ml is None:
            continue
        for data in engine.ml.training_data:
            if data.continuous:
                fleet_elements.append(
                    FleetElement(
                        engine.id,
                        f"retrained from field data ({data.source}): poisoned data "
                        "changes the model for every patient",
                        [],
                        [],
                    )
                )

    updates = []
    update_links: dict[str, list[Link]] = {}
    for link in assessment.device.links:
        if link.kind == LinkKind.update:
            update_links.setdefault(link.target, []).append(link)
    for component in assessment.device.components:
        incoming = update_links.get(component.id, [])
        versions = (
            "; ".join(
                t.name + (f" {t.version}" if t.version else "") for t in component.technologies
            )
            or "—"
        )
        if incoming:
            routes = ", ".join(f"{link.id} from {link.source}" for link in incoming)
            shield = "; ".join(
                f"{link.id}: {', '.join(protections_of(link)) or 'none'}" for link in incoming
            )
            unsigned = [link.id for link in incoming if "integrity" not in protections_of(link)]
            note = (
                f"no integrity protection of the update on {', '.join(unsigned)}"
                if unsigned
                else "updates are integrity-protected"
            )
        else:
            routes, shield = "no update link in the model", "—"
            note = (
                "state how this component is patched"
                if component.technologies
                and component.kind not in (ComponentKind.human, ComponentKind.controlled_process)
                else ""
            )
        if component.ml is not None:
            note = (note + "; " if note else "") + (
                "ML model locked" if component.ml.locked else "ML model adapts in the field"
            )
        updates.append(UpdateRoute(component.id, versions, routes, shield, note))

    ucas_of: dict[str, list[str]] = {}
    for uca in assessment.ucas:
        ucas_of.setdefault(uca.control_action, []).append(uca.id)
    points_of_ca: dict[str, set[str]] = {}
    uca_to_ca = {uca.id: uca.control_action for uca in assessment.ucas}
    for scenario in assessment.loss_scenarios:
        action = uca_to_ca.get(scenario.uca)
        if action is not None:
            points_of_ca.setdefault(action, set()).update(scenario.fdi_points)
    links = {link.id: link for link in assessment.device.links}
    use_cases = [
        UseCase(
            ca.id,
            ca.name,
            components[ca.controller].name if ca.controller in components else ca.controller,
            components[ca.controlled].name if ca.controlled in components else ca.controlled,
            ca.link,
            protections_of(links[ca.link]) if ca.link in links else [],
            ca.feedback_links,
            id_ranges(ucas_of.get(ca.id, [])),
            sorted_ids(points_of_ca.get(ca.id, set())),
            ca.hazards,
        )
        for ca in assessment.control_actions
    ]
    return ArchitectureViews(
        zones=[Zone(name, ids) for name, ids in zones.items()],
        crossings=crossings,
        fleet=fleet_elements,
        updates=updates,
        use_cases=use_cases,
    )
