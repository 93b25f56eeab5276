"""Each decision matched to the finding it names in one assessment.

In: an assessment and a read decisions file. Out: the assessment with its ``decisions``
section (every decision, what it names, stale when its finding is gone) and one warning
check per stale decision (rule ``stale-decision``), replacing those of an earlier application,
so applying a file twice, or a new file to an assessment read back, gives the same result.
"""

from __future__ import annotations

from collections.abc import Iterable

from mdrisk.assessment import Assessment
from mdrisk.assessment.decisions import Decision, DecisionLog
from mdrisk.assessment.stpa import CheckFinding
from mdrisk.assessment.threats import ElementThreat
from mdrisk.decisions.file import DecisionEntry, LoadedDecisions, ParsedKey
from mdrisk.stable_ids import stable_id

STALE_RULE = "stale-decision"


def _threat_label(threat: ElementThreat) -> str:
    return f"{threat.technology or '(the element as a whole)'} in {threat.element}"


def _finding_names(assessment: Assessment) -> dict[str, str]:
    """What each finding a decision may name is, in words, by id."""
    names = {risk.id: risk.title for risk in assessment.risks}
    names |= {ls.id: ls.text for ls in assessment.loss_scenarios}
    names |= {sc.id: sc.title for sc in assessment.scenarios}
    names |= {th.id: _threat_label(th) for th in assessment.threats}
    return names


def _in_scope(threat: ElementThreat, scope: str | None) -> bool:
    return scope is None or scope in (threat.id, threat.element)


def _vulnerability_threats(
    assessment: Assessment, vulnerability: str, scope: str | None
) -> list[ElementThreat]:
    return [
        threat
        for threat in assessment.threats
        if _in_scope(threat, scope)
        # a candidate below the confidence cut-off is decided on like a match
        and any(
            v.id == vulnerability
            for v in (*threat.vulnerabilities, *threat.possible_vulnerabilities)
        )
    ]


def _decision(
    assessment: Assessment,
    names: dict[str, str],
    key: str,
    parsed: ParsedKey,
    entry: DecisionEntry,
) -> Decision:
    threats: list[str] = []
    if parsed.kind == "vulnerability":
        matched = _vulnerability_threats(assessment, parsed.finding, parsed.scope)
        threats = [threat.id for threat in matched]
        named = "; ".join(f"{parsed.finding} on {_threat_label(t)} ({t.id})" for t in matched)
    else:
        named = names.get(parsed.finding, "")
    return Decision(
        key=key,
        finding=parsed.finding,
        kind=parsed.kind,
        scope=parsed.scope,
        status=entry.status,
        justification=entry.justification or "",
        owner=entry.owner,
        date=entry.date,
        vex_justification=entry.vex_justification,
        stale=not named,
        names=named,
        threats=threats,
    )


def decision_log(assessment: Assessment, loaded: LoadedDecisions) -> DecisionLog:
    names = _finding_names(assessment)
    return DecisionLog(
        file=loaded.file,
        sha256=loaded.sha256,
        entries=[
            _decision(assessment, names, key, parsed, entry)
            for key, parsed, entry in loaded.entries()
        ],
    )


def stale_message(entry: Decision, assessment: Assessment) -> str:
    """Why ``entry`` is stale, in words."""
    what = entry.kind.replace("_", " ")
    if entry.kind == "vulnerability":
        where = f" matched in {entry.scope}" if entry.scope else " matched to any technology"
        text = f"no vulnerability {entry.finding}{where} in this assessment"
    else:
        text = f"no {what} {entry.finding} in this assessment"
    if entry.kind in ("threat", "vulnerability") and not assessment.threats:
        text += " (it has no threats: they are attached only with --kb)"
    return text


def _stale_checks(log: DecisionLog, assessment: Assessment, taken: set[str]) -> list[CheckFinding]:
    checks = []
    for entry in log.stale:
        digits = 6
        check_id = stable_id("CHK", STALE_RULE, entry.key)
        while check_id in taken:  # an STPA check's id: lengthen ours, never theirs
            digits += 2
            check_id = stable_id("CHK", STALE_RULE, entry.key, digits=digits)
        checks.append(
            CheckFinding(
                id=check_id,
                rule=STALE_RULE,
                severity="warning",
                message=f"the {entry.status} decision on {entry.key} is stale: "
                + stale_message(entry, assessment),
                elements=[entry.scope] if entry.scope and not entry.scope.startswith("TH-") else [],
                fix=f"review it, then remove or re-key '{entry.key}' in the decisions file",
            )
        )
    return checks


def with_decisions(assessment: Assessment, loaded: LoadedDecisions | None) -> Assessment:
    """The assessment with ``loaded`` applied (with none: without decisions or their checks)."""
    checks = [check for check in assessment.checks if check.rule != STALE_RULE]
    if loaded is None:
        return assessment.model_copy(update={"decisions": None, "checks": checks})
    log = decision_log(assessment, loaded)
    checks += _stale_checks(log, assessment, {check.id for check in checks})
    return assessment.model_copy(update={"decisions": log, "checks": checks})


def decided_findings(assessment: Assessment) -> dict[str, Decision]:
    """The decision on each risk, loss-scenario class, attack scenario and threat, by id."""
    if assessment.decisions is None:
        return {}
    return {
        entry.finding: entry
        for entry in assessment.decisions.entries
        if entry.kind != "vulnerability" and not entry.stale
    }


def decision_for_vulnerability(
    assessment: Assessment, threat: ElementThreat, vulnerability: str
) -> Decision | None:
    """The decision on ``vulnerability`` as matched in ``threat``: scoped to the threat, else
    to its element, else to the vulnerability wherever it matched."""
    if assessment.decisions is None:
        return None
    found = _vulnerability_decisions(assessment.decisions.entries, vulnerability)
    for scope in (threat.id, threat.element, None):
        entry = found.get(scope)
        if entry is not None and threat.id in entry.threats:
            return entry
    return None


def _vulnerability_decisions(
    entries: Iterable[Decision], vulnerability: str
) -> dict[str | None, Decision]:
    return {
        entry.scope: entry
        for entry in entries
        if entry.kind == "vulnerability" and entry.finding == vulnerability and not entry.stale
    }


def stale_decisions(assessment: Assessment) -> list[Decision]:
    return [] if assessment.decisions is None else assessment.decisions.stale
