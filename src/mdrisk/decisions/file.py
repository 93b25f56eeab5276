"""The decisions file: what the analyst decided about each finding, keyed by its stable id.

    schema_version: 1
    decisions:
      R-f25cc5:                          # a risk, loss-scenario class, attack scenario, threat
        status: accepted                 # open | mitigated | accepted | not_affected | false_positive
        justification: Bolus commands are confirmed on the pump's own screen.
        owner: J. Rivera (security lead)
        date: 2026-11-30
      CVE-2020-27270@insulin_pump:       # a vulnerability, optionally @threat or @element
        status: not_affected
        justification: The pump firmware in this device never enables the affected service.
        vex_justification: code_not_reachable    # optional, CycloneDX, not_affected only
        owner: J. Rivera
        date: 2026-11-30

Every status but ``open`` needs a justification. Keys are checked for their form when the
file is read; whether they name a finding is checked against each assessment (a decision
about something that is gone is stale, not an error).
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, field_validator, model_validator

from mdrisk.assessment.decisions import DecisionStatus
from mdrisk.errors import InputError, Problem
from mdrisk.model.loader import schema_fix
from mdrisk.parsing.source import SourceDocument, parse_document, read_text
from mdrisk.parsing.validation import StrictModel, validated

MAX_DECISIONS = 10_000
# Far above what 10,000 decisions take; refused before reading, as parsing is the slow part.
MAX_DECISIONS_BYTES = 4 * 1024 * 1024
Text = Annotated[str, Field(min_length=1, max_length=4000)]
Owner = Annotated[str, Field(min_length=1, max_length=200)]
VexJustification = Literal[
    "code_not_present",
    "code_not_reachable",
    "requires_configuration",
    "requires_dependency",
    "requires_environment",
    "protected_by_compiler",
    "protected_at_runtime",
    "protected_at_perimeter",
    "protected_by_mitigating_control",
]

# The stable ids of the findings a decision may name (see mdrisk.stable_ids).
FINDING_PREFIXES = {"R": "risk", "LS": "loss_scenario", "SC": "scenario", "TH": "threat"}
FINDING_ID = re.compile(r"^(R|LS|SC|TH)-[0-9a-f]{6,64}$")
VULNERABILITY_ID = re.compile(r"^(CVE-\d{4}-\d{4,7}|GHSA(-[23456789cfghjmpqrvwx]{4}){3})$")
ELEMENT_ID = re.compile(r"^[A-Za-z][A-Za-z0-9_.\-]{0,79}$")
THREAT_ID = re.compile(r"^TH-[0-9a-f]{6,64}$")


class DecisionEntry(StrictModel):
    status: DecisionStatus
    justification: Text | None = None
    owner: Owner
    date: Annotated[str, Field(max_length=10)]
    vex_justification: VexJustification | None = None

    @field_validator("date")
    @classmethod
    def _iso_date(cls, value: str) -> str:
        try:
            if len(value) != 10:
                raise ValueError
            dt.date.fromisoformat(value)
        except ValueError:
            raise ValueError(
                f"'{value}' is not an ISO date (fix: write the date as YYYY-MM-DD)"
            ) from None
        return value

    @model_validator(mode="after")
    def _justified(self) -> DecisionEntry:
        if self.status != "open" and self.justification is None:
            raise ValueError(
                f"a '{self.status}' decision needs a justification "
                "(fix: add 'justification: ...' saying why)"
            )
        if self.vex_justification is not None and self.status != "not_affected":
            raise ValueError(
                "vex_justification goes only with status not_affected "
                "(fix: remove it, or set status: not_affected)"
            )
        return self


class DecisionsFile(StrictModel):
    schema_version: Literal[1] = 1
    decisions: dict[Annotated[str, Field(max_length=200)], DecisionEntry] = Field(
        default_factory=dict, max_length=MAX_DECISIONS
    )


@dataclass(frozen=True)
class ParsedKey:
    finding: str
    kind: str
    scope: str | None = None


def parse_key(key: str) -> ParsedKey | None:
    """What a key names: a finding id, or a vulnerability id with its optional scope."""
    if FINDING_ID.match(key):
        return ParsedKey(key, FINDING_PREFIXES[key.split("-", 1)[0]])
    vulnerability, at, scope = key.partition("@")
    if not VULNERABILITY_ID.match(vulnerability):
        return None
    if at and not (THREAT_ID.match(scope) or ELEMENT_ID.match(scope)):
        return None
    return ParsedKey(vulnerability, "vulnerability", scope if at else None)


@dataclass(frozen=True)
class LoadedDecisions:
    file: str
    sha256: str
    decisions: DecisionsFile

    def entries(self) -> list[tuple[str, ParsedKey, DecisionEntry]]:
        """Every decision with what its key names, in key order."""
        found = []
        for key in sorted(self.decisions.decisions):
            parsed = parse_key(key)
            assert parsed is not None  # checked when the file was read
            found.append((key, parsed, self.decisions.decisions[key]))
        return found


def _key_problems(decisions: DecisionsFile, source: SourceDocument) -> list[Problem]:
    problems = []
    for key, entry in decisions.decisions.items():
        parsed = parse_key(key)
        path = ("decisions", key)
        field, line = source.render_path(path), source.line_of(path)
        if parsed is None:
            problems.append(
                Problem(
                    f"'{key}' names no finding",
                    fix="key a decision by a finding's id as the assessment writes it "
                    "(R-, LS-, SC-, TH- and six or more hex digits) or by a vulnerability id "
                    "(CVE-2020-27269, optionally @TH-... or @element)",
                    field=field,
                    line=line,
                )
            )
        elif entry.vex_justification is not None and parsed.kind != "vulnerability":
            problems.append(
                Problem(
                    "vex_justification applies only to a vulnerability (the VEX lists no "
                    f"{parsed.kind.replace('_', ' ')})",
                    fix="remove it",
                    field=field,
                    line=line,
                )
            )
    return problems


def decisions_from_text(text: str, file: str) -> LoadedDecisions:
    if not text.strip():
        raise InputError(
            file, [Problem("the file is empty", fix="write 'schema_version: 1' and 'decisions:'")]
        )
    source = parse_document(text, file)
    decisions = validated(
        DecisionsFile,
        source,
        "the decisions file must be a mapping with 'decisions' in it",
        fix="start the file with 'schema_version: 1' and 'decisions:'",
        more_fixes=schema_fix,
    )
    problems = _key_problems(decisions, source)
    if problems:
        raise InputError(file, problems)
    return LoadedDecisions(file, source.sha256, decisions)


def load_decisions(path: Path | str) -> LoadedDecisions:
    """Read and check a decisions file; InputError names the file, line and field."""
    path = Path(path)
    text = read_text(path, MAX_DECISIONS_BYTES, "a decisions file")
    return decisions_from_text(text, str(path))
