"""CycloneDX 1.6 VEX (JSON) for the vulnerabilities matched to the device's technologies.

Each technology with a matched vulnerability is a component (its ``bom-ref`` is its model
path, ``components[insulin_pump].technologies[1]``); each vulnerability lists the components
it ``affects`` and an ``analysis`` (state, justification, response, detail) from
``vulnerability_status``, where the analyst's decision, when there is one, sets the state
(and ``lastUpdated``, its date). The serial number is derived from the content, so the same
assessment gives the same document; only ``metadata.timestamp`` carries the analysis time.

A candidate below the confidence cut-off is an entry of its own (``bom-ref``
``possible-vulnerability:<id>``, property ``mdrisk:match`` = ``possible, needs review``), in
triage with the reason in its detail until the analyst decides on it. Where the assessment
records the knowledge base's coverage, every technology of the device is a component with
``mdrisk:vulnerability-coverage`` (``covered``, ``not covered``, ``not looked up``): a component
without a vulnerability entry has no known vulnerability only where it is covered. The
metadata lists what the knowledge base held (sources, import dates, record counts).
"""

from __future__ import annotations

import json
import re
import uuid
from typing import Any

from mdrisk.assessment import Assessment
from mdrisk.assessment.threats import CvssScore
from mdrisk.model.schema import Technology
from mdrisk.report.coverage_view import coverage_view, unrecorded_coverage
from mdrisk.report.interface import ReportWriter
from mdrisk.report.locate import Locator
from mdrisk.report.sbom_summary import technology_label
from mdrisk.report.vulnerability_status import (
    VulnerabilityStatus,
    possible_statuses,
    vulnerability_statuses,
)

SPEC_VERSION = "1.6"
_SERIAL_NAMESPACE = uuid.UUID("5b0c1d2e-7a7e-4c59-9a38-6d6b0e1f4a11")
_OPERATING_SYSTEMS = re.compile(
    r"\b(ios|ipados|android|linux|windows|macos|freertos|zephyr|"
    r"vxworks|qnx|rtos)\b",
    re.IGNORECASE,
)
_CISA_ADVISORY = re.compile(r"^ICS(M)?A-\d{2}-\d{3}-\d{2}[A-Z]?$")
# The worst first: one analysis per vulnerability takes the worst state of its components.
_STATE_ORDER = {
    "exploitable": 0,
    "in_triage": 1,
    "resolved": 2,
    "not_affected": 3,
    "false_positive": 4,
}
_METHODS = {"2.0": "CVSSv2", "3.0": "CVSSv3", "3.1": "CVSSv31", "4.0": "CVSSv4"}


def _severity(score: float) -> str:
    if score >= 9.0:
        return "critical"
    if score >= 7.0:
        return "high"
    if score >= 4.0:
        return "medium"
    if score > 0.0:
        return "low"
    return "none"


def _component_type(technology: Technology) -> str:
    text = f"{technology.name} {technology.product or ''}"
    part = technology.cpe.split(":")[2] if technology.cpe else ""
    if "firmware" in text.casefold():
        return "firmware"
    if part == "o" or _OPERATING_SYSTEMS.search(text):
        return "operating-system"
    if part == "h":
        return "device"
    return "application"


def _technology(assessment: Assessment, element: str, label: str | None) -> Technology | None:
    for component in assessment.device.components:
        if component.id == element:
            return next((t for t in component.technologies if technology_label(t) == label), None)
    for link in assessment.device.links:
        if link.id == element and link.channel.technology is not None:
            return link.channel.technology
    return None


def _component(
    assessment: Assessment, ref: str, element: str, label: str | None, element_type: str
) -> dict[str, Any]:
    technology = _technology(assessment, element, label)
    if technology is None:  # a threat on the element as a whole
        return {
            "type": "application",
            "bom-ref": ref,
            "name": element,
            "description": f"{element} ({element_type})",
        }
    component: dict[str, Any] = {
        "type": _component_type(technology),
        "bom-ref": ref,
        "name": technology.product or technology.name,
    }
    if technology.vendor:
        component["supplier"] = {"name": technology.vendor}
    if technology.version:
        component["version"] = technology.version
    if technology.cpe:
        component["cpe"] = technology.cpe
    if technology.purl:
        component["purl"] = technology.purl
    component["properties"] = [
        {"name": "mdrisk:element", "value": element},
        {"name": "mdrisk:technology", "value": technology.name},
    ]
    return component


