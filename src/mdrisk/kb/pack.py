"""The technology knowledge pack: rules as data, and the small engine that applies them.

The pack (``mdrisk/data/technology-pack.yaml``, written by the project and reviewed like
code) names technology families (Bluetooth LE, DICOM, Core ML, ...) by name patterns, and
rules that say which weaknesses (CWE), attack patterns (CAPEC) and techniques (ATT&CK for ICS
and Enterprise, ATLAS) apply to a component or link built from them, under which
configuration, protections or ML-engine conditions. ``load_pack`` validates the file with
errors naming file, line, rule id and field; ``evaluate`` says which rules apply to one
element of a device model.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from functools import cached_property
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import Field, field_validator
from pydantic_core import ErrorDetails

from mdrisk.errors import InputError, Problem
from mdrisk.model.schema import (
    Component,
    ComponentKind,
    DeviceModel,
    Link,
    LinkKind,
    Protections,
    Technology,
)
from mdrisk.parsing.source import SourceDocument, parse_document, read_text
from mdrisk.parsing.validation import StrictModel, validated

BUILTIN_LABEL = "mdrisk/data/technology-pack.yaml"

CWE_ID = r"^CWE-[1-9][0-9]*$"
CAPEC_ID = r"^CAPEC-[1-9][0-9]*$"
ICS_TECHNIQUE = r"^T0[89][0-9]{2}$"
ENTERPRISE_TECHNIQUE = r"^T1[0-9]{3}(\.[0-9]{3})?$"
ATLAS_TECHNIQUE = r"^AML\.T[0-9]{4}(\.[0-9]{3})?$"
ICS_MITIGATION = r"^M0[89][0-9]{2}$"
ENTERPRISE_MITIGATION = r"^M1[0-9]{3}$"
ATLAS_MITIGATION = r"^AML\.M[0-9]{4}$"

# Configuration values are compared after folding case, spaces and these synonyms, so that a
# model saying `tls: "no"` meets a rule saying `tls: ["off"]`.
_OFF = frozenset({"off", "no", "false", "none", "disabled", "disable"})
_ON = frozenset({"on", "yes", "true", "enabled", "enable"})


def fold(value: str) -> str:
    """A configuration key or value in comparable form: lower case, '_' for spaces/dashes."""
    text = re.sub(r"[\s\-]+", "_", value.strip().lower())
    if text in _OFF:
        return "off"
    if text in _ON:
        return "on"
    return text


CweIds = list[Annotated[str, Field(pattern=CWE_ID)]]
CapecIds = list[Annotated[str, Field(pattern=CAPEC_ID)]]
IcsTechniqueIds = list[Annotated[str, Field(pattern=ICS_TECHNIQUE)]]
EnterpriseTechniqueIds = list[Annotated[str, Field(pattern=ENTERPRISE_TECHNIQUE)]]
AtlasTechniqueIds = list[Annotated[str, Field(pattern=ATLAS_TECHNIQUE)]]
IcsMitigationIds = list[Annotated[str, Field(pattern=ICS_MITIGATION)]]
EnterpriseMitigationIds = list[Annotated[str, Field(pattern=ENTERPRISE_MITIGATION)]]
AtlasMitigationIds = list[Annotated[str, Field(pattern=ATLAS_MITIGATION)]]


class References(StrictModel):
    """Catalog ids a rule (or a finding) cites, one list per catalog."""

    cwe: CweIds = Field(default_factory=list)
    capec: CapecIds = Field(default_factory=list)
    attack_ics: IcsTechniqueIds = Field(default_factory=list)
    attack_enterprise: EnterpriseTechniqueIds = Field(default_factory=list)
    atlas: AtlasTechniqueIds = Field(default_factory=list)

    def all_ids(self) -> list[str]:
        return [*self.cwe, *self.capec, *self.attack_ics, *self.attack_enterprise, *self.atlas]


class Mitigations(StrictModel):
    attack_ics: IcsMitigationIds = Field(default_factory=list)
    attack_enterprise: EnterpriseMitigationIds = Field(default_factory=list)
    atlas: AtlasMitigationIds = Field(default_factory=list)

    def all_ids(self) -> list[str]:
        return [*self.attack_ics, *self.attack_enterprise, *self.atlas]


class Category(StrEnum):
    """What kind of thing a technology family is; rules may select by category."""

    wireless = "wireless"
    network = "network"
    wired = "wired"
    local_port = "local_port"
    in_process = "in_process"
    human_input = "human_input"
    human_output = "human_output"
    mobile_os = "mobile_os"
    host_os = "host_os"
    cloud = "cloud"
    container = "container"
    database = "database"
    ml_serving = "ml_serving"
    ml_artifact = "ml_artifact"
    ml_framework = "ml_framework"
    llm = "llm"
    sensor = "sensor"
    imaging = "imaging"
    firmware = "firmware"


FAMILY_ID = r"^[a-z][a-z0-9_]*$"


class TechnologyFamily(StrictModel):
    """A technology as the pack recognises it in a model, by name or product."""

    id: Annotated[str, Field(pattern=FAMILY_ID)]
    name: Annotated[str, Field(min_length=1)]
    category: Category
    # Case-insensitive regular expressions searched in the technology's name and product.
    patterns: list[str] = Field(default_factory=list)
    # Exact names (case and spacing ignored), for names a pattern would over-match.
    synonyms: list[str] = Field(default_factory=list)

    @field_validator("patterns")
    @classmethod
    def _compiles(cls, patterns: list[str]) -> list[str]:
        for pattern in patterns:
            try:
                re.compile(pattern, re.IGNORECASE)
            except re.error as exc:
                raise ValueError(
                    f"pattern {pattern!r} is not a regular expression ({exc})"
                ) from None
        return patterns

    @cached_property
    def compiled_patterns(self) -> tuple[re.Pattern[str], ...]:
        return tuple(re.compile(p, re.IGNORECASE) for p in self.patterns)

    @cached_property
    def folded_synonyms(self) -> frozenset[str]:
        return frozenset(" ".join(s.lower().split()) for s in self.synonyms)

    def matches(self, technology: Technology) -> bool:
        texts = [t for t in (technology.name, technology.product) if t]
        if any(" ".join(t.lower().split()) in self.folded_synonyms for t in texts):
            return True
        return any(p.search(t) for p in self.compiled_patterns for t in texts)


ProtectionName = Literal["authentication", "encryption", "integrity", "replay_protection"]
ElementType = Literal["component", "link"]
MLTarget = Literal["inference_input", "model_update"]
TASK_TYPES = r"^(classification|regression|forecasting|ranking|detection|segmentation|generation)$"


class MLConditions(StrictModel):
    """Conditions on a component's ML engine; an empty mapping means 'is an ML engine'."""

    locked: bool | None = None
    update_path: bool | None = None  # true: the model has an update path
    continuous_training: bool | None = None  # true: some training data keeps coming in
    task_types: list[Annotated[str, Field(pattern=TASK_TYPES)]] = Field(default_factory=list)


