"""The technology lexicon (data/technology-lexicon.yaml): schema, loading, compiled matchers."""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum
from functools import cached_property
from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, field_validator

from mdrisk.errors import InputError, Problem
from mdrisk.model.schema import ComponentKind
from mdrisk.parsing.source import SourceDocument, parse_document, read_text
from mdrisk.parsing.validation import StrictModel, validated

# Numbers followed by these are measurements, not versions ("2.4 GHz", "6 m", "2 GB").
UNITS = (
    r"(?:GHz|MHz|kHz|Hz|mV|V|mW|W|mAh|mA|TB|GB|MB|kB|KB|km|cm|mm|m|ft|in|ms|s|sec|"
    r"seconds?|min|minutes?|h|hrs?|hours?|days?|weeks?|months?|years?|%|mmHg|bpm|"
    r"beats|dBm|dB|fps|x|px|bits?|bytes?|units?|mg/dL|mmol/L|g|kg|lb|slides|sites|"
    r"images|patients|readings|followers)\b"
)
_VERSION_LEAD = (
    r"(?:\s*[®™]?\s*\(?\s*|\s*,\s*(?=v(?:ersion)?\b))(?:(?:kernel|core)\s+)?"
    r"(?:(?:version|ver\.?|v|release)\s*)?"
)
_LIST_LEAD = r"\s*(?:,|/|&|\bor\b|\band\b|\bthrough\b|\bto\b)\s*(?:v(?:ersion)?\s*)?"


class Category(StrEnum):
    radio = "radio"
    wired = "wired"
    network_protocol = "network_protocol"
    medical_protocol = "medical_protocol"
    security = "security"
    operating_system = "operating_system"
    cloud_platform = "cloud_platform"
    container_platform = "container_platform"
    ml_framework = "ml_framework"
    component = "component"


class Implies(StrEnum):
    link = "link"
    protection = "protection"
    host = "host"
    component = "component"


def _check_regex(value: str) -> str:
    try:
        re.compile(value, re.IGNORECASE)
    except re.error as error:
        raise ValueError(f"not a valid regular expression: {error}") from None
    return value


Regex = Annotated[str, Field(min_length=1)]


class TechnologyEntry(StrictModel):
    id: Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]*$")]
    name: Annotated[str, Field(min_length=1, max_length=100)]
    category: Category
    implies: Implies
    kind: ComponentKind | None = None
    aliases: list[str] = Field(default_factory=list)
    abbreviations: list[str] = Field(default_factory=list)
    patterns: list[Regex] = Field(default_factory=list)
    unversioned: list[str] = Field(default_factory=list)
    version: Regex | None = None
    version_rewrite: list[tuple[Regex, str]] = Field(default_factory=list)
    generic_of: list[str] = Field(default_factory=list)
    anaphors: list[str] = Field(default_factory=list)
    vendor: str | None = None
    product: str | None = None

    @field_validator("patterns", "version")
    @classmethod
    def _compiles(cls, value: list[str] | str | None) -> list[str] | str | None:
        for pattern in [value] if isinstance(value, str) else value or []:
            _check_regex(pattern)
        return value


class Cue(StrictModel):
    cue: Regex
    window: Annotated[int, Field(ge=1, le=60)]
    # How a comma between cue and mention is read: "list" continues only into a list of
    # further technologies, "stop" ends the scope, "pass" ignores commas (appositions).
    comma: Literal["list", "stop", "pass"] = "list"

    @field_validator("cue")
    @classmethod
    def _compiles(cls, value: str) -> str:
        return _check_regex(value)


class CueSet(StrictModel):
    before: list[Cue] = Field(default_factory=list)
    after: list[Cue] = Field(default_factory=list)
    clause: list[Regex] = Field(default_factory=list)


class Cues(StrictModel):
    clause_breaks: list[Regex]
    negation: CueSet
    hypothetical: CueSet
    other_device: CueSet
    other_device_end: list[Regex] = Field(default_factory=list)
    other_device_except: list[Regex] = Field(default_factory=list)
    directives: list[Regex]

    @field_validator("clause_breaks", "other_device_end", "other_device_except", "directives")
    @classmethod
    def _compiles(cls, value: list[str]) -> list[str]:
        for pattern in value:
            _check_regex(pattern)
        return value


class LexiconFile(StrictModel):
    schema_version: Literal[1]
    technologies: list[TechnologyEntry] = Field(min_length=1)
    cues: Cues


