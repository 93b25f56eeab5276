"""CSAF 2.0 advisories (CISA ICS medical advisories and any other csaf_version 2.x document).

In: one CSAF document. Out: one ImportBatch keyed ``csaf:<tracking id>`` holding the advisory
record, one vulnerability record per vulnerabilities[] entry (as this advisory describes it),
one AffectedEntry per (vulnerability, vendor + product) gathering every version the status
lists name (known/first/last_affected -> affected; fixed, first_fixed, known_not_affected,
recommended -> unaffected; under_investigation says nothing yet and is kept in the record
only), and the relations CVE -described_in-> advisory, CVE -has_weakness-> CWE.

A vulnerability without a CVE is kept under ``<tracking id>#<n>`` (n counts from 1 in
vulnerabilities[]), with the ``ids`` it publishes in its record: matches then name the
advisory, which is where an analyst reads about it.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from mdrisk.kb.importers._csaf_products import Product, defined, product_map
from mdrisk.kb.importers._vuln_fields import cve_id, cvss, cwe_id, unique_entries
from mdrisk.kb.importers.base import Importer
from mdrisk.kb.records import (
    ADVISORY,
    REL_ADVISORY,
    REL_CWE,
    VULNERABILITY,
    AffectedEntry,
    ImportBatch,
    Record,
    Relation,
)
from mdrisk.parsing.shape import (
    Shape,
    obj,
    opt_arr,
    opt_obj,
    opt_text,
    required,
    required_text,
    text,
    unique,
)
from mdrisk.parsing.strict_json import read_json

_SNIFF = re.compile(r'"csaf_version"\s*:\s*"2\.|"product_tree"\s*:\s*\{')
_RECORD_ID = re.compile(r'"tracking"\s*:\s*\{.{0,4000}?"id"\s*:\s*"([^"\\]{1,80})"', re.S)
_STATUS = {
    "known_affected": "affected",
    "first_affected": "affected",
    "last_affected": "affected",
    "fixed": "unaffected",
    "first_fixed": "unaffected",
    "known_not_affected": "unaffected",
    "recommended": "unaffected",
    "under_investigation": None,
}
_SCORES = {"cvss_v2": "2.0", "cvss_v3": None, "cvss_v4": "4.0"}
_DESCRIPTION_NOTES = ("description", "summary", "details", "general")


class CsafImporter(Importer):
    name = "csaf"
    description = "CSAF 2.0 advisory (e.g. CISA ICS medical advisories)"

    @classmethod
    def sniff(cls, head: str, path: Path) -> bool:
        return _SNIFF.search(head) is not None

    def read(self, path: Path) -> list[ImportBatch]:
        document = read_json(path, record_pattern=_RECORD_ID)
        return [advisory_batch(document, self.name)]


def advisory_batch(document: Any, importer: str = "csaf") -> ImportBatch:
    root = obj(document, "document root")
    header = obj(required(root, "document", "document root"), "document")
    tracking = obj(required(header, "tracking", "document"), "document.tracking")
    advisory_id = required_text(tracking, "id", "document.tracking")
    if not advisory_id.strip():
        raise Shape("document.tracking.id", "is empty", fix="give the advisory's id")
    products, groups = product_map(opt_obj(root, "product_tree", "document root"))

    records: list[Record] = []
    affected: list[AffectedEntry] = []
    relations: list[Relation] = []
    cves: list[str] = []
    first_seen: dict[str, int] = {}
    for index, item in enumerate(opt_arr(root, "vulnerabilities", "document root")):
        record, entries, links = vulnerability(item, index, tracking, products, groups)
        if record.id in first_seen:
            raise Shape(
                f"vulnerabilities[{index}] ({record.id})",
                f"already described in vulnerabilities[{first_seen[record.id]}]",
                fix="describe each vulnerability once",
            )
        first_seen[record.id] = index
        records.append(record)
        affected += entries
        relations += links
        if record.data["cve"]:
            cves.append(record.id)
    records.insert(
        0, Record(ADVISORY, advisory_id, advisory_data(header, tracking, products, records, cves))
    )
    return ImportBatch(
        importer, f"csaf:{advisory_id}", records, unique_entries(affected), unique(relations)
    )


def advisory_data(
    header: dict[str, Any],
    tracking: dict[str, Any],
    products: dict[str, Product],
    vulnerabilities: list[Record],
    cves: list[str],
) -> dict[str, Any]:
    url = ""
    for index, item in enumerate(opt_arr(header, "references", "document")):
        reference = obj(item, f"document.references[{index}]")
        link = required_text(reference, "url", f"document.references[{index}]")
        if reference.get("category") == "self" and (not url or url.endswith(".json")):
            url = link
    categories: dict[str, int] = {}
    for record in vulnerabilities:
        for remediation in record.data["remediations"]:
            categories[remediation["category"]] = categories.get(remediation["category"], 0) + 1
    severity = opt_obj(header, "aggregate_severity", "document")
    return {
        "title": required_text(header, "title", "document"),
        "published": opt_text(tracking, "initial_release_date", "document.tracking") or "",
        "updated": opt_text(tracking, "current_release_date", "document.tracking") or "",
        "publisher": opt_text(
            opt_obj(header, "publisher", "document"), "name", "document.publisher"
        )
        or "",
        "category": opt_text(header, "category", "document") or "",
        "severity": opt_text(severity, "text", "document.aggregate_severity") or "",
        "url": url,
        "vendors": sorted({p.vendor for p in products.values() if p.vendor}),
        "products": unique([p.label() for p in products.values()]),
        "cves": sorted(set(cves)),
        "vulnerabilities": [record.id for record in vulnerabilities],
        "remediations": dict(sorted(categories.items())),
    }


def vulnerability(
    item: Any,
    index: int,
    tracking: dict[str, Any],
    products: dict[str, Product],
    groups: dict[str, list[str]],
) -> tuple[Record, list[AffectedEntry], list[Relation]]:
    advisory_id = tracking["id"]
    where = f"vulnerabilities[{index}]"
    entry = obj(item, where)
    ids = [
        {
            "system_name": required_text(
                obj(found, f"{where}.ids[{number}]"), "system_name", f"{where}.ids[{number}]"
            ),
            "text": required_text(found, "text", f"{where}.ids[{number}]"),
        }
        for number, found in enumerate(opt_arr(entry, "ids", where))
    ]
    cve = cve_id(entry["cve"], f"{where}.cve") if entry.get("cve") is not None else None
    vuln_id = cve or f"{advisory_id}#{index + 1}"
    where = f"{where} ({vuln_id})"

    cwes = weaknesses(entry, where)
    data: dict[str, Any] = {
        "advisory": advisory_id,
        "cve": cve,
        "title": opt_text(entry, "title", where) or "",
        "description": description(entry, where),
        "published": opt_text(entry, "release_date", where)
        or opt_text(tracking, "initial_release_date", "document.tracking")
        or "",
        "cwes": cwes,
        "cvss": scores(entry, where, advisory_id, products),
        "references": unique(
            [
                required_text(
                    obj(found, f"{where}.references[{number}]"),
                    "url",
                    f"{where}.references[{number}]",
                )
                for number, found in enumerate(opt_arr(entry, "references", where))
            ]
        ),
        "remediations": remediations(entry, where, products, groups),
    }
    if ids:
        data["ids"] = ids
    statuses = opt_obj(entry, "product_status", where)
    pending = [
        defined(products, pid, f"{where}.product_status.under_investigation[{n}]")
        for n, pid in enumerate(opt_arr(statuses, "under_investigation", f"{where}.product_status"))
    ]
    if pending:
        data["under_investigation"] = [product.label() for product in pending]
    links = [Relation(vuln_id, REL_ADVISORY, advisory_id)]
    links += [Relation(vuln_id, REL_CWE, cwe) for cwe in cwes]
    return (
        Record(VULNERABILITY, vuln_id, data),
        affected_entries(vuln_id, statuses, f"{where}.product_status", products),
        links,
    )


def weaknesses(entry: dict[str, Any], where: str) -> list[str]:
    """CSAF 2.0 ``cwe`` {id, name}; CSAF 2.1 ``cwes`` [{id, name}] as well."""
    found = []
    if entry.get("cwe") is not None:
        cwe = obj(entry["cwe"], f"{where}.cwe")
        found.append(cwe_id(required(cwe, "id", f"{where}.cwe"), f"{where}.cwe.id"))
    for number, item in enumerate(opt_arr(entry, "cwes", where)):
        at = f"{where}.cwes[{number}]"
        found.append(cwe_id(required(obj(item, at), "id", at), f"{at}.id"))
    return sorted(set(found), key=lambda cwe: int(cwe[4:]))


def description(entry: dict[str, Any], where: str) -> str:
    notes: dict[str, str] = {}
    for number, item in enumerate(opt_arr(entry, "notes", where)):
        note = obj(item, f"{where}.notes[{number}]")
        category = required_text(note, "category", f"{where}.notes[{number}]")
        notes.setdefault(category, required_text(note, "text", f"{where}.notes[{number}]"))
    for category in _DESCRIPTION_NOTES:
        if category in notes:
            return notes[category]
    return next(iter(notes.values()), "")


def scores(
    entry: dict[str, Any], where: str, advisory_id: str, products: dict[str, Product]
) -> list[dict[str, Any]]:
    found = []
    for number, item in enumerate(opt_arr(entry, "scores", where)):
        at = f"{where}.scores[{number}]"
        score = obj(item, at)
        for position, product_id in enumerate(opt_arr(score, "products", at)):
            defined(products, product_id, f"{at}.products[{position}]")
        for key, version in _SCORES.items():
            if score.get(key) is not None:
                found.append(cvss(score[key], f"{at}.{key}", advisory_id, version))
    return unique(found)


def remediations(
    entry: dict[str, Any], where: str, products: dict[str, Product], groups: dict[str, list[str]]
) -> list[dict[str, Any]]:
    found = []
    for number, item in enumerate(opt_arr(entry, "remediations", where)):
        at = f"{where}.remediations[{number}]"
        remediation = obj(item, at)
        named = [
            defined(products, pid, f"{at}.product_ids[{n}]")
            for n, pid in enumerate(opt_arr(remediation, "product_ids", at))
        ]
        for n, group_id in enumerate(opt_arr(remediation, "group_ids", at)):
            group = text(group_id, f"{at}.group_ids[{n}]")
            if group not in groups:
                raise Shape(
                    f"{at}.group_ids[{n}]",
                    f"group '{group[:60]}' is not defined in product_tree.product_groups",
                )
            named += [products[pid] for pid in groups[group]]
        found.append(
            {
                "category": required_text(remediation, "category", at),
                "details": opt_text(remediation, "details", at) or "",
                "url": opt_text(remediation, "url", at) or "",
                "products": unique([product.label() for product in named]),
            }
        )
    return found


def affected_entries(
    vuln_id: str, statuses: dict[str, Any], where: str, products: dict[str, Product]
) -> list[AffectedEntry]:
    """One entry per vendor + product (+ CPE/purl) named in the status lists, with every
    version the lists give; an unversioned product sets the default status."""
    constraints: dict[tuple[str, str, str | None, str | None], list[dict[str, Any]]] = {}
    every_version: dict[tuple[str, str, str | None, str | None], set[str]] = {}
    for category in statuses:
        at = f"{where}.{category}"
        if category not in _STATUS:
            raise Shape(at, f"'{category[:40]}' is not a CSAF product status")
        status = _STATUS[category]
        for number, product_id in enumerate(opt_arr(statuses, category, where)):
            product = defined(products, product_id, f"{at}[{number}]")
            if status is None:
                continue
            key = (product.vendor, product.product, product.cpe, product.purl)
            constraints.setdefault(key, [])
            constraint = product.constraint(status)
            if constraint is None:
                every_version.setdefault(key, set()).add(status)
            else:
                constraints[key].append(constraint)
    entries = []
    for key, versions in constraints.items():
        default = "affected" if "affected" in every_version.get(key, set()) else "unaffected"
        vendor, product_name, cpe, purl = key
        entries.append(
            AffectedEntry(
                vuln_id, vendor, product_name, tuple(unique(versions)), default, cpe, purl
            )
        )
    return entries
