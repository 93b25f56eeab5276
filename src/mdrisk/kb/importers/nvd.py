"""NVD CVE API 2.0 responses ({"format": "NVD_CVE", "vulnerabilities": [{"cve": ...}]}).

In: one response page (or a file of them saved whole). Out: one ImportBatch per CVE, keyed
``nvd:<CVE id>``, so a later page with the same CVE replaces only that CVE: the vulnerability
record (description, dates, status, CWEs, CVSS v2/v3.x/v4.0 from every source, references),
one AffectedEntry per vulnerable cpeMatch of the configurations (negated nodes skipped) with
its versionStart/End bounds, and CVE -has_weakness-> CWE relations.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from mdrisk.kb.importers._cpe import parse_cpe
from mdrisk.kb.importers._vuln_fields import CWE_ID, cve_id, cvss, english, unique_entries
from mdrisk.kb.importers.base import Importer
from mdrisk.kb.records import REL_CWE, VULNERABILITY, AffectedEntry, ImportBatch, Record, Relation
from mdrisk.parsing.shape import (
    Shape,
    obj,
    opt_arr,
    opt_bool,
    opt_obj,
    opt_text,
    required,
    required_text,
    unique,
)
from mdrisk.parsing.strict_json import read_json

# In CSAF "cve" is a string; an object holding the CVE is NVD's shape.
_SNIFF = re.compile(
    r'"format"\s*:\s*"NVD_CVE"'
    r'|"vulnerabilities"\s*:\s*\[\s*\{\s*"cve"\s*:\s*\{'
)
_RECORD_ID = re.compile(r'"id"\s*:\s*"(CVE-[^"\\]{1,40})"')
_METRICS = {
    "cvssMetricV2": "2.0",
    "cvssMetricV30": "3.0",
    "cvssMetricV31": "3.1",
    "cvssMetricV40": "4.0",
}
_BOUNDS = (
    ("versionStartIncluding", "greater_than_or_equal"),
    ("versionStartExcluding", "greater_than"),
    ("versionEndIncluding", "less_than_or_equal"),
    ("versionEndExcluding", "less_than"),
)


class NvdImporter(Importer):
    name = "nvd"
    description = "NVD CVE API 2.0 response (JSON)"

    @classmethod
    def sniff(cls, head: str, path: Path) -> bool:
        return _SNIFF.search(head) is not None

    def read(self, path: Path) -> list[ImportBatch]:
        response = read_json(path, "response", _RECORD_ID)
        page = obj(response, "response")
        batches = []
        for index, item in enumerate(opt_arr(page, "vulnerabilities", "response")):
            batches.append(cve_batch(item, f"vulnerabilities[{index}]", self.name))
        return batches


def cve_batch(item: Any, where: str, importer: str = "nvd") -> ImportBatch:
    cve = obj(required(obj(item, where), "cve", where), f"{where}.cve")
    vuln_id = cve_id(required(cve, "id", f"{where}.cve"), f"{where}.cve.id")
    where = f"{where} ({vuln_id})"
    data: dict[str, Any] = {
        "description": english(opt_arr(cve, "descriptions", where), f"{where}.descriptions"),
        "published": opt_text(cve, "published", where) or "",
        "updated": opt_text(cve, "lastModified", where) or "",
        "state": opt_text(cve, "vulnStatus", where) or "",
        "assigner": opt_text(cve, "sourceIdentifier", where) or "",
    }
    for key, name in (("cisaExploitAdd", "kev_date_added"), ("cisaVulnerabilityName", "kev_name")):
        value = opt_text(cve, key, where)
        if value:
            data[name] = value
    data["cwes"] = weaknesses(cve, where)
    data["cvss"] = scores(cve, where)
    data["references"] = unique(
        [
            required_text(
                obj(reference, f"{where}.references[{index}]"),
                "url",
                f"{where}.references[{index}]",
            )
            for index, reference in enumerate(opt_arr(cve, "references", where))
        ]
    )
    return ImportBatch(
        importer=importer,
        source_key=f"nvd:{vuln_id}",
        records=[Record(VULNERABILITY, vuln_id, data)],
        affected=affected_entries(vuln_id, cve, where),
        relations=[Relation(vuln_id, REL_CWE, cwe) for cwe in data["cwes"]],
    )


def weaknesses(cve: dict[str, Any], where: str) -> list[str]:
    """CWE ids; NVD's placeholders ("NVD-CWE-Other", "NVD-CWE-noinfo") name no weakness."""
    found: set[str] = set()
    for index, item in enumerate(opt_arr(cve, "weaknesses", where)):
        at = f"{where}.weaknesses[{index}]"
        for number, entry in enumerate(opt_arr(obj(item, at), "description", at)):
            value = required_text(
                obj(entry, f"{at}.description[{number}]"), "value", f"{at}.description[{number}]"
            )
            if CWE_ID.fullmatch(value):
                found.add(value)
            elif not value.startswith("NVD-CWE-"):
                raise Shape(f"{at}.description[{number}].value", f"'{value[:60]}' is not a CWE id")
    return sorted(found, key=lambda cwe: int(cwe[4:]))