def _rating(score: CvssScore, source: str) -> dict[str, Any] | None:
    method = _METHODS.get(score.version)
    if method is None:
        return None
    rating: dict[str, Any] = {"method": method, "vector": score.vector}
    if source:
        rating["source"] = {"name": source}
    if score.base_score is not None:
        rating["score"] = score.base_score
        rating["severity"] = _severity(score.base_score)
    return rating


def _cwe_numbers(ids: list[str]) -> list[int]:
    return sorted(
        {
            int(i.removeprefix("CWE-"))
            for i in ids
            if i.startswith("CWE-") and i.removeprefix("CWE-").isdigit()
        }
    )


POSSIBLE = "possible, needs review"
CONFIDENT = "confident"


def _coverage_property(state: str, reason: str) -> list[dict[str, str]]:
    return [
        {"name": "mdrisk:vulnerability-coverage", "value": state},
        {"name": "mdrisk:vulnerability-coverage-reason", "value": reason},
    ]


def _components(
    assessment: Assessment, locator: Locator, statuses: list[VulnerabilityStatus]
) -> dict[str, dict[str, Any]]:
    """Each technology with a vulnerability entry and, where coverage is recorded, every
    technology of the device, with what the knowledge base could say about it."""
    components: dict[str, dict[str, Any]] = {}
    for status in statuses:
        threat = status.threat
        ref = locator.path_of(threat.element, threat.technology) or f"element:{threat.element}"
        components.setdefault(
            ref,
            _component(assessment, ref, threat.element, threat.technology, threat.element_type),
        )
    for row in coverage_view(assessment).rows:
        ref = locator.path_of(row.element, row.technology) or f"element:{row.element}"
        component = components.setdefault(
            ref, _component(assessment, ref, row.element, row.technology, "element")
        )
        component.setdefault("properties", []).extend(_coverage_property(row.state, row.reason))
    return components


def _analysis(entries: list[tuple[str, VulnerabilityStatus]]) -> dict[str, Any]:
    # One analysis per vulnerability: the worst state among the components it affects.
    worst = min((s for _, s in entries), key=lambda s: _STATE_ORDER.get(s.state, 1))
    analysis: dict[str, Any] = {
        "state": worst.state,
        "detail": " ".join(dict.fromkeys(s.detail for _, s in entries)),
    }
    if worst.justification:
        analysis["justification"] = worst.justification
    if worst.response:
        analysis["response"] = list(worst.response)
    if worst.decision is not None:
        analysis["lastUpdated"] = f"{worst.decision.date}T00:00:00Z"
    return analysis


def _vulnerability(
    vuln_id: str, possible: bool, entries: list[tuple[str, VulnerabilityStatus]]
) -> dict[str, Any]:
    first = entries[0][1]
    prefix = "possible-vulnerability" if possible else "vulnerability"
    entry: dict[str, Any] = {"bom-ref": f"{prefix}:{vuln_id}", "id": vuln_id}
    source = first.vulnerability.source
    if vuln_id.startswith("CVE-"):
        entry["source"] = {"name": "NVD", "url": f"https://nvd.nist.gov/vuln/detail/{vuln_id}"}
    elif source:
        entry["source"] = {"name": source}
    ratings = [r for r in (_rating(c, source) for c in first.vulnerability.cvss) if r]
    if ratings:
        entry["ratings"] = ratings
    cwes = _cwe_numbers(first.vulnerability.references.cwe)
    if cwes:
        entry["cwes"] = cwes
    advisory = _CISA_ADVISORY.match(source or "")
    if advisory:
        kind = "ics-medical-advisories" if advisory.group(1) else "ics-advisories"
        entry["advisories"] = [
            {
                "title": source,
                "url": f"https://www.cisa.gov/news-events/{kind}/{source.lower()}",
            }
        ]
    entry["analysis"] = _analysis(entries)
    entry["affects"] = [{"ref": ref} for ref in sorted(dict.fromkeys(r for r, _ in entries))]
    properties = []
    if first.vulnerability.kev is not None:
        properties.append({"name": "mdrisk:kev", "value": str(first.vulnerability.kev).lower()})
    if first.vulnerability.epss is not None:
        properties.append({"name": "mdrisk:epss", "value": f"{first.vulnerability.epss:.5f}"})
    properties.append(
        {"name": "mdrisk:match-confidence", "value": f"{first.vulnerability.confidence:.2f}"}
    )
    properties.append({"name": "mdrisk:match", "value": POSSIBLE if possible else CONFIDENT})
    if possible:
        properties += [
            {"name": "mdrisk:match-reason", "value": reason}
            for reason in dict.fromkeys(s.vulnerability.reason for _, s in entries)
        ]
    entry["properties"] = properties
    return entry


