"""MITRE CAPEC attack patterns from the STIX 2.1 bundle (``stix-capec.json``).

In: a STIX bundle whose attack patterns carry ``x_capec_*`` fields. Out: one batch with an
``attack_pattern`` record per live pattern (id ``CAPEC-n``), a ``mitigation`` record per CAPEC
course of action (id: its STIX id, since CAPEC's own ``coa-n-m`` names are not unique), and the
relations CWE -exploited_by-> CAPEC, CAPEC -maps_to_technique-> ATT&CK technique, CAPEC
-child_of-> CAPEC and CAPEC -mitigated_by-> mitigation. Deprecated and obsolete patterns are
left out on purpose (counted in ``skipped``): CAPEC keeps them only to redirect old ids.
"""

from __future__ import annotations

import re
from collections import Counter
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

from mdrisk.kb.catalog_ids import CAPEC_ID, CWE_ID, natural
from mdrisk.kb.importers._stix import (
    StixObject,
    load_bundle,
    looks_like_bundle,
    refuse_object,
    relationships,
)
from mdrisk.kb.importers._text import fold, plain_text, shorten
from mdrisk.kb.importers.base import Importer
from mdrisk.kb.records import (
    ATTACK_PATTERN,
    MITIGATION,
    REL_CAPEC,
    REL_CHILD_OF,
    REL_MITIGATION,
    REL_TECHNIQUE,
    ImportBatch,
    Record,
    Relation,
)

SOURCE_KEY = "mitre-capec"
ATTACK_ID = re.compile(r"T?([0-9]{4}(?:\.[0-9]{3})?)")


class CapecImporter(Importer):
    name = "capec"
    whole_catalogue = True
    description = "MITRE CAPEC attack patterns, mitigations and CWE/ATT&CK links (STIX 2.1)"

    def __init__(self) -> None:
        self.skipped: Counter[str] = Counter()

    @classmethod
    def sniff(cls, head: str, path: Path) -> bool:
        return looks_like_bundle(head) and '"x_capec_' in head

    def read(self, path: Path) -> list[ImportBatch]:
        objects = load_bundle(path)
        patterns: dict[str, str] = {}  # STIX id -> CAPEC-n
        for obj in objects:
            if obj.type != "attack-pattern":
                continue
            if obj.retired():
                self.skipped["deprecated or obsolete attack patterns"] += 1
                continue
            patterns[obj.id] = capec_id_of(obj)
        if len(set(patterns.values())) != len(patterns):
            duplicate = Counter(patterns.values()).most_common(1)[0][0]
            obj = next(o for o in objects if patterns.get(o.id) == duplicate)
            raise refuse_object(
                obj,
                f"{duplicate} is given by more than one attack pattern",
                fix="keep one attack pattern per CAPEC id",
            )
        mitigations = {
            obj.id: obj.id
            for obj in objects
            if obj.type == "course-of-action" and not obj.retired()
        }

        records: list[Record] = []
        relations: list[Relation] = []
        for obj in objects:
            if obj.id in patterns:
                record, links = pattern_record(obj, patterns, self.skipped)
                records.append(record)
                relations += links
        mitigated: dict[str, list[str]] = {}
        capec_ids = set(patterns.values())
        for source, target, _ in relationships(objects, {**patterns, **mitigations}, "mitigates"):
            if source in mitigations and target in capec_ids:
                relations.append(Relation(target, REL_MITIGATION, source))
                mitigated.setdefault(source, []).append(target)
        for obj in objects:
            if obj.id in mitigations:
                if obj.id not in mitigated:
                    self.skipped["mitigations of deprecated patterns only"] += 1
                    continue
                records.append(mitigation_record(obj, sorted(set(mitigated[obj.id]))))
        records.sort(key=lambda r: (r.kind, r.id))
        relations = sorted(set(relations), key=lambda r: (r.src, r.rel, r.dst))
        return [ImportBatch(self.name, SOURCE_KEY, records, [], relations)]


def capec_id_of(obj: StixObject) -> str:
    ids = obj.external_ids("capec")
    if not ids:
        raise refuse_object(
            obj,
            "attack pattern without a CAPEC id",
            fix="give an external reference with source_name 'capec' and external_id 'CAPEC-<n>'",
        )
    match = CAPEC_ID.fullmatch(ids[0])
    if match is None:
        raise refuse_object(
            obj, f"'{ids[0][:40]}' is not a CAPEC id", fix="write CAPEC ids as CAPEC-<number>"
        )
    return f"CAPEC-{int(match.group(1))}"


