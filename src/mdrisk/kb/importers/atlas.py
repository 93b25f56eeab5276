"""MITRE ATLAS (adversarial threats to AI systems) from the compiled ``ATLAS.yaml``.

In: the ATLAS YAML (top-level ``id: ATLAS``, ``matrices`` with tactics, techniques and
mitigations, and ``case-studies``). Out: one batch with ``tactic`` (``AML.TA0002``),
``technique`` (``AML.T0043``, sub-techniques ``AML.T0043.003``; framework ``atlas``),
``mitigation`` (``AML.M0000``) and ``case_study`` (``AML.CS0000``) records, and the relations
sub-technique -child_of-> technique and technique -mitigated_by-> mitigation. Sub-techniques,
which ATLAS lists without tactics, take their parent's.
"""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path
from typing import Any

from mdrisk.kb.catalog_ids import (
    ATLAS_CASE_STUDY_ID,
    ATLAS_MITIGATION_ID,
    ATLAS_TACTIC_ID,
    ATLAS_TECHNIQUE_ID,
    natural,
)
from mdrisk.kb.importers._fields import Fields
from mdrisk.kb.importers._text import fold
from mdrisk.kb.importers.base import Importer
from mdrisk.kb.records import (
    CASE_STUDY,
    MITIGATION,
    REL_CHILD_OF,
    REL_MITIGATION,
    TACTIC,
    TECHNIQUE,
    ImportBatch,
    Record,
    Relation,
)
from mdrisk.parsing.errors import refuse
from mdrisk.parsing.safe_yaml import load_yaml

SOURCE_KEY = "mitre-atlas"
FRAMEWORK = "atlas"
_HEAD = re.compile(r"\A\ufeff?(?:(?:---|#[^\n]*)?\s*\n)*id:\s*['\"]?ATLAS['\"]?\s*$", re.M)


class AtlasImporter(Importer):
    name = "atlas"
    whole_catalogue = True
    description = "MITRE ATLAS tactics, techniques, mitigations and case studies (YAML)"

    def __init__(self) -> None:
        self.skipped: Counter[str] = Counter()

    @classmethod
    def sniff(cls, head: str, path: Path) -> bool:
        return bool(_HEAD.match(head))

    def read(self, path: Path) -> list[ImportBatch]:
        top = Fields(path, "", load_yaml(path))
        version = top.value.get("version")
        version = str(version) if isinstance(version, (str, int, float)) else ""
        matrices = top.mappings("matrices")
        if not matrices:
            raise refuse(
                path,
                "no 'matrices' list",
                record="matrices",
                fix="this is not the compiled ATLAS.yaml",
            )
        tactics = [entry(item, ATLAS_TACTIC_ID) for m in matrices for item in m.mappings("tactics")]
        techniques = [
            entry(item, ATLAS_TECHNIQUE_ID) for m in matrices for item in m.mappings("techniques")
        ]
        mitigations = [
            entry(item, ATLAS_MITIGATION_ID) for m in matrices for item in m.mappings("mitigations")
        ]
        cases = [entry(item, ATLAS_CASE_STUDY_ID) for item in top.mappings("case-studies")]
        seen: set[str] = set()
        for identifier, item in tactics + techniques + mitigations + cases:
            if identifier in seen:
                raise item.refusal(f"{identifier} appears more than once", fix="give each id once")
            seen.add(identifier)

        records: list[Record] = []
        relations: list[Relation] = []
        technique_ids = {identifier for identifier, _ in techniques}
        own_tactics = {identifier: item.texts("tactics") for identifier, item in techniques}
        for identifier, item in tactics:
            records.append(Record(TACTIC, identifier, common(item, version)))
        for identifier, item in techniques:
            data = common(item, version)
            parent = item.text("subtechnique-of")
            if parent and parent not in technique_ids:
                raise item.refusal(
                    f"'subtechnique-of' names {parent[:40]}, which is not a technique of this file",
                    fix="name a technique listed in the matrices",
                )
            data.update(
                {
                    "tactics": own_tactics[identifier] or own_tactics.get(parent, []),
                    "parent": parent,
                    "is_subtechnique": bool(parent),
                    "maturity": item.text("maturity"),
                }
            )
            if parent:
                relations.append(Relation(identifier, REL_CHILD_OF, parent))
            records.append(Record(TECHNIQUE, identifier, data))
        for identifier, item in mitigations:
            data = common(item, version)
            lifecycle, uses = (
                [],
                [(f"techniques[{i}]", use) for i, use in enumerate(item.items("techniques"))],
            )
            for index, stage in enumerate(item.items("ml-lifecycle")):
                if isinstance(stage, str):
                    lifecycle.append(stage)
                else:
                    # ATLAS 5.6 has technique uses indented into this list by mistake.
                    uses.append((f"ml-lifecycle[{index}]", stage))
                    self.skipped["technique links found under ml-lifecycle (kept)"] += 1
            mitigated = []
            for where, use in uses:
                technique = (
                    use
                    if isinstance(use, str)
                    else Fields(path, f"{item.record}.{where}", use).text("id", required=True)
                )
                if technique in technique_ids:
                    mitigated.append(technique)
                    relations.append(Relation(technique, REL_MITIGATION, identifier))
                else:
                    self.skipped["mitigation links to techniques not in the file"] += 1
            data.update(
                {
                    "category": item.texts("category"),
                    "ml_lifecycle": lifecycle,
                    "mitigates": sorted(set(mitigated), key=natural),
                }
            )
            records.append(Record(MITIGATION, identifier, data))
        for identifier, item in cases:
            records.append(Record(CASE_STUDY, identifier, case_study(item, version)))
        names = {r.id: r.data["name"] for r in records if r.kind == TACTIC}
        for record in records:
            if record.kind == TECHNIQUE:
                record.data["tactic_names"] = [names.get(t, t) for t in record.data["tactics"]]
        records.sort(key=lambda r: (r.kind, natural(r.id)))
        relations = sorted(set(relations), key=lambda r: (r.src, r.rel, r.dst))
        return [ImportBatch(self.name, SOURCE_KEY, records, [], relations)]


