"""The scenario generator's data: attacker profiles and scenario rules, validated.

Both files live in ``mdrisk/data/`` (``attacker-profiles.yaml``, ``scenario-rules.yaml``),
are written by the project and reviewed like code; ``mdrisk.bundled`` reads them once.
``*_from_document`` and ``load_*`` (a user's file) give located errors (file, line, field,
fix) for a broken file, as the technology pack does.
"""

from __future__ import annotations

import re
from functools import cached_property
from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, field_validator
from pydantic_core import ErrorDetails

from mdrisk.assessment.scenarios import CATEGORIES, InjectionKind, ScenarioCategory
from mdrisk.errors import InputError, Problem
from mdrisk.kb.pack import ATLAS_TECHNIQUE, RULE_ID, Category, ProtectionName
from mdrisk.model.schema import ComponentKind, LinkKind, SignalNature, UCAType
from mdrisk.parsing.source import SourceDocument, parse_document, read_text
from mdrisk.parsing.validation import Schema, StrictModel, validated

SNAKE_ID = r"^[a-z][a-z0-9_]*$"

Fraction = Annotated[float, Field(ge=0.0, le=1.0)]
SnakeId = Annotated[str, Field(pattern=SNAKE_ID)]


def _compiles(pattern: str | None) -> str | None:
    if pattern is not None:
        try:
            re.compile(pattern, re.IGNORECASE)
        except re.error as exc:
            raise ValueError(f"{pattern!r} is not a regular expression ({exc})") from None
    return pattern


# --- attacker profiles -------------------------------------------------------------------


class Reach(StrictModel):
    """One way an attacker reaches an element; every condition given must hold."""

    elements: list[Literal["component", "link"]] = Field(min_length=1)
    component_kinds: list[ComponentKind] = Field(default_factory=list)
    link_kinds: list[LinkKind] = Field(default_factory=list)
    zone: str | None = None
    exclude_zone: str | None = None
    endpoint_kinds: list[ComponentKind] = Field(default_factory=list)
    target_kinds: list[ComponentKind] = Field(default_factory=list)
    endpoint_zone: str | None = None
    target_zone: str | None = None
    technology_families: list[SnakeId] = Field(default_factory=list)
    technology_categories: list[Category] = Field(default_factory=list)
    in_process: bool | None = None
    protections: dict[ProtectionName, bool] = Field(default_factory=dict)
    feeds_ml: list[Literal["inference_input", "model_update"]] = Field(default_factory=list)
    training_source: bool | None = None
    into_training_source: bool | None = None
    why: Annotated[str, Field(min_length=3, max_length=200)]

    @field_validator("zone", "exclude_zone", "endpoint_zone", "target_zone")
    @classmethod
    def _regex(cls, value: str | None) -> str | None:
        return _compiles(value)


Skill = Literal["low", "medium", "high"]


class Profile(StrictModel):
    id: SnakeId
    name: Annotated[str, Field(min_length=3, max_length=120)]
    description: Annotated[str, Field(min_length=20, max_length=2000)]
    access_vector: Literal["physical", "local", "adjacent", "network"]
    skill: Skill
    reach_score: Fraction
    prerequisites: list[Annotated[str, Field(min_length=3)]] = Field(min_length=1)
    reaches: list[Reach] = Field(min_length=1)


class ProfileSet(StrictModel):
    schema_version: Literal[1]
    profiles: list[Profile] = Field(min_length=1)

    @cached_property
    def by_id(self) -> dict[str, Profile]:
        return {profile.id: profile for profile in self.profiles}


# --- scenario rules ----------------------------------------------------------------------


class UcaInjection(StrictModel):
    kinds: list[InjectionKind] = Field(min_length=1)
    aim: Annotated[str, Field(min_length=5)]


EngineEntry = Literal["upstream_inputs", "nearest_inputs", "model_updates", "training_sources"]


class Family(StrictModel):
    id: SnakeId
    title: Annotated[str, Field(min_length=5, max_length=200)]
    category: ScenarioCategory | None = None
    engine_entry: EngineEntry | None = None
    # not_person: the attacker acts through records or documents, never a person's own entry.
    entry_origin: Literal["any", "not_person"] = "any"
    # Only ML inputs of these natures are entries (empty: any); an input whose nature the
    # model does not declare is kept. Prompt injection needs text: records, events, ids.
    input_natures: list[SignalNature] = Field(default_factory=list)
    attackers: list[SnakeId] = Field(min_length=1)
    injections: list[InjectionKind] = Field(default_factory=list)
    ease: Fraction
    atlas: list[Annotated[str, Field(pattern=ATLAS_TECHNIQUE)]] = Field(default_factory=list)
    prerequisites: list[Annotated[str, Field(min_length=3)]] = Field(default_factory=list)
    injection: Annotated[str, Field(min_length=10)] | None = None
    rules: list[Annotated[str, Field(pattern=RULE_ID)]] = Field(min_length=1)

    @field_validator("category")
    @classmethod
    def _ai_category(cls, value: ScenarioCategory | None) -> ScenarioCategory | None:
        if value in ("fdi", "model_update"):
            raise ValueError(f"'{value}' is given by the FDI point; leave category null")
        return value


