"""What importers produce and the store keeps: plain, frozen records.

An importer turns one file into an ``ImportBatch``; nothing touches the store until every file
of an import has parsed, so a bad file leaves the store as it was.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

# Kinds of record, one vocabulary for every importer.
VULNERABILITY = "vulnerability"  # data: description, published, cwes, cvss[], references
ADVISORY = "advisory"  # data: title, published, vendor(s), cves[], url
KEV = "kev"  # data: vendor, product, name, date_added, ransomware, due_date
EPSS = "epss"  # data: epss, percentile, date
WEAKNESS = "weakness"  # CWE: name, description, status, parents[]
ATTACK_PATTERN = "attack_pattern"  # CAPEC: name, description, severity, likelihood
TECHNIQUE = "technique"  # ATT&CK Enterprise/ICS and ATLAS: name, description, tactics, framework
TACTIC = "tactic"
MITIGATION = "mitigation"
CASE_STUDY = "case_study"  # ATLAS case studies
SBOM_COMPONENT = "sbom_component"  # name, version, vendor, cpe, purl, type, properties

# Relations between ids (src --rel--> dst).
REL_CWE = "has_weakness"  # CVE -> CWE
REL_CAPEC = "exploited_by"  # CWE -> CAPEC
REL_TECHNIQUE = "maps_to_technique"  # CAPEC -> ATT&CK technique
REL_MITIGATION = "mitigated_by"  # technique/CAPEC/CWE -> mitigation
REL_CHILD_OF = "child_of"  # CWE/technique hierarchy
REL_ADVISORY = "described_in"  # CVE -> advisory


@dataclass(frozen=True)
class Record:
    kind: str
    id: str
    data: dict[str, Any]


@dataclass(frozen=True)
class AffectedEntry:
    """One product a vulnerability applies to (or explicitly does not), from one source.

    ``versions`` is a list of constraint dicts in one normalised form, understood by
    ``kb.matching.versions``: {"status": "affected"|"unaffected", "version": "1.2",
    "less_than": ..., "less_than_or_equal": ..., "greater_than": ...,
    "greater_than_or_equal": ..., "raw": "<the text as published>"}; an empty list means
    every version (``default_status`` says which way).
    """

    vuln_id: str
    vendor: str
    product: str
    versions: tuple[dict[str, Any], ...] = ()
    default_status: str = "affected"
    cpe: str | None = None
    purl: str | None = None


@dataclass(frozen=True)
class AffectedName:
    """An affected row's names without its versions (``versions`` only where asked for)."""

    vendor: str
    product: str
    cpe: str | None = None
    purl: str | None = None
    versions: tuple[dict[str, Any], ...] = ()


@dataclass(frozen=True)
class Relation:
    src: str
    rel: str
    dst: str


@dataclass
class ImportBatch:
    """Everything one file contributes. ``source_key`` names the document: re-importing a
    document with the same key replaces its earlier rows, so imports can be repeated."""

    importer: str
    source_key: str
    records: list[Record] = field(default_factory=list)
    affected: list[AffectedEntry] = field(default_factory=list)
    relations: list[Relation] = field(default_factory=list)