class Conditions(StrictModel):
    """One way a rule applies: every condition given must hold (an AND)."""

    elements: list[ElementType] = Field(min_length=1)
    component_kinds: list[ComponentKind] = Field(default_factory=list)
    link_kinds: list[LinkKind] = Field(default_factory=list)
    source_kinds: list[ComponentKind] = Field(default_factory=list)
    target_kinds: list[ComponentKind] = Field(default_factory=list)
    endpoint_kinds: list[ComponentKind] = Field(default_factory=list)  # source or target
    zone: str | None = None  # regex searched in the component's zone
    technologies: list[Annotated[str, Field(pattern=FAMILY_ID)]] = Field(default_factory=list)
    technology_categories: list[Category] = Field(default_factory=list)
    # key -> allowed values; null in the list means "the key is not set".
    config: dict[str, list[str | None]] = Field(default_factory=dict)
    version: str | None = None  # regex searched in the technology's version
    protections: dict[ProtectionName, bool] = Field(default_factory=dict)
    ml: MLConditions | None = None
    feeds_ml: list[MLTarget] = Field(default_factory=list)

    @field_validator("zone", "version")
    @classmethod
    def _regex(cls, pattern: str | None) -> str | None:
        if pattern is not None:
            try:
                re.compile(pattern, re.IGNORECASE)
            except re.error as exc:
                raise ValueError(f"{pattern!r} is not a regular expression ({exc})") from None
        return pattern

    @field_validator("config")
    @classmethod
    def _config_values(cls, config: dict[str, list[str | None]]) -> dict[str, list[str | None]]:
        for key, values in config.items():
            if not values:
                raise ValueError(f"config '{key}' lists no values")
        return config

    @property
    def technology_bound(self) -> bool:
        """True when the rule is about one technology of the element, not the element."""
        return bool(
            self.technologies
            or self.technology_categories
            or self.config
            or self.version is not None
        )

    @cached_property
    def folded_config(self) -> dict[str, frozenset[str | None]]:
        return {
            fold(key): frozenset(None if v is None else fold(v) for v in values)
            for key, values in self.config.items()
        }