def scores(cve: dict[str, Any], where: str) -> list[dict[str, Any]]:
    metrics = opt_obj(cve, "metrics", where)
    found: list[dict[str, Any]] = []
    for key, version in _METRICS.items():
        for index, item in enumerate(opt_arr(metrics, key, f"{where}.metrics")):
            at = f"{where}.metrics.{key}[{index}]"
            metric = obj(item, at)
            source = opt_text(metric, "source", at) or "nvd"
            entry = cvss(required(metric, "cvssData", at), f"{at}.cvssData", source, version)
            severity = opt_text(metric, "baseSeverity", at)  # v2 keeps it outside cvssData
            if severity and "severity" not in entry:
                entry["severity"] = severity
            found.append(entry)
    return unique(found)


def affected_entries(vuln_id: str, cve: dict[str, Any], where: str) -> list[AffectedEntry]:
    entries: list[AffectedEntry] = []
    for index, item in enumerate(opt_arr(cve, "configurations", where)):
        at = f"{where}.configurations[{index}]"
        configuration = obj(item, at)
        if opt_bool(configuration, "negate", at, False):
            continue
        for number, node_item in enumerate(opt_arr(configuration, "nodes", at)):
            node_at = f"{at}.nodes[{number}]"
            node = obj(node_item, node_at)
            if opt_bool(node, "negate", node_at, False):
                continue
            for position, match_item in enumerate(opt_arr(node, "cpeMatch", node_at)):
                match_at = f"{node_at}.cpeMatch[{position}]"
                entry = cpe_match_entry(vuln_id, obj(match_item, match_at), match_at)
                if entry is not None:
                    entries.append(entry)
    return unique_entries(entries)


def cpe_match_entry(vuln_id: str, match: dict[str, Any], where: str) -> AffectedEntry | None:
    """The AffectedEntry of one vulnerable cpeMatch, or None when it is not vulnerable."""
    if not opt_bool(match, "vulnerable", where, False):
        return None
    criteria = required_text(match, "criteria", where)
    cpe = parse_cpe(criteria)
    if cpe is None:
        raise Shape(
            f"{where}.criteria",
            f"'{criteria[:80]}' is not a CPE 2.3 name",
            fix="criteria must look like cpe:2.3:a:vendor:product:version:...",
        )
    bounds = {name: opt_text(match, key, where) for key, name in _BOUNDS}
    bounds = {name: value for name, value in bounds.items() if value}
    if bounds:
        raw = ", ".join(f"{key} {match[key]}" for key, name in _BOUNDS if name in bounds)
        versions: tuple[dict[str, Any], ...] = ({"status": "affected", **bounds, "raw": raw},)
    elif cpe.version not in ("*", "-"):
        version, raw = cpe.version, cpe.version
        if cpe.update not in ("*", "-"):  # 2.0 + beta9: the pre-release 2.0-beta9
            version, raw = f"{cpe.version}-{cpe.update}", f"{cpe.version}:{cpe.update}"
        versions = ({"status": "affected", "version": version, "raw": raw},)
    else:
        return AffectedEntry(vuln_id, cpe.vendor, cpe.product, (), "affected", criteria)
    return AffectedEntry(vuln_id, cpe.vendor, cpe.product, versions, "unaffected", criteria)
