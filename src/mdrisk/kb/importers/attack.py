"""MITRE ATT&CK (Enterprise, ICS, Mobile) from a STIX 2.0 or 2.1 bundle.

In: an ATT&CK bundle (``enterprise-attack.json``, ``ics-attack-18.1.json``, ...). Out: one batch
per file with ``technique`` records (``T0830``, ``T1557.002``; framework ``attack-enterprise``,
``attack-ics`` or ``attack-mobile``), ``tactic`` records (``TA0108``), ``mitigation`` records
(``M0801``, ``M1037``), and the relations technique -mitigated_by-> mitigation, sub-technique
-child_of-> technique and CAPEC -maps_to_technique-> technique (ATT&CK's own CAPEC references).
Revoked and deprecated objects are left out on purpose (counted in ``skipped``).

STIX 2.0 (``mitre/cti``) puts ``spec_version`` on the bundle, 2.1 on each object; nothing
read here differs between the two.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

from mdrisk.kb.catalog_ids import (
    ATTACK_MITIGATION_ID,
    ATTACK_TACTIC_ID,
    ATTACK_TECHNIQUE_ID,
    CAPEC_ID,
    natural,
)
from mdrisk.kb.importers._stix import (
    StixObject,
    load_bundle,
    looks_like_bundle,
    refuse_object,
    relationships,
)
from mdrisk.kb.importers._text import fold, plain_text
from mdrisk.kb.importers.base import Importer
from mdrisk.kb.records import (
    MITIGATION,
    REL_CHILD_OF,
    REL_MITIGATION,
    REL_TECHNIQUE,
    TACTIC,
    TECHNIQUE,
    ImportBatch,
    Record,
    Relation,
)

# ATT&CK's names for its domains -> our framework names.
DOMAINS = {
    "enterprise-attack": "attack-enterprise",
    "ics-attack": "attack-ics",
    "mobile-attack": "attack-mobile",
}
SOURCE_NAMES = {
    "mitre-attack": "attack-enterprise",
    "mitre-ics-attack": "attack-ics",
    "mitre-mobile-attack": "attack-mobile",
}
_ID_PATTERNS = {
    TECHNIQUE: ATTACK_TECHNIQUE_ID,
    TACTIC: ATTACK_TACTIC_ID,
    MITIGATION: ATTACK_MITIGATION_ID,
}
_EXAMPLES = {TECHNIQUE: "T0830 or T1557.002", TACTIC: "TA0108", MITIGATION: "M0801"}
_KINDS = {"attack-pattern": TECHNIQUE, "x-mitre-tactic": TACTIC, "course-of-action": MITIGATION}


class AttackImporter(Importer):
    name = "attack"
    whole_catalogue = True
    description = "MITRE ATT&CK techniques, tactics and mitigations (STIX 2.0/2.1 bundle)"

    def __init__(self) -> None:
        self.skipped: Counter[str] = Counter()

    @classmethod
    def sniff(cls, head: str, path: Path) -> bool:
        return (
            looks_like_bundle(head)
            and '"x_capec_' not in head
            and (
                '"x_mitre_' in head
                or '"mitre-attack"' in head
                or '"mitre-ics-attack"' in head
                or '"mitre-mobile-attack"' in head
            )
        )

    def read(self, path: Path) -> list[ImportBatch]:
        objects = load_bundle(path)
        kept: dict[str, str] = {}  # STIX id -> ATT&CK id
        kinds: dict[str, str] = {}  # ATT&CK id -> kind
        frameworks: dict[str, str] = {}  # STIX id -> framework
        for obj in objects:
            kind = _KINDS.get(obj.type)
            if kind is None:
                continue
            if obj.retired():
                self.skipped[f"revoked or deprecated {obj.type} objects"] += 1
                continue
            attack_id = attack_id_of(obj, kind)
            if attack_id in kinds:
                raise refuse_object(
                    obj,
                    f"{attack_id} is given by more than one object",
                    fix="keep one live object per ATT&CK id",
                )
            kept[obj.id], kinds[attack_id] = attack_id, kind
            frameworks[obj.id] = framework_of(obj)

        tactics = tactic_index(objects, kept, frameworks)
        parents = {
            source: target for source, target, _ in relationships(objects, kept, "subtechnique-of")
        }
        records: list[Record] = []
        relations: list[Relation] = []
        for obj in objects:
            if obj.id not in kept:
                continue
            attack_id, kind = kept[obj.id], kinds[kept[obj.id]]
            data = common_data(obj, frameworks[obj.id])
            if kind == TECHNIQUE:
                data.update(technique_data(obj, frameworks[obj.id], tactics))
                data["parent"] = parents.get(attack_id, "")
                relations += [
                    Relation(capec, REL_TECHNIQUE, attack_id) for capec in capec_refs(obj)
                ]
            elif kind == TACTIC:
                data["shortname"] = obj.fields.text("x_mitre_shortname")
            records.append(Record(kind, attack_id, data))
        relations += [
            Relation(child, REL_CHILD_OF, parent)
            for child, parent in parents.items()
            if kinds[child] == TECHNIQUE and kinds[parent] == TECHNIQUE
        ]
        for source, target, _ in relationships(objects, kept, "mitigates"):
            if kinds[source] == MITIGATION and kinds[target] == TECHNIQUE:
                relations.append(Relation(target, REL_MITIGATION, source))
        records.sort(key=lambda r: (r.kind, natural(r.id)))
        relations = sorted(set(relations), key=lambda r: (r.src, r.rel, r.dst))
        return [ImportBatch(self.name, source_key(frameworks.values()), records, [], relations)]


def attack_id_of(obj: StixObject, kind: str) -> str:
    ids = obj.external_ids(*SOURCE_NAMES)
    if not ids:
        raise refuse_object(
            obj,
            f"{obj.type} without an ATT&CK id",
            fix="give an external reference with source_name 'mitre-attack' and its external_id",
        )
    if not _ID_PATTERNS[kind].fullmatch(ids[0]):
        raise refuse_object(
            obj,
            f"'{ids[0][:40]}' is not an ATT&CK {kind} id",
            fix=f"write it like {_EXAMPLES[kind]}",
        )
    return ids[0]


def framework_of(obj: StixObject) -> str:
    """From ``x_mitre_domains``, else the source name of the ATT&CK reference."""
    for domain in obj.fields.texts("x_mitre_domains"):
        if domain in DOMAINS:
            return DOMAINS[domain]
    for reference in obj.fields.mappings("external_references"):
        if reference.text("source_name") in SOURCE_NAMES and reference.text("external_id"):
            return SOURCE_NAMES[reference.text("source_name")]
    return "attack-enterprise"


def tactic_index(
    objects: list[StixObject], kept: dict[str, str], frameworks: dict[str, str]
) -> dict[tuple[str, str], tuple[str, str]]:
    """(framework, shortname) -> (tactic id, name): kill-chain phases name tactics by short
    name, and Enterprise and ICS share short names such as 'initial-access'."""
    index = {}
    for obj in objects:
        if obj.type == "x-mitre-tactic" and obj.id in kept:
            shortname = obj.fields.text("x_mitre_shortname")
            index[(frameworks[obj.id], shortname)] = (kept[obj.id], fold(obj.fields.text("name")))
    return index


def common_data(obj: StixObject, framework: str) -> dict[str, Any]:
    url = next(
        (
            r.text("url")
            for r in obj.fields.mappings("external_references")
            if r.text("source_name") in SOURCE_NAMES and r.text("external_id")
        ),
        "",
    )
    return {
        "name": fold(obj.fields.text("name", required=True)),
        "description": plain_text(obj.fields.text("description")),
        "framework": framework,
        "url": url,
        "version": obj.fields.text("x_mitre_version"),
    }


def technique_data(
    obj: StixObject, framework: str, tactics: dict[tuple[str, str], tuple[str, str]]
) -> dict[str, Any]:
    tactic_ids, tactic_names = [], []
    for phase in obj.fields.mappings("kill_chain_phases"):
        shortname = phase.text("phase_name", required=True)
        phase_framework = SOURCE_NAMES.get(phase.text("kill_chain_name"), framework)
        tactic_id, tactic_name = tactics.get((phase_framework, shortname), ("", shortname))
        if tactic_id and tactic_id not in tactic_ids:
            tactic_ids.append(tactic_id)
        if tactic_name not in tactic_names:
            tactic_names.append(tactic_name)
    return {
        "tactics": tactic_ids,
        "tactic_names": tactic_names,
        "platforms": obj.fields.texts("x_mitre_platforms"),
        "is_subtechnique": obj.fields.flag("x_mitre_is_subtechnique"),
    }


def capec_refs(obj: StixObject) -> list[str]:
    found = []
    for raw in obj.external_ids("capec"):
        match = CAPEC_ID.fullmatch(raw)
        if match is None:
            raise refuse_object(
                obj, f"'{raw[:40]}' is not a CAPEC id", fix="write CAPEC ids as CAPEC-<number>"
            )
        found.append(f"CAPEC-{int(match.group(1))}")
    return found


def source_key(frameworks: Any) -> str:
    """One document per ATT&CK domain: a newer release of the same domain replaces it."""
    names = sorted(set(frameworks)) or ["attack"]
    return "mitre-" + "+".join(names)