def entry(item: Fields, pattern: re.Pattern[str]) -> tuple[str, Fields]:
    identifier = item.text("id", required=True).strip()
    if not pattern.fullmatch(identifier):
        raise item.refusal(
            f"'{identifier[:40]}' is not an id of the form {pattern.pattern}",
            fix="use the ATLAS id as published, e.g. AML.T0043",
        )
    item.record = f"{item.record} ({identifier})"
    return identifier, item


def common(item: Fields, version: str) -> dict[str, Any]:
    data: dict[str, Any] = {
        "name": fold(item.text("name", required=True)),
        "description": fold(item.text("description")),
        "framework": FRAMEWORK,
        "version": version,
        "created": item.text("created_date"),
        "modified": item.text("modified_date"),
    }
    reference = item.mapping("ATT&CK-reference")
    if reference is not None:
        data["attack_reference"] = reference.text("id")
    return data


def case_study(item: Fields, version: str) -> dict[str, Any]:
    procedure = []
    for step in item.mappings("procedure"):
        procedure.append(
            {
                "tactic": step.text("tactic"),
                "technique": step.text("technique"),
                "description": fold(step.text("description")),
            }
        )
    techniques = []
    for entry in procedure:
        if entry["technique"] and entry["technique"] not in techniques:
            techniques.append(entry["technique"])
    return {
        "name": fold(item.text("name", required=True)),
        "summary": fold(item.text("summary")),
        "incident_date": item.text("incident-date"),
        "target": fold(item.text("target")),
        "actor": fold(item.text("actor")),
        "type": item.text("case-study-type"),
        "reporter": fold(item.text("reporter")),
        "procedure": procedure,
        "techniques": techniques,
        "references": [
            {"title": fold(ref.text("title")), "url": ref.text("url")}
            for ref in item.mappings("references")
        ],
        "framework": FRAMEWORK,
        "version": version,
    }