def _one_or_many(value: Any) -> Any:
    return [value] if isinstance(value, Mapping) else value


RULE_ID = r"^TP-[A-Z0-9]+(-[A-Z0-9]+)*$"


class Rule(StrictModel):
    id: Annotated[str, Field(pattern=RULE_ID, max_length=80)]
    title: Annotated[str, Field(min_length=5, max_length=200)]
    # Alternatives: the rule applies when any one of them holds.
    applies_to: list[Conditions] = Field(min_length=1)
    rationale: Annotated[str, Field(min_length=20, max_length=2000)]
    references: References
    mitigations: Mitigations = Field(default_factory=Mitigations)
    # More specific rules: when one of them applies to the same element, this one is dropped.
    superseded_by: list[Annotated[str, Field(pattern=RULE_ID)]] = Field(default_factory=list)

    @field_validator("applies_to", mode="before")
    @classmethod
    def _wrap(cls, value: Any) -> Any:
        return _one_or_many(value)

    @field_validator("references")
    @classmethod
    def _cites(cls, references: References) -> References:
        if not references.all_ids():
            raise ValueError("a rule must cite at least one CWE, CAPEC, ATT&CK or ATLAS id")
        return references


class TechnologyPack(StrictModel):
    schema_version: Literal[1]
    name: Annotated[str, Field(min_length=1)]
    version: Annotated[str, Field(min_length=1)]
    description: str = ""
    technologies: list[TechnologyFamily] = Field(min_length=1)
    rules: list[Rule] = Field(min_length=1)

    @cached_property
    def families(self) -> dict[str, TechnologyFamily]:
        return {family.id: family for family in self.technologies}

    @cached_property
    def rules_by_id(self) -> dict[str, Rule]:
        return {rule.id: rule for rule in self.rules}

    @cached_property
    def families_by_text(self) -> dict[tuple[str, str | None], list[TechnologyFamily]]:
        """The families found so far, by the technology's name and product (all that
        :meth:`TechnologyFamily.matches` reads): a model names the same technology many times."""
        return {}

    def families_of(self, technology: Technology) -> list[TechnologyFamily]:
        """Every family the technology belongs to, in pack order."""
        key = (technology.name, technology.product)
        found = self.families_by_text.get(key)
        if found is None:
            found = [family for family in self.technologies if family.matches(technology)]
            self.families_by_text[key] = found
        return list(found)


@dataclass(frozen=True)
class LoadedPack:
    """A valid pack and where it came from: a label for provenance and the file's hash."""

    pack: TechnologyPack
    source: str
    sha256: str


# --- loading ------------------------------------------------------------------------------


def _fix(error: ErrorDetails) -> str:
    if error["type"] == "string_pattern_mismatch":
        return f"write an id matching {error.get('ctx', {}).get('pattern', '')}"
    if error["type"] in ("enum", "literal_error"):
        return f"use one of {error.get('ctx', {}).get('expected', 'the allowed values')}"
    if error["type"] == "string_type" and isinstance(error.get("input"), bool):
        return 'quote it: YAML reads on/off/yes/no as true/false (write "off")'
    return ""