def _phrase_regex(phrase: str, plural: bool) -> str:
    words = [re.escape(word) + "[®™]?" for word in re.split(r"[\s\-]+", phrase.strip()) if word]
    body = r"[\s\-]*".join(words)
    return rf"(?<![\w]){body}{'(?:s|es)?' if plural else ''}(?![\w])"


@dataclass(frozen=True)
class Matcher:
    """One technology's compiled recognisers: its names (aliases case-insensitive, then
    abbreviations as written), then each pattern on its own (a pattern may hold a version)."""

    entry: TechnologyEntry
    recognisers: tuple[re.Pattern[str], ...]
    unversioned: re.Pattern[str] | None
    version_first: re.Pattern[str] | None
    version_more: re.Pattern[str] | None


def _compile(entry: TechnologyEntry) -> Matcher:
    plural = entry.category == Category.component
    recognisers = []
    if entry.aliases:
        recognisers.append(
            re.compile(
                "|".join(_phrase_regex(alias, plural) for alias in entry.aliases), re.IGNORECASE
            )
        )
    if entry.abbreviations:
        recognisers.append(
            re.compile(
                "|".join(_phrase_regex(abbreviation, False) for abbreviation in entry.abbreviations)
            )
        )
    recognisers.extend(re.compile(pattern, re.IGNORECASE) for pattern in entry.patterns)
    version_first = version_more = None
    if entry.version:
        tail = rf"(?P<version>{entry.version})(?![\w.]*\d)(?!\w)(?!\s*{UNITS})"
        version_first = re.compile(_VERSION_LEAD + tail, re.IGNORECASE)
        version_more = re.compile(_LIST_LEAD + tail, re.IGNORECASE)
    unversioned = None
    if entry.unversioned:
        unversioned = re.compile(
            "|".join(_phrase_regex(alias, False) for alias in entry.unversioned), re.IGNORECASE
        )
    return Matcher(
        entry=entry,
        recognisers=tuple(recognisers),
        unversioned=unversioned,
        version_first=version_first,
        version_more=version_more,
    )


@dataclass(frozen=True)
class Lexicon:
    """The loaded lexicon, compiled once."""

    data: LexiconFile
    source: str
    sha256: str

    @cached_property
    def matchers(self) -> tuple[Matcher, ...]:
        return tuple(_compile(entry) for entry in self.data.technologies)

    @cached_property
    def by_id(self) -> dict[str, TechnologyEntry]:
        return {entry.id: entry for entry in self.data.technologies}

    @cached_property
    def by_name(self) -> dict[str, TechnologyEntry]:
        return {entry.name.casefold(): entry for entry in self.data.technologies}

    def normalise_version(self, entry: TechnologyEntry, version: str) -> str:
        version = version.strip()
        for pattern, replacement in entry.version_rewrite:
            version = re.sub(pattern, replacement, version, flags=re.IGNORECASE)
        return version


def lexicon_from_text(text: str, source: str) -> Lexicon:
    """Parse and check a lexicon; InputError with located problems when it is wrong."""
    return lexicon_from_document(parse_document(text, source))


def lexicon_from_document(document: SourceDocument, label: str = "") -> Lexicon:
    """The checked lexicon of a parsed document; ``label`` names it in what it finds (default:
    the document's file)."""
    source = document.file
    data = validated(
        LexiconFile,
        document,
        "the lexicon must be a mapping with schema_version, technologies and cues",
    )
    ids = [entry.id for entry in data.technologies]
    problems = []
    for index, entry in enumerate(data.technologies):
        path = ("technologies", index)
        if ids.count(entry.id) > 1:
            problems.append(
                Problem(
                    f"id '{entry.id}' is used more than once", line=document.line_of(path + ("id",))
                )
            )
        for other in entry.generic_of:
            if other not in ids:
                problems.append(
                    Problem(
                        f"generic_of names '{other}', which is not an id",
                        line=document.line_of(path + ("generic_of",)),
                    )
                )
        if (entry.implies == Implies.component) != (entry.kind is not None):
            problems.append(
                Problem("give kind exactly when implies is component", line=document.line_of(path))
            )
        if not (entry.aliases or entry.abbreviations or entry.patterns):
            problems.append(
                Problem(
                    f"'{entry.id}' has no aliases, abbreviations or patterns",
                    line=document.line_of(path),
                )
            )
    if problems:
        raise InputError(source, problems)
    return Lexicon(data=data, source=label or source, sha256=document.sha256)


def load_lexicon(path: Path | str) -> Lexicon:
    """The user's lexicon at ``path`` (the built-in one comes from ``mdrisk.bundled``)."""
    return lexicon_from_text(read_text(Path(path)), str(path))