def _knowledge_base_properties(assessment: Assessment) -> list[dict[str, str]]:
    """What the knowledge base held: its sources with import dates, its record counts."""
    coverage = assessment.vulnerability_coverage
    if coverage is None:
        said = unrecorded_coverage(assessment)
        return [{"name": "mdrisk:vulnerability-coverage", "value": said}]
    holdings = coverage.knowledge_base
    properties = [
        {"name": "mdrisk:knowledge-base", "value": holdings.summary()},
        {
            "name": "mdrisk:knowledge-base:full-cve-feed",
            "value": str(holdings.comprehensive).lower(),
        },
    ]
    for source in holdings.sources:
        dates = "..".join(
            dict.fromkeys(d[:10] for d in (source.first_imported, source.last_imported) if d)
        )
        properties.append(
            {
                "name": f"mdrisk:knowledge-base:source:{source.importer}",
                "value": f"{source.documents} records from {source.files} file(s)"
                + (f", imported {dates}" if dates else ""),
            }
        )
    for kind, count in sorted(coverage.knowledge_base.counts.items()):
        properties.append(
            {"name": f"mdrisk:knowledge-base:records:{kind.replace(' ', '-')}", "value": str(count)}
        )
    return properties


def vex_document(assessment: Assessment) -> dict[str, Any]:
    locator = Locator(assessment)
    statuses = vulnerability_statuses(assessment) + possible_statuses(assessment)
    components = _components(assessment, locator, statuses)
    grouped: dict[tuple[str, bool], list[tuple[str, VulnerabilityStatus]]] = {}
    for status in statuses:
        threat = status.threat
        ref = locator.path_of(threat.element, threat.technology) or f"element:{threat.element}"
        grouped.setdefault((status.vulnerability.id, status.possible), []).append((ref, status))
    vulnerabilities = [
        _vulnerability(vuln_id, possible, grouped[(vuln_id, possible)])
        for vuln_id, possible in sorted(grouped)
    ]

    info = assessment.device.device
    subject: dict[str, Any] = {"type": "device", "bom-ref": "device", "name": info.name}
    if info.manufacturer:
        subject["manufacturer"] = {"name": info.manufacturer}
    body = {
        "components": [components[ref] for ref in sorted(components)],
        "vulnerabilities": vulnerabilities,
    }
    provenance = assessment.provenance
    metadata_properties = [
        {"name": "mdrisk:model-sha256", "value": provenance.model_sha256},
        *_knowledge_base_properties(assessment),
    ]
    digest_source = json.dumps(
        {"model": provenance.model_sha256, "kb": metadata_properties, **body}, sort_keys=True
    )
    serial = uuid.uuid5(_SERIAL_NAMESPACE, digest_source)
    return {
        "bomFormat": "CycloneDX",
        "specVersion": SPEC_VERSION,
        "serialNumber": f"urn:uuid:{serial}",
        "version": 1,
        "metadata": {
            "timestamp": provenance.created,
            "tools": {
                "components": [
                    {
                        "type": "application",
                        "name": provenance.tool,
                        "version": provenance.tool_version,
                    }
                ]
            },
            "component": subject,
            "properties": metadata_properties,
        },
        **body,
    }


class VexWriter(ReportWriter):
    name = "vex"
    file_name = "vex.cdx.json"

    def render(self, assessment: Assessment) -> bytes:
        return (json.dumps(vex_document(assessment), indent=2, ensure_ascii=False) + "\n").encode(
            "utf-8"
        )