def _cross_reference_problems(pack: TechnologyPack, source: SourceDocument) -> list[Problem]:
    problems: list[Problem] = []

    def add(path: tuple[str | int, ...], message: str, fix: str) -> None:
        problems.append(
            Problem(message, field=source.render_path(path), line=source.line_of(path), fix=fix)
        )

    seen_families: set[str] = set()
    for index, family in enumerate(pack.technologies):
        if family.id in seen_families:
            add(
                ("technologies", index, "id"),
                f"technology family '{family.id}' is defined twice",
                "give each family its own id",
            )
        seen_families.add(family.id)
        if not family.patterns and not family.synonyms:
            add(
                ("technologies", index),
                "the family has neither patterns nor synonyms",
                "add a name pattern or a synonym",
            )
    seen_rules: set[str] = set()
    for r_index, rule in enumerate(pack.rules):
        if rule.id in seen_rules:
            add(
                ("rules", r_index, "id"),
                f"rule '{rule.id}' is defined twice",
                "give each rule its own id",
            )
        seen_rules.add(rule.id)
        for c_index, conditions in enumerate(rule.applies_to):
            where = ("rules", r_index, "applies_to", c_index)
            for t_index, family_id in enumerate(conditions.technologies):
                if family_id not in pack.families:
                    add(
                        where + ("technologies", t_index),
                        f"unknown technology family '{family_id}'",
                        "define it under 'technologies' or fix the spelling",
                    )
            link_only = [
                name
                for name in (
                    "link_kinds",
                    "source_kinds",
                    "target_kinds",
                    "endpoint_kinds",
                    "protections",
                )
                if getattr(conditions, name)
            ]
            component_only = [
                name
                for name in ("component_kinds", "ml", "zone")
                if getattr(conditions, name) not in (None, [], {})
            ]
            if link_only and "link" not in conditions.elements:
                add(
                    where + (link_only[0],),
                    f"'{link_only[0]}' only applies to links",
                    "add 'link' to elements or remove the condition",
                )
            if component_only and "component" not in conditions.elements:
                add(
                    where + (component_only[0],),
                    f"'{component_only[0]}' only applies to components",
                    "add 'component' to elements or remove the condition",
                )
        for s_index, other in enumerate(rule.superseded_by):
            if other == rule.id or other not in pack.rules_by_id:
                add(
                    ("rules", r_index, "superseded_by", s_index),
                    f"'{other}' is not another rule of the pack",
                    "name an existing rule",
                )
    return problems


def pack_from_text(text: str, file: str) -> TechnologyPack:
    """Validate pack text; InputError names file, line, rule id and field of each problem."""
    return pack_from_document(parse_document(text, file))


def pack_from_document(source: SourceDocument) -> TechnologyPack:
    """The validated pack of a parsed document (see :func:`pack_from_text`)."""
    pack = validated(
        TechnologyPack,
        source,
        "the pack must be a mapping with schema_version, name, version, technologies and rules",
        more_fixes=_fix,
    )
    problems = _cross_reference_problems(pack, source)
    if problems:
        raise InputError(source.file, problems)
    return pack


def load_pack(path: Path | str) -> LoadedPack:
    """The user's pack at ``path`` (the built-in one comes from ``mdrisk.bundled``)."""
    source = parse_document(read_text(Path(path)), str(path))
    return LoadedPack(pack_from_document(source), str(path), source.sha256)


# --- evaluation ---------------------------------------------------------------------------


@dataclass(frozen=True)
class ElementView:
    """What a rule can look at in one component or link of a device model."""

    element: str
    element_type: ElementType
    technologies: tuple[Technology, ...]
    component: Component | None = None
    link: Link | None = None
    source_kind: ComponentKind | None = None
    target_kind: ComponentKind | None = None
    # How false data from this element reaches an ML engine: inference_input, model_update.
    feeds_ml: frozenset[str] = frozenset()

    @classmethod
    def of_component(
        cls, component: Component, feeds_ml: frozenset[str] = frozenset()
    ) -> ElementView:
        return cls(
            component.id,
            "component",
            tuple(component.technologies),
            component=component,
            feeds_ml=feeds_ml,
        )

    @classmethod
    def of_link(
        cls, link: Link, model: DeviceModel, feeds_ml: frozenset[str] = frozenset()
    ) -> ElementView:
        kinds = {c.id: c.kind for c in model.components}
        technology = link.channel.technology
        return cls(
            link.id,
            "link",
            (technology,) if technology else (),
            link=link,
            source_kind=kinds.get(link.source),
            target_kind=kinds.get(link.target),
            feeds_ml=feeds_ml,
        )


@dataclass(frozen=True)
class RuleHit:
    """A rule that applies to an element; ``technology`` indexes the element's technologies
    (None: the rule is about the element as a whole)."""

    rule: Rule
    technology: int | None
    matched_on: str


def _technology_reasons(
    conditions: Conditions, technology: Technology, families: list[TechnologyFamily]
) -> list[str] | None:
    """Why the technology meets the technology conditions, or None when it does not."""
    reasons: list[str] = []
    if conditions.technologies or conditions.technology_categories:
        chosen = [
            f
            for f in families
            if f.id in conditions.technologies or f.category in conditions.technology_categories
        ]
        if not chosen:
            return None
        same = " ".join(technology.name.lower().split()) == chosen[0].name.lower()
        reasons.append(
            technology.name if same else f"{technology.name} recognised as {chosen[0].name}"
        )
    if conditions.version is not None:
        if not technology.version or not re.search(
            conditions.version, technology.version, re.IGNORECASE
        ):
            return None
        reasons.append(f"version {technology.version}")
    config = {fold(k): fold(v) for k, v in technology.config.items()}
    for key, allowed in conditions.folded_config.items():
        value = config.get(key)
        if value not in allowed:
            return None
        reasons.append(f"{key} not set" if value is None else f"{key}={value}")
    return reasons