class Scoring(StrictModel):
    weights: dict[
        Literal["reach", "skill", "ease", "known_exploited", "epss", "protections_missing", "hops"],
        Fraction,
    ]
    skill: dict[Skill, Fraction]

    @field_validator("weights")
    @classmethod
    def _complete(cls, weights: dict[str, float]) -> dict[str, float]:
        missing = {
            "reach",
            "skill",
            "ease",
            "known_exploited",
            "epss",
            "protections_missing",
            "hops",
        } - set(weights)
        if missing:
            raise ValueError(f"weights for {', '.join(sorted(missing))} are missing")
        if abs(sum(weights.values()) - 1.0) > 1e-6:
            raise ValueError(f"the weights add up to {sum(weights.values()):g}, not 1")
        return weights


class ScenarioRules(StrictModel):
    schema_version: Literal[1]
    uca_types: dict[UCAType, UcaInjection]
    injection_kinds: dict[InjectionKind, Annotated[str, Field(min_length=3)]]
    confidentiality_losses: str
    scoring: Scoring
    families: list[Family] = Field(min_length=1)

    @field_validator("confidentiality_losses")
    @classmethod
    def _regex(cls, value: str) -> str:
        return _compiles(value) or value

    @field_validator("uca_types")
    @classmethod
    def _every_type(cls, value: dict[UCAType, UcaInjection]) -> dict[UCAType, UcaInjection]:
        missing = [t.value for t in UCAType if t not in value]
        if missing:
            raise ValueError(f"no injection given for UCA type(s) {', '.join(missing)}")
        return value

    @cached_property
    def by_id(self) -> dict[str, Family]:
        return {family.id: family for family in self.families}

    @cached_property
    def families_of_rule(self) -> dict[str, list[Family]]:
        found: dict[str, list[Family]] = {}
        for family in self.families:
            for rule in family.rules:
                found.setdefault(rule, []).append(family)
        return found


# --- loading -----------------------------------------------------------------------------


def _fix(error: ErrorDetails) -> str:
    if error["type"] == "string_pattern_mismatch":
        return f"write a value matching {error.get('ctx', {}).get('pattern', '')}"
    if error["type"] in ("enum", "literal_error"):
        return f"use one of {error.get('ctx', {}).get('expected', 'the allowed values')}"
    return ""


def _validated(model: type[Schema], source: SourceDocument) -> Schema:
    return validated(
        model,
        source,
        "the file must be a mapping with schema_version",
        fix="start with 'schema_version: 1'",
        more_fixes=_fix,
    )


def _duplicates(ids: list[str], where: str, source: SourceDocument) -> list[Problem]:
    seen: set[str] = set()
    problems = []
    for index, identifier in enumerate(ids):
        if identifier in seen:
            path = (where, index, "id")
            problems.append(
                Problem(
                    f"'{identifier}' is defined twice",
                    field=source.render_path(path),
                    line=source.line_of(path),
                    fix="give each its own id",
                )
            )
        seen.add(identifier)
    return problems


def profiles_from_text(text: str, file: str) -> ProfileSet:
    """Validate attacker-profile text; InputError names file, line, profile and field."""
    return profiles_from_document(parse_document(text, file))


def profiles_from_document(source: SourceDocument) -> ProfileSet:
    """The validated attacker profiles of a parsed document."""
    file = source.file
    profiles = _validated(ProfileSet, source)
    problems = _duplicates([p.id for p in profiles.profiles], "profiles", source)
    if problems:
        raise InputError(file, problems)
    return profiles


def rules_from_text(text: str, file: str, profiles: ProfileSet) -> ScenarioRules:
    """Validate scenario-rule text against the attacker profiles it names."""
    return rules_from_document(parse_document(text, file), profiles)


def rules_from_document(source: SourceDocument, profiles: ProfileSet) -> ScenarioRules:
    """The validated scenario rules of a parsed document, checked against ``profiles``."""
    file = source.file
    rules = _validated(ScenarioRules, source)
    problems = _duplicates([f.id for f in rules.families], "families", source)
    for f_index, family in enumerate(rules.families):
        for a_index, attacker in enumerate(family.attackers):
            if attacker not in profiles.by_id:
                path: tuple[str | int, ...] = ("families", f_index, "attackers", a_index)
                problems.append(
                    Problem(
                        f"unknown attacker profile '{attacker}'",
                        field=source.render_path(path),
                        line=source.line_of(path),
                        fix="name a profile of attacker-profiles.yaml",
                    )
                )
        if family.category is not None and family.engine_entry is None:
            path = ("families", f_index, "engine_entry")
            problems.append(
                Problem(
                    "an AI-specific family needs an engine_entry",
                    field=source.render_path(path),
                    line=source.line_of(path),
                    fix="say where the attacker acts on the engine",
                )
            )
        if family.category is not None and not family.atlas:
            path = ("families", f_index, "atlas")
            problems.append(
                Problem(
                    "an AI-specific family must name its ATLAS techniques",
                    field=source.render_path(path),
                    line=source.line_of(path),
                    fix="list the ATLAS techniques it cites",
                )
            )
    if problems:
        raise InputError(file, problems)
    return rules


def load_profiles(path: Path | str) -> ProfileSet:
    """The user's attacker profiles at ``path`` (built-in ones come from ``mdrisk.bundled``)."""
    return profiles_from_text(read_text(Path(path)), str(path))


def load_rules(path: Path | str, profiles: ProfileSet) -> ScenarioRules:
    """The user's scenario rules at ``path``, checked against ``profiles``."""
    return rules_from_text(read_text(Path(path)), str(path), profiles)


__all__ = [
    "CATEGORIES",
    "Family",
    "Profile",
    "ProfileSet",
    "Reach",
    "ScenarioRules",
    "profiles_from_document",
    "rules_from_document",
    "load_profiles",
    "load_rules",
]
