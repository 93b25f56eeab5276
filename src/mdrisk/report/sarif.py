"""SARIF 2.1.0: every finding as a result located at its line in the device-model file, so a
code-scanning view shows it beside the model text that caused it.

Findings: STPA checks (``stpa/<rule>``), false-data injection points that lack channel
authentication or integrity (``fdi/unprotected-point``), technology-pack rules
(``TP-...``), matched vulnerabilities (the CVE id; a vulnerability the model's controls
counter is reported with an external suppression carrying the VEX justification), candidates
below the confidence cut-off (``possible/<CVE id>``, ``kind: review`` with level ``none`` as
SARIF requires of a result that is not a failure, the reason in the message, until the
analyst decides on one) and risks (``risk/<acceptability>``). Lines come from the line map
the assessment carries, so the writer reads no file; without one, results point at the file
alone.

The knowledge base's coverage is in ``run.properties.vulnerabilityCoverage`` (what it held,
each technology covered or not), and each technology it does not cover is a tool-execution
notification: the absence of a result there means "not looked at", not "no vulnerability".
"""

from __future__ import annotations

import hashlib
import json
import re
from typing import Any

from mdrisk.assessment import Assessment
from mdrisk.report.coverage_view import coverage_view
from mdrisk.report.interface import ReportWriter
from mdrisk.report.locate import Locator, artifact_uri
from mdrisk.report.vulnerability_status import (
    EXPLOITABLE,
    IN_TRIAGE,
    VulnerabilityStatus,
    possible_statuses,
    vulnerability_statuses,
)

SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
FDI_RULE = "fdi/unprotected-point"
POSSIBLE_RULE_PREFIX = "possible/"
_SEVERITY_SCORE = {"error": "8.0", "warning": "5.0", "note": "2.0"}


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.casefold()).strip("-") or "unnamed"


def _sentence(slug: str) -> str:
    words = slug.replace("-", " ").replace("_", " ").strip()
    return words[:1].upper() + words[1:]


class _Run:
    def __init__(self, assessment: Assessment) -> None:
        self.assessment = assessment
        self.locator = Locator(assessment)
        self.uri, self.relative = artifact_uri(assessment.provenance.model_file)
        self.rules: dict[str, dict[str, Any]] = {}
        self.results: list[dict[str, Any]] = []
        self.notifications: list[dict[str, Any]] = []
        self.properties: dict[str, Any] = {}

    def rule(
        self,
        rule_id: str,
        short: str,
        full: str,
        help_text: str,
        level: str,
        tags: list[str],
        help_uri: str | None = None,
        score: str | None = None,
    ) -> None:
        if rule_id in self.rules:
            return
        rule: dict[str, Any] = {
            "id": rule_id,
            "name": _slug(rule_id).replace("-", "_"),
            "shortDescription": {"text": short},
            "fullDescription": {"text": full or short},
            "help": {"text": help_text or full or short},
            "defaultConfiguration": {"level": level},
            "properties": {
                "tags": ["security", *tags],
                "security-severity": score or _SEVERITY_SCORE[level],
            },
        }
        if help_uri:
            rule["helpUri"] = help_uri
        self.rules[rule_id] = rule

    def location(self, element: str | None, technology: str | None = None) -> dict[str, Any]:
        artifact: dict[str, Any] = {"uri": self.uri, "index": 0}
        if self.relative:
            artifact["uriBaseId"] = "SRCROOT"
        physical: dict[str, Any] = {"artifactLocation": artifact}
        line = self.locator.line_of(element, technology) if element else None
        if line is not None:
            physical["region"] = {"startLine": line}
        location: dict[str, Any] = {"physicalLocation": physical}
        path = self.locator.path_of(element, technology) if element else None
        if element:
            location["logicalLocations"] = [
                {"name": element, "kind": "object", "fullyQualifiedName": path or element}
            ]
        return location

    def result(
        self,
        rule_id: str,
        level: str,
        message: str,
        element: str | None,
        ids: list[str],
        technology: str | None = None,
        about: dict[str, Any] | None = None,
        **extra: Any,
    ) -> None:
        key = "|".join([rule_id, element or "", technology or "", *ids])
        result: dict[str, Any] = {
            "ruleId": rule_id,
            "level": level,
            "message": {"text": message},
            "locations": [self.location(element, technology)],
            "partialFingerprints": {
                "mdriskFinding/v1": hashlib.sha256(key.encode("utf-8")).hexdigest()[:32]
            },
            "properties": {"mdrisk": {"ids": ids, **(about or {})}},
        }
        result.update(extra)
        self.results.append(result)

    def document(self) -> dict[str, Any]:
        order = {rule_id: index for index, rule_id in enumerate(self.rules)}
        for result in self.results:
            result["ruleIndex"] = order[result["ruleId"]]
        provenance = self.assessment.provenance
        artifact: dict[str, Any] = {
            "location": {"uri": self.uri},
            "hashes": {"sha-256": provenance.model_sha256},
            "roles": ["analysisTarget"],
        }
        if self.relative:
            artifact["location"]["uriBaseId"] = "SRCROOT"
        invocation: dict[str, Any] = {"executionSuccessful": True, "endTimeUtc": provenance.created}
        if self.notifications:
            invocation["toolExecutionNotifications"] = self.notifications
        run: dict[str, Any] = {
            "tool": {
                "driver": {
                    "name": provenance.tool,
                    "version": provenance.tool_version,
                    "semanticVersion": provenance.tool_version,
                    "rules": list(self.rules.values()),
                }
            },
            "artifacts": [artifact],
            "invocations": [invocation],
            "results": self.results,
            "properties": {
                "device": self.assessment.device.device.name,
                "knowledgeBase": [f"{s.source} sha256:{s.sha256}" for s in provenance.kb_snapshots],
                **self.properties,
            },
        }
        return {"$schema": SCHEMA, "version": "2.1.0", "runs": [run]}