def _element_reasons(conditions: Conditions, view: ElementView) -> list[str] | None:
    """Why the element meets the element conditions, or None when it does not."""
    if view.element_type not in conditions.elements:
        return None
    reasons: list[str] = []
    component, link = view.component, view.link
    if conditions.component_kinds and (
        component is None or component.kind not in conditions.component_kinds
    ):
        return None
    if conditions.link_kinds and (link is None or link.kind not in conditions.link_kinds):
        return None
    if conditions.source_kinds and view.source_kind not in conditions.source_kinds:
        return None
    if conditions.target_kinds and view.target_kind not in conditions.target_kinds:
        return None
    if conditions.endpoint_kinds and not (
        {view.source_kind, view.target_kind} & set(conditions.endpoint_kinds)
    ):
        return None
    if conditions.zone is not None:
        if (
            component is None
            or not component.zone
            or not re.search(conditions.zone, component.zone, re.IGNORECASE)
        ):
            return None
        reasons.append(f"zone {component.zone}")
    if conditions.protections:
        shield: Protections = link.channel.protections if link else Protections()
        for name, expected in conditions.protections.items():
            if getattr(shield, name) is not expected:
                return None
        reasons.append(
            "protections "
            + ", ".join(
                f"{name}={'yes' if expected else 'no'}"
                for name, expected in sorted(conditions.protections.items())
            )
        )
    if conditions.ml is not None:
        ml = component.ml if component else None
        if ml is None:
            return None
        wanted = conditions.ml
        if wanted.locked is not None and ml.locked is not wanted.locked:
            return None
        if wanted.update_path is not None and bool(ml.update_path) is not wanted.update_path:
            return None
        continuous = any(source.continuous for source in ml.training_data)
        if wanted.continuous_training is not None and continuous is not wanted.continuous_training:
            return None
        if wanted.task_types and ml.task_type not in wanted.task_types:
            return None
        reasons.append(
            f"ML engine ({ml.task_type}"
            + (", unlocked" if not ml.locked else "")
            + (", continuous training data" if continuous else "")
            + (", updated over " + ", ".join(ml.update_path) if ml.update_path else "")
            + ")"
        )
    if conditions.feeds_ml:
        reached = sorted(view.feeds_ml & set(conditions.feeds_ml))
        if not reached:
            return None
        reasons.append(
            "upstream of an ML "
            + " and ".join(
                "input" if target == "inference_input" else "model update" for target in reached
            )
        )
    if conditions.link_kinds and link is not None:
        reasons.insert(0, f"{link.kind.value} link")
    if conditions.component_kinds and component is not None:
        reasons.insert(0, f"{component.kind.value}")
    return reasons


def evaluate(pack: TechnologyPack, view: ElementView) -> list[RuleHit]:
    """Every rule of the pack that applies to the element, in pack order.

    A rule gives at most one hit per element: on the first technology it applies to (the
    others named in ``matched_on``), else on the element as a whole. A rule whose
    ``superseded_by`` rules apply to the same element is dropped.
    """
    families = [pack.families_of(technology) for technology in view.technologies]
    hits: list[RuleHit] = []
    for rule in pack.rules:
        element_reason: str | None = None
        by_technology: dict[int, str] = {}
        for conditions in rule.applies_to:
            element_reasons = _element_reasons(conditions, view)
            if element_reasons is None:
                continue
            if not conditions.technology_bound:
                if element_reason is None:
                    element_reason = "; ".join(element_reasons) or view.element_type
                continue
            for index, technology in enumerate(view.technologies):
                tech_reasons = _technology_reasons(conditions, technology, families[index])
                if tech_reasons is not None and index not in by_technology:
                    by_technology[index] = "; ".join(tech_reasons + element_reasons)
        if by_technology:
            # One finding per rule and element: on its first technology, naming the others.
            first, *others = sorted(by_technology)
            reason = by_technology[first]
            if others:
                reason += "; also " + ", ".join(view.technologies[i].name for i in others)
            hits.append(RuleHit(rule, first, reason))
        elif element_reason is not None:
            hits.append(RuleHit(rule, None, element_reason))
    applied = {hit.rule.id for hit in hits}
    return [hit for hit in hits if not applied.intersection(hit.rule.superseded_by)]
