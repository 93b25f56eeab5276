"""CVE JSON 5.x records (cvelistV5, CISA vulnrichment): one record per file.

In: a CVE record (cveMetadata, containers.cna, containers.adp[]). Out: one ImportBatch keyed
``cve5:<CVE id>`` with the vulnerability record (description, dates, CWEs, every CVSS vector
of the CNA and the ADPs, SSVC, references), one AffectedEntry per affected item of every
container (one per CPE when the item lists CPEs) with its versions normalised, and
CVE -has_weakness-> CWE relations. Versions are kept as published, odd forms included
("Android-8.0 Android-8.1 Android-9 Android-10"); entries with status "unknown" say nothing
and are left out.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from mdrisk.kb.importers._vuln_fields import (
    cve_id,
    cvss,
    cwe_id,
    cwe_in_text,
    english,
    unique_entries,
)
from mdrisk.kb.importers.base import Importer
from mdrisk.kb.records import REL_CWE, VULNERABILITY, AffectedEntry, ImportBatch, Record, Relation
from mdrisk.parsing.shape import (
    Shape,
    obj,
    opt_arr,
    opt_obj,
    opt_text,
    required,
    required_text,
    text,
    texts,
    unique,
)
from mdrisk.parsing.strict_json import read_json

# dataType and cveMetadata may both follow a long "containers" (keys sorted), beyond the head.
_SNIFF = re.compile(
    r'"dataType"\s*:\s*"CVE_RECORD"|"cveMetadata"\s*:\s*\{'
    r'|"containers"\s*:\s*\{\s*"(?:adp|cna)"\s*:'
)
_RECORD_ID = re.compile(r'"cveId"\s*:\s*"([^"\\]{1,40})"')
_STATUSES = ("affected", "unaffected", "unknown")
_CVSS_KEYS = {"cvssV2_0": "2.0", "cvssV3_0": "3.0", "cvssV3_1": "3.1", "cvssV4_0": "4.0"}


class Cve5Importer(Importer):
    name = "cve5"
    description = "CVE JSON 5.x record (CVE Program, CISA vulnrichment)"

    @classmethod
    def sniff(cls, head: str, path: Path) -> bool:
        return _SNIFF.search(head) is not None

    def read(self, path: Path) -> list[ImportBatch]:
        document = read_json(path, record_pattern=_RECORD_ID)
        return [record_batch(document, self.name)]


def record_batch(document: Any, importer: str = "cve5") -> ImportBatch:
    """Everything one CVE record says, as one batch."""
    record = obj(document, "record")
    meta = obj(required(record, "cveMetadata", "record"), "cveMetadata")
    vuln_id = cve_id(required(meta, "cveId", "cveMetadata"), "cveMetadata.cveId")
    state = opt_text(meta, "state", vuln_id) or "PUBLISHED"
    containers = obj(required(record, "containers", vuln_id), f"{vuln_id} containers")
    cna = obj(required(containers, "cna", f"{vuln_id} containers"), f"{vuln_id} containers.cna")
    adps = [
        obj(item, f"{vuln_id} containers.adp[{index}]")
        for index, item in enumerate(opt_arr(containers, "adp", f"{vuln_id} containers"))
    ]
    named = [("containers.cna", cna)] + [
        (f"containers.adp[{index}]", adp) for index, adp in enumerate(adps)
    ]

    data: dict[str, Any] = {"state": state}
    where = f"{vuln_id} containers.cna"
    if state == "REJECTED":
        data["description"] = english(
            opt_arr(cna, "rejectedReasons", where), f"{where}.rejectedReasons"
        )
    else:
        data["description"] = english(opt_arr(cna, "descriptions", where), f"{where}.descriptions")
    title = opt_text(cna, "title", where)
    if title:
        data["title"] = title
    data["published"] = (
        opt_text(meta, "datePublished", vuln_id) or opt_text(cna, "datePublic", where) or ""
    )
    data["updated"] = opt_text(meta, "dateUpdated", vuln_id) or ""
    data["assigner"] = opt_text(meta, "assignerShortName", vuln_id) or ""

    cwes: list[str] = []
    problems: list[str] = []
    scores: list[dict[str, Any]] = []
    references: list[str] = []
    affected: list[AffectedEntry] = []
    for name, container in named:
        where = f"{vuln_id} {name}"
        provider = opt_obj(container, "providerMetadata", where)
        source = opt_text(provider, "shortName", f"{where}.providerMetadata") or name
        found_cwes, found_problems = problem_types(container, where)
        cwes += found_cwes
        problems += found_problems
        found_scores, ssvc = metrics(container, where, source)
        scores += found_scores
        if ssvc:
            data["ssvc"] = ssvc
        for index, item in enumerate(opt_arr(container, "references", where)):
            reference = obj(item, f"{where}.references[{index}]")
            references.append(required_text(reference, "url", f"{where}.references[{index}]"))
        if state != "REJECTED":
            affected += affected_entries(vuln_id, container, where)
    data["cwes"] = sorted(set(cwes), key=lambda cwe: int(cwe[4:]))
    if problems:
        data["problem_types"] = unique(problems)
    data["cvss"] = unique(scores)
    data["references"] = unique(references)
    return ImportBatch(
        importer=importer,
        source_key=f"cve5:{vuln_id}",
        records=[Record(VULNERABILITY, vuln_id, data)],
        affected=unique_entries(affected),
        relations=[Relation(vuln_id, REL_CWE, cwe) for cwe in data["cwes"]],
    )


def problem_types(container: dict[str, Any], where: str) -> tuple[list[str], list[str]]:
    """(CWE ids, other problem-type texts) of one container."""
    cwes: list[str] = []
    others: list[str] = []
    for index, item in enumerate(opt_arr(container, "problemTypes", where)):
        at = f"{where}.problemTypes[{index}]"
        for number, entry in enumerate(opt_arr(obj(item, at), "descriptions", at)):
            field = f"{at}.descriptions[{number}]"
            description = obj(entry, field)
            stated = description.get("cweId")
            words = opt_text(description, "description", field) or ""
            if stated is not None:
                cwes.append(cwe_id(stated, f"{field}.cweId"))
            elif cwe_in_text(words):
                cwes.append(cwe_in_text(words) or "")
            elif words and words.strip().lower() != "n/a":
                others.append(words)
    return cwes, others


def metrics(
    container: dict[str, Any], where: str, source: str
) -> tuple[list[dict[str, Any]], dict[str, Any] | None]:
    """(CVSS entries, SSVC decision) of one container."""
    scores: list[dict[str, Any]] = []
    ssvc: dict[str, Any] | None = None
    for index, item in enumerate(opt_arr(container, "metrics", where)):
        at = f"{where}.metrics[{index}]"
        metric = obj(item, at)
        for key, version in _CVSS_KEYS.items():
            if metric.get(key) is not None:
                scores.append(cvss(metric[key], f"{at}.{key}", source, version))
        other = opt_obj(metric, "other", at)
        if other.get("type") == "ssvc":
            ssvc = ssvc_decision(required(other, "content", f"{at}.other"), f"{at}.other.content")
    return scores, ssvc


def ssvc_decision(content: Any, where: str) -> dict[str, Any]:
    """CISA's SSVC decision points flattened: {"Exploitation": "none", ..., "version": ...}."""
    fields = obj(content, where)
    decision: dict[str, Any] = {}
    for index, option in enumerate(opt_arr(fields, "options", where)):
        for point, value in obj(option, f"{where}.options[{index}]").items():
            decision[point] = text(value, f"{where}.options[{index}].{point}")
    for key in ("version", "role", "timestamp"):
        value = opt_text(fields, key, where)
        if value:
            decision[key] = value
    return decision