def _checks(run: _Run) -> None:
    for check in run.assessment.checks:
        rule_id = f"stpa/{check.rule}"
        level = "warning" if check.severity == "warning" else "note"
        run.rule(
            rule_id,
            _sentence(check.rule),
            f"STPA completeness check: {_sentence(check.rule).lower()}.",
            check.fix,
            level,
            ["stpa"],
        )
        element, _ = run.locator.first_line(check.elements)
        run.result(
            rule_id,
            level,
            f"{check.id}: {check.message}. Fix: {check.fix}",
            element,
            [check.id, *check.elements],
        )


def _fdi_points(run: _Run) -> None:
    run.rule(
        FDI_RULE,
        "False-data injection point without authentication and integrity",
        "A component or channel upstream of an ML engine input (or of its model-update "
        "path) where false data can enter, with no authenticated, integrity-protected "
        "channel in the model to stop it.",
        "Authenticate the source and protect the integrity (and freshness) of the data on "
        "this path, or validate the data at the ML engine's input; record the control in "
        "the device model.",
        "warning",
        ["stpa-sec", "fdi"],
    )
    for point in run.assessment.fdi_points:
        protected = {"authentication", "integrity"} <= set(point.protections)
        if protected:
            continue
        what = "channel" if point.element_type == "link" else "component"
        target = (
            f"input '{point.ml_input}'"
            if point.target == "inference_input"
            else "model update path"
        )
        level = "warning" if point.element_type == "link" else "note"
        have = ", ".join(point.protections) or "no protection"
        run.result(
            FDI_RULE,
            level,
            f"{point.id}: false data can enter at {what} {point.element} ({have}) and "
            f"reach ML engine {point.ml_engine} {target} via "
            f"{' -> '.join(step.element for step in point.path)}.",
            point.element,
            [point.id, point.ml_engine],
        )