def pattern_record(
    obj: StixObject, patterns: dict[str, str], skipped: Counter[str]
) -> tuple[Record, list[Relation]]:
    fields = obj.fields
    capec = patterns[obj.id]
    cwes = []
    for raw in obj.external_ids("cwe"):
        match = CWE_ID.fullmatch(raw)
        if match is None:
            raise refuse_object(
                obj, f"'{raw[:40]}' is not a CWE id", fix="write CWE ids as CWE-<number>"
            )
        cwes.append(f"CWE-{int(match.group(1))}")
    techniques = []
    for raw in obj.external_ids("ATTACK"):
        match = ATTACK_ID.fullmatch(raw)
        if match is None:
            raise refuse_object(
                obj,
                f"'{raw[:40]}' is not an ATT&CK technique id",
                fix="write T<4 digits>, or T<4 digits>.<3 digits>",
            )
        techniques.append(f"T{match.group(1)}")
    parents = []
    for ref in fields.texts("x_capec_child_of_refs"):
        if ref in patterns:
            parents.append(patterns[ref])
        else:
            skipped["parent links to deprecated or missing patterns"] += 1
    url = next(
        (
            r.text("url")
            for r in fields.mappings("external_references")
            if r.text("source_name") == "capec"
        ),
        "",
    )
    data: dict[str, Any] = {
        "name": fold(fields.text("name", required=True)),
        "description": plain_text(fields.text("description")),
        "extended_description": plain_text(fields.text("x_capec_extended_description")),
        "abstraction": fields.text("x_capec_abstraction"),
        "status": fields.text("x_capec_status"),
        "likelihood": fields.text("x_capec_likelihood_of_attack"),
        "severity": fields.text("x_capec_typical_severity"),
        "prerequisites": [plain_text(t) for t in fields.texts("x_capec_prerequisites")],
        "consequences": fields.text_mapping("x_capec_consequences"),
        "skills_required": {
            level: plain_text(text) if isinstance(text, str) else text
            for level, text in fields.text_mapping("x_capec_skills_required").items()
        },
        "resources_required": [plain_text(t) for t in fields.texts("x_capec_resources_required")],
        "domains": fields.texts("x_capec_domains"),
        "execution_flow": execution_flow(fields.text("x_capec_execution_flow")),
        "cwes": sorted(set(cwes), key=natural),
        "techniques": sorted(set(techniques), key=natural),
        "parents": sorted(set(parents), key=natural),
        "framework": "capec",
        "url": url,
        "version": fields.text("x_capec_version"),
    }
    links = [Relation(cwe, REL_CAPEC, capec) for cwe in cwes]
    links += [Relation(capec, REL_TECHNIQUE, technique) for technique in techniques]
    links += [Relation(capec, REL_CHILD_OF, parent) for parent in parents]
    return Record(ATTACK_PATTERN, capec, data), links


def mitigation_record(obj: StixObject, mitigates: list[str]) -> Record:
    description = plain_text(obj.fields.text("description"))
    return Record(
        MITIGATION,
        obj.id,
        {
            "name": shorten(description, 120) or obj.fields.text("name"),
            "label": obj.fields.text("name"),
            "description": description,
            "framework": "capec",
            "mitigates": sorted(mitigates, key=natural),
        },
    )


class _FlowParser(HTMLParser):
    """Phases (``<h3>``) and step titles (``<b>``) of CAPEC's execution-flow HTML."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.phases: list[dict[str, Any]] = []
        self._capture: str | None = None
        self._buffer: list[str] = []

    def handle_starttag(self, tag: str, attrs: list) -> None:
        if tag in ("h3", "b"):
            self._capture, self._buffer = tag, []

    def handle_endtag(self, tag: str) -> None:
        if tag != self._capture:
            return
        text = fold("".join(self._buffer)).rstrip(":").strip()
        self._capture = None
        if not text:
            return
        if tag == "h3":
            self.phases.append({"phase": text, "steps": []})
        elif self.phases:
            self.phases[-1]["steps"].append(text)

    def handle_data(self, data: str) -> None:
        if self._capture:
            self._buffer.append(data)


def execution_flow(html: str) -> list[dict[str, Any]]:
    """[{"phase": "Explore", "steps": ["Spider", ...]}, ...] from the execution-flow HTML."""
    if not html:
        return []
    parser = _FlowParser()
    try:
        parser.feed(html)
        parser.close()
    except (AssertionError, ValueError):  # html.parser gives up on some broken markup
        return []
    return parser.phases