def affected_entries(vuln_id: str, container: dict[str, Any], where: str) -> list[AffectedEntry]:
    entries: list[AffectedEntry] = []
    for index, item in enumerate(opt_arr(container, "affected", where)):
        at = f"{where}.affected[{index}]"
        product_item = obj(item, at)
        vendor = opt_text(product_item, "vendor", at) or ""
        product = (
            opt_text(product_item, "product", at) or opt_text(product_item, "packageName", at) or ""
        )
        cpes = texts(product_item["cpes"], f"{at}.cpes") if "cpes" in product_item else []
        if not product and not cpes:
            raise Shape(
                at,
                "names no product, packageName or CPE",
                fix="give 'product' (and 'vendor') as the CVE 5 schema requires",
            )
        default = opt_text(product_item, "defaultStatus", at) or "unknown"
        if default not in _STATUSES:
            raise Shape(
                f"{at}.defaultStatus", f"'{default[:40]}' is not one of " + ", ".join(_STATUSES)
            )
        versions = version_constraints(opt_arr(product_item, "versions", at), f"{at}.versions")
        purl = opt_text(product_item, "packageURL", at)
        for cpe in unique(cpes) or [None]:
            entries.append(AffectedEntry(vuln_id, vendor, product, versions, default, cpe, purl))
    return entries


def version_constraints(items: list[Any], where: str) -> tuple[dict[str, Any], ...]:
    """CVE 5 ``versions[]`` in the normalised form of records.AffectedEntry.

    A range with ``changes`` is cut at each change point, in the order published (the
    schema asks readers to sort them by version, which needs the version scheme's order;
    publishers list them in order in practice).
    """
    constraints: list[dict[str, Any]] = []
    for index, item in enumerate(items):
        at = f"{where}[{index}]"
        entry = obj(item, at)
        status = _status(entry, at)
        version = required_text(entry, "version", at)
        less_than = opt_text(entry, "lessThan", at)
        less_or_equal = opt_text(entry, "lessThanOrEqual", at)
        version_type = opt_text(entry, "versionType", at)
        common: dict[str, Any] = {"raw": version}
        if version_type:
            common["version_type"] = version_type
        start_key, start, current = "version", version, status
        for number, change_item in enumerate(opt_arr(entry, "changes", at)):
            change_at = f"{at}.changes[{number}]"
            change = obj(change_item, change_at)
            point = required_text(change, "at", change_at)
            if current != "unknown":
                constraints.append(
                    {**common, "status": current, start_key: start, "less_than": point}
                )
            start_key, start, current = "greater_than_or_equal", point, _status(change, change_at)
        if current == "unknown":
            continue
        constraint = {**common, "status": current, start_key: start}
        if less_than is not None:
            constraint["less_than"] = less_than
        if less_or_equal is not None:
            constraint["less_than_or_equal"] = less_or_equal
        constraints.append(constraint)
    return tuple(unique(constraints))


def _status(entry: dict[str, Any], where: str) -> str:
    status = required_text(entry, "status", where)
    if status not in _STATUSES:
        raise Shape(f"{where}.status", f"'{status[:40]}' is not one of " + ", ".join(_STATUSES))
    return status