def _threats(run: _Run) -> None:
    for threat in run.assessment.threats:
        for finding in threat.pack_rules:
            level = "warning" if threat.fdi_points else "note"
            references = finding.references
            run.rule(
                finding.rule,
                finding.title,
                finding.rationale,
                "Mitigations: "
                + (
                    ", ".join(
                        finding.mitigations.attack_ics
                        + finding.mitigations.attack_enterprise
                        + finding.mitigations.atlas
                    )
                    or "none listed"
                ),
                level,
                ["technology-pack", *references.cwe],
            )
            on = threat.technology or threat.element
            reach = (
                f" It is a false-data injection point ({', '.join(threat.fdi_points)})."
                if threat.fdi_points
                else ""
            )
            run.result(
                finding.rule,
                level,
                f"{threat.id}: {finding.title} — {on} in {threat.element} "
                f"(matched on {finding.matched_on}).{reach}",
                threat.element,
                [threat.id, *threat.fdi_points],
                threat.technology,
            )


def _vulnerability_level(status: VulnerabilityStatus) -> tuple[str, str | None]:
    scores = [c.base_score for c in status.vulnerability.cvss if c.base_score is not None]
    score = max(scores) if scores else None
    if status.state == EXPLOITABLE:
        level = "error" if status.vulnerability.kev or (score or 0) >= 7.0 else "warning"
    elif not status.unresolved:
        level = "note"
    else:
        level = "warning"
    return level, (f"{score:.1f}" if score is not None else None)


def _vulnerabilities(run: _Run) -> None:
    for status in vulnerability_statuses(run.assessment):
        vulnerability = status.vulnerability
        level, score = _vulnerability_level(status)
        run.rule(
            vulnerability.id,
            f"Known vulnerability {vulnerability.id}",
            f"{vulnerability.id}, published for a technology of the device "
            f"({vulnerability.source or 'knowledge base'}).",
            "Update the component to a fixed version, or record the control that counters "
            "the weakness and the VEX justification.",
            "error" if level == "error" else "warning",
            ["vulnerability", *vulnerability.references.cwe],
            help_uri=f"https://www.cve.org/CVERecord?id={vulnerability.id}"
            if vulnerability.id.startswith("CVE-")
            else None,
            score=score,
        )
        extra: dict[str, Any] = {}
        if not status.unresolved:
            extra["suppressions"] = [
                {"kind": "external", "status": "accepted", "justification": status.detail}
            ]
        run.result(
            vulnerability.id,
            level,
            f"{vulnerability.id} ({status.state.replace('_', ' ')}): {status.detail}",
            status.threat.element,
            [vulnerability.id, status.threat.id, *status.threat.fdi_points],
            status.threat.technology,
            about={"match": "confident", "confidence": vulnerability.confidence},
            **extra,
        )


def _possible_vulnerabilities(run: _Run) -> None:
    """Candidates below the confidence cut-off: to review until the analyst decides; a
    decision makes one a finding like a match (suppressed when settled)."""
    for status in possible_statuses(run.assessment):
        vulnerability = status.vulnerability
        rule_id = f"{POSSIBLE_RULE_PREFIX}{vulnerability.id}"
        run.rule(
            rule_id,
            f"Possible known vulnerability {vulnerability.id} (needs review)",
            f"{vulnerability.id} may apply to a technology of the device: the knowledge base "
            "names the product, but the match fell below the confidence cut-off (the version "
            "or the product name could not be confirmed).",
            "Check the exact product and version against the record, then record the decision "
            "(false_positive, not_affected, accepted...) in the decisions file.",
            "note",
            ["vulnerability", "needs-review", *vulnerability.references.cwe],
            help_uri=f"https://www.cve.org/CVERecord?id={vulnerability.id}"
            if vulnerability.id.startswith("CVE-")
            else None,
        )
        extra: dict[str, Any] = {}
        if status.state == IN_TRIAGE:
            # SARIF: a result that is not a failure has level "none".
            level = "none"
            extra["kind"] = "review"
        else:
            level, _ = _vulnerability_level(status)
            if not status.unresolved:
                extra["suppressions"] = [
                    {"kind": "external", "status": "accepted", "justification": status.detail}
                ]
        run.result(
            rule_id,
            level,
            f"{vulnerability.id} (possible, needs review; {status.state.replace('_', ' ')}): "
            f"{status.detail}",
            status.threat.element,
            [vulnerability.id, status.threat.id, *status.threat.fdi_points],
            status.threat.technology,
            about={
                "match": "possible",
                "confidence": vulnerability.confidence,
                "reason": vulnerability.reason,
            },
            **extra,
        )


