"""Which attacker profiles reach which elements of a device model.

``ElementFacts`` holds what a profile's conditions look at (kind, zone, technology families and
categories from the technology pack, channel protections, link ends, whether the element is an
FDI point or a training-data source); ``reach_reason`` says why a profile reaches an element,
or None when it does not.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache

from mdrisk.assessment.stpa import FDIPoint
from mdrisk.kb.pack import TechnologyPack
from mdrisk.model.schema import (
    Component,
    ComponentKind,
    DeviceModel,
    Link,
    LinkKind,
    Protections,
    Technology,
)
from mdrisk.scenarios.data import Profile, Reach


@dataclass(frozen=True)
class ElementFacts:
    element: str
    element_type: str  # "component" | "link"
    kind: str
    zone: str | None
    families: frozenset[str]
    categories: frozenset[str]
    protections: Protections | None = None
    in_process: bool = False
    source_kind: str | None = None
    target_kind: str | None = None
    source_zone: str | None = None
    target_zone: str | None = None
    feeds_ml: frozenset[str] = frozenset()
    training_source: bool = False
    into_training_source: bool = False

    @property
    def is_person(self) -> bool:
        """A person, or what a person enters (a link from one)."""
        if self.element_type == "component":
            return self.kind == ComponentKind.human.value
        return self.source_kind == ComponentKind.human.value


def continuous_sources(model: DeviceModel) -> dict[str, list[str]]:
    """Component id -> the ML engines that keep training on data it collects."""
    ids = {component.id for component in model.components}
    found: dict[str, list[str]] = {}
    for engine in model.ml_engines:
        assert engine.ml is not None
        for data in engine.ml.training_data:
            if data.continuous and data.source in ids:
                found.setdefault(data.source, []).append(engine.id)
    return found


class FactsBuilder:
    """Facts for an element, built when first asked for (large models have thousands of
    elements no scenario reaches), with technology families looked up once per technology."""

    def __init__(
        self, model: DeviceModel, pack: TechnologyPack, fdi_points: Iterable[FDIPoint]
    ) -> None:
        self._pack = pack
        self._families: dict[tuple[str, str | None], tuple[frozenset[str], frozenset[str]]] = {}
        self._feeds: dict[str, set[str]] = {}
        for point in fdi_points:
            self._feeds.setdefault(point.element, set()).add(point.target)
        self._sources = continuous_sources(model)
        self._components = {c.id: c for c in model.components}
        self._links = {link.id: link for link in model.links}
        self._facts: dict[str, ElementFacts] = {}

    def __getitem__(self, element: str) -> ElementFacts:
        facts = self._facts.get(element)
        if facts is None:
            if element in self._components:
                facts = self._component(self._components[element], self._feeds, self._sources)
            else:
                facts = self._link(
                    self._links[element], self._components, self._feeds, self._sources
                )
            self._facts[element] = facts
        return facts

    def _of(self, technologies: Iterable[Technology]) -> tuple[frozenset[str], frozenset[str]]:
        families: set[str] = set()
        categories: set[str] = set()
        for technology in technologies:
            # Families are recognised by name and product alone.
            key = (technology.name, technology.product)
            if key not in self._families:
                found = self._pack.families_of(technology)
                self._families[key] = (
                    frozenset(f.id for f in found),
                    frozenset(f.category.value for f in found),
                )
            fam, cat = self._families[key]
            families |= fam
            categories |= cat
        return frozenset(families), frozenset(categories)

    def _component(
        self, component: Component, feeds: dict[str, set[str]], sources: dict[str, list[str]]
    ) -> ElementFacts:
        families, categories = self._of(component.technologies)
        return ElementFacts(
            component.id,
            "component",
            component.kind.value,
            component.zone,
            families,
            categories,
            feeds_ml=frozenset(feeds.get(component.id, ())),
            training_source=component.id in sources,
        )

    def _link(
        self,
        link: Link,
        components: dict[str, Component],
        feeds: dict[str, set[str]],
        sources: dict[str, list[str]],
    ) -> ElementFacts:
        technology = link.channel.technology
        families, categories = self._of([technology] if technology else [])
        source, target = components[link.source], components[link.target]
        return ElementFacts(
            link.id,
            "link",
            link.kind.value,
            None,
            families,
            categories,
            protections=link.channel.protections,
            in_process=link.channel.in_process,
            source_kind=source.kind.value,
            target_kind=target.kind.value,
            source_zone=source.zone,
            target_zone=target.zone,
            feeds_ml=frozenset(feeds.get(link.id, ())),
            # Field data arrives as data or feedback; commands and updates are not collected.
            into_training_source=link.target in sources
            and link.kind in (LinkKind.data, LinkKind.feedback),
        )


@cache
def _pattern(regex: str) -> re.Pattern[str]:
    return re.compile(regex, re.IGNORECASE)


def _found(regex: str, *texts: str | None) -> bool:
    return any(text and _pattern(regex).search(text) for text in texts)


def _holds(way: Reach, facts: ElementFacts) -> bool:
    if facts.element_type not in way.elements:
        return False
    is_link = facts.element_type == "link"
    checks = (
        not way.component_kinds or (not is_link and facts.kind in way.component_kinds),
        not way.link_kinds or (is_link and facts.kind in way.link_kinds),
        way.zone is None or (not is_link and _found(way.zone, facts.zone)),
        way.exclude_zone is None or not _found(way.exclude_zone, facts.zone),
        not way.endpoint_kinds
        or (is_link and bool({facts.source_kind, facts.target_kind} & set(way.endpoint_kinds))),
        not way.target_kinds or (is_link and facts.target_kind in way.target_kinds),
        way.endpoint_zone is None
        or (is_link and _found(way.endpoint_zone, facts.source_zone, facts.target_zone)),
        way.target_zone is None or (is_link and _found(way.target_zone, facts.target_zone)),
        not way.technology_families or bool(facts.families & set(way.technology_families)),
        not way.technology_categories or bool(facts.categories & set(way.technology_categories)),
        way.in_process is None or (is_link and facts.in_process is way.in_process),
        not way.protections
        or (
            facts.protections is not None
            and all(
                getattr(facts.protections, name) is wanted
                for name, wanted in way.protections.items()
            )
        ),
        not way.feeds_ml or bool(facts.feeds_ml & set(way.feeds_ml)),
        way.training_source is None or facts.training_source is way.training_source,
        way.into_training_source is None or facts.into_training_source is way.into_training_source,
    )
    return all(checks)


def reach_reason(profile: Profile, facts: ElementFacts) -> str | None:
    """The words for the first way the profile reaches the element, or None."""
    for way in profile.reaches:
        if _holds(way, facts):
            return way.why
    return None
