"""Fields every vulnerability format shares: CVE and CWE ids, CVSS scores, descriptions."""

from __future__ import annotations

import re
from typing import Any

from mdrisk.kb.records import AffectedEntry
from mdrisk.parsing.shape import Shape, number, obj, opt_text, required_text, text

CVE_ID = re.compile(r"CVE-\d{4}-\d{4,19}")
CWE_ID = re.compile(r"CWE-[1-9]\d{0,5}")
_CWE_AT_START = re.compile(r"\s*(CWE-[1-9]\d{0,5})\b")
_VECTOR_VERSION = re.compile(r"CVSS:(\d\.\d)/")


def cve_id(value: Any, where: str) -> str:
    """A CVE id exactly as CVE-YYYY-NNNN... or Shape."""
    found = text(value, where)
    if not CVE_ID.fullmatch(found):
        raise Shape(where, f"'{found[:60]}' is not a CVE id (CVE-YYYY-NNNN)")
    return found


def cwe_id(value: Any, where: str) -> str:
    found = text(value, where)
    if not CWE_ID.fullmatch(found):
        raise Shape(where, f"'{found[:60]}' is not a CWE id (CWE-N)")
    return found


def cwe_in_text(description: str) -> str | None:
    """The CWE id a problem-type text starts with ("CWE-287 Improper Authentication")."""
    found = _CWE_AT_START.match(description)
    return found.group(1) if found else None


def cvss(metric: Any, where: str, source: str, version: str | None = None) -> dict[str, Any]:
    """{version, vector, score, source[, severity]} from a CVSS JSON object (FIRST's schema:
    vectorString, baseScore, version, baseSeverity), as CVE 5, NVD and CSAF all use it."""
    fields = obj(metric, where)
    vector = required_text(fields, "vectorString", where)
    score = number(fields.get("baseScore"), f"{where}.baseScore", 0.0, 10.0)
    stated = opt_text(fields, "version", where)
    if stated is None:
        prefix = _VECTOR_VERSION.match(vector)
        stated = prefix.group(1) if prefix else version
    entry: dict[str, Any] = {
        "version": stated or "",
        "vector": vector,
        "score": score,
        "source": source,
    }
    severity = opt_text(fields, "baseSeverity", where)
    if severity:
        entry["severity"] = severity
    return entry


def english(descriptions: list[Any], where: str, key: str = "value") -> str:
    """The English text among [{lang, value}], else the first one, else ""."""
    chosen = ""
    for index, item in enumerate(descriptions):
        entry = obj(item, f"{where}[{index}]")
        value = text(entry.get(key, ""), f"{where}[{index}].{key}")
        lang = opt_text(entry, "lang", f"{where}[{index}]") or ""
        if lang.lower().startswith("en"):
            return value
        if index == 0:
            chosen = value
    return chosen


def unique_entries(entries: list[AffectedEntry]) -> list[AffectedEntry]:
    """``entries`` without exact repeats, first occurrence kept."""
    seen: set[str] = set()
    kept = []
    for entry in entries:
        key = repr(entry)
        if key not in seen:
            seen.add(key)
            kept.append(entry)
    return kept