def _coverage(run: _Run) -> None:
    """What the knowledge base held and covered; a notification per technology it does not
    cover, so that no result there is not read as no vulnerability."""
    assessment = run.assessment
    coverage = assessment.vulnerability_coverage
    if coverage is None:
        kb_used = bool(assessment.provenance.kb_snapshots)
        text = (
            "This assessment does not record which technologies the knowledge base covers "
            "(re-run analyze --kb): a technology without a result may simply not be covered."
            if kb_used
            else "No knowledge base was used: known vulnerabilities were not looked up."
        )
        run.properties["vulnerabilityCoverage"] = {"recorded": False, "summary": text}
        run.notifications.append(
            {
                "level": "warning",
                "message": {"text": text},
                "descriptor": {"id": "kb/coverage-not-recorded" if kb_used else "kb/not-used"},
            }
        )
        return
    view = coverage_view(assessment)
    holdings = coverage.knowledge_base
    run.properties["vulnerabilityCoverage"] = {
        "recorded": True,
        "summary": holdings.summary(),
        "fullCveFeed": holdings.comprehensive,
        "sources": [source.model_dump(mode="json") for source in holdings.sources],
        "recordCounts": dict(sorted(holdings.counts.items())),
        "components": [
            {
                "element": row.element,
                "technology": row.technology,
                "coverage": row.state,
                "reason": row.reason,
                "matched": row.matched,
                "possible": row.possible,
            }
            for row in view.rows
        ],
    }
    for row in view.rows:
        if row.state == "covered":
            continue
        not_covered = row.state == "not covered"
        run.notifications.append(
            {
                "level": "warning" if not_covered else "note",
                "message": {
                    "text": f"{row.technology} in {row.element}: {row.state} by the knowledge "
                    f"base ({row.reason}); whether it has known vulnerabilities is unknown."
                },
                "descriptor": {"id": "kb/not-covered" if not_covered else "kb/not-looked-up"},
                "locations": [run.location(row.element, row.technology)],
            }
        )


def _risks(run: _Run) -> None:
    for risk in run.assessment.risks:
        acceptability = risk.acceptability or "unrated"
        after = risk.residual.acceptability
        rule_id = f"risk/{_slug(acceptability)}"
        worst = "unacceptable" in (after or acceptability).casefold()
        level = (
            "error"
            if worst
            else (
                "warning"
                if after and after != acceptability or "alarp" in after.casefold()
                else "note"
            )
        )
        run.rule(
            rule_id,
            f"Cybersecurity risk rated {acceptability}",
            f"A risk (attack scenario to hazard) whose level before controls is "
            f"{acceptability} under the risk matrix.",
            "Reduce exploitability with controls, or justify acceptance in the risk "
            "management file.",
            level,
            ["risk"],
        )
        message = (
            f"{risk.id}: {risk.title} — level {risk.level} ({acceptability}); "
            f"residual {risk.residual.level} ({after}) after controls."
        )
        scenario = [risk.scenario] if risk.scenario else []
        run.result(
            rule_id,
            level,
            message,
            risk.element or None,
            [risk.id, *scenario, *risk.threats, *risk.hazards],
        )


def sarif_document(assessment: Assessment) -> dict[str, Any]:
    run = _Run(assessment)
    for add in (
        _checks,
        _fdi_points,
        _threats,
        _vulnerabilities,
        _possible_vulnerabilities,
        _risks,
        _coverage,
    ):
        add(run)
    return run.document()


class SarifWriter(ReportWriter):
    name = "sarif"
    file_name = "findings.sarif"

    def render(self, assessment: Assessment) -> bytes:
        return (json.dumps(sarif_document(assessment), indent=2, ensure_ascii=False) + "\n").encode(
            "utf-8"
        )
