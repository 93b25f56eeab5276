"""What changed between two assessments of a device: findings added, removed and changed.

Findings are matched by their stable ids, so a finding an edit left alone is the same finding
in both. Six sections are compared: risks (R-), loss-scenario classes (LS-), attack
scenarios (SC-), known vulnerabilities (a vulnerability id as matched in one threat,
``CVE-2020-27269@TH-38f874``), possible vulnerabilities (candidates below the confidence
cut-off, keyed the same way) and the knowledge base's coverage (each technology as
``<technology>@<element>``, its ``coverage`` covered or not covered, and ``knowledge-base``:
what the store held). A match that fell below the cut-off is removed from the known
vulnerabilities and added to the possible ones; a technology that left coverage says so
beside the vulnerabilities it no longer gets.

A finding is changed when any of its fields differs; the change names each field (``level``,
``severity.level``, ``residual.acceptability``, ``cvss``, ``decision.status``...) with the
old and new value where the value is a single one. Pure and deterministic: ids and fields in
sorted order, nothing from the clock.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from mdrisk.assessment import Assessment
from mdrisk.assessment.decisions import Decision
from mdrisk.decisions import decided_findings, decision_for_vulnerability

Scalar = str | int | float | bool | None
# Sections of the comparison: (key, what its findings are called).
SECTIONS: tuple[tuple[str, str], ...] = (
    ("risks", "risks"),
    ("loss_scenarios", "loss-scenario classes"),
    ("scenarios", "attack scenarios"),
    ("vulnerabilities", "vulnerabilities"),
    ("possible_vulnerabilities", "possible vulnerabilities (needs review)"),
    ("coverage", "knowledge-base coverage"),
)
KNOWLEDGE_BASE = "knowledge-base"


@dataclass(frozen=True)
class FieldChange:
    field: str  # dotted: "severity.level"
    old: Any = None  # the values, when each is a single value (else None)
    new: Any = None
    values_shown: bool = False


@dataclass(frozen=True)
class Changed:
    id: str
    fields: tuple[FieldChange, ...]


@dataclass(frozen=True)
class SectionDiff:
    key: str
    title: str
    added: tuple[str, ...] = ()
    removed: tuple[str, ...] = ()
    changed: tuple[Changed, ...] = ()

    @property
    def empty(self) -> bool:
        return not (self.added or self.removed or self.changed)


@dataclass(frozen=True)
class AssessmentDiff:
    sections: tuple[SectionDiff, ...] = field(default_factory=tuple)

    @property
    def empty(self) -> bool:
        return all(section.empty for section in self.sections)

    def as_data(self) -> dict[str, Any]:
        """The difference as plain JSON data, every list sorted."""
        return {
            section.key: {
                "added": list(section.added),
                "removed": list(section.removed),
                "changed": [
                    {
                        "id": change.id,
                        "fields": [f.field for f in change.fields],
                        "values": {
                            f.field: {"old": f.old, "new": f.new}
                            for f in change.fields
                            if f.values_shown
                        },
                    }
                    for change in section.changed
                ],
            }
            for section in self.sections
        }


def _decision_data(decision: Decision | None) -> dict[str, Any]:
    """The decision's fields (each None without one), so a change names the field."""
    if decision is None:
        return dict.fromkeys(("status", "justification", "owner", "date", "vex_justification"))
    return {
        "status": decision.status,
        "justification": decision.justification,
        "owner": decision.owner,
        "date": decision.date,
        "vex_justification": decision.vex_justification,
    }


def _coverage(assessment: Assessment) -> dict[str, dict[str, Any]]:
    """Each technology's coverage, and what the knowledge base held (none when unrecorded)."""
    coverage = assessment.vulnerability_coverage
    if coverage is None:
        return {}
    found: dict[str, dict[str, Any]] = {
        f"{c.technology}@{c.element}": {
            "coverage": "covered" if c.covered else "not covered",
            "reason": c.reason,
            "matched": c.matched,
            "possible": c.possible,
        }
        for c in coverage.components
    }
    holdings = coverage.knowledge_base
    found[KNOWLEDGE_BASE] = {
        "full_cve_feed": holdings.comprehensive,
        "sources": {
            s.importer: f"{s.documents} records from {s.files} file(s), imported "
            f"{s.first_imported[:10]}..{s.last_imported[:10]}"
            for s in holdings.sources
        },
        "records": dict(holdings.counts),
    }
    return found


def _findings(assessment: Assessment, key: str) -> dict[str, dict[str, Any]]:
    """The findings of one section, by id, each as plain data with its decision."""
    decided = decided_findings(assessment)
    if key == "coverage":
        return _coverage(assessment)
    if key in ("vulnerabilities", "possible_vulnerabilities"):
        found = {}
        for threat in assessment.threats:
            listed = (
                threat.vulnerabilities
                if key == "vulnerabilities"
                else threat.possible_vulnerabilities
            )
            for vulnerability in listed:
                data = vulnerability.model_dump(mode="json")
                data["element"] = threat.element
                data["technology"] = threat.technology
                data["decision"] = _decision_data(
                    decision_for_vulnerability(assessment, threat, vulnerability.id)
                )
                found[f"{vulnerability.id}@{threat.id}"] = data
        return found
    records: Iterable[Any] = getattr(assessment, key)
    found = {}
    for record in records:
        data = record.model_dump(mode="json")
        data["decision"] = _decision_data(decided.get(record.id))
        found[record.id] = data
    return found


def _is_scalar(value: Any) -> bool:
    return value is None or isinstance(value, str | int | float | bool)


def _field_changes(old: Any, new: Any, path: str, depth: int) -> list[FieldChange]:
    """The fields in which ``old`` and ``new`` differ: into mappings two levels deep, lists
    and deeper structures named as a whole."""
    if old == new:
        return []
    if depth < 2 and isinstance(old, dict) and isinstance(new, dict):
        changes = []
        for key in sorted(old.keys() | new.keys()):
            inner = f"{path}.{key}" if path else key
            changes += _field_changes(old.get(key), new.get(key), inner, depth + 1)
        return changes
    if _is_scalar(old) and _is_scalar(new):
        return [FieldChange(path, old, new, True)]
    return [FieldChange(path)]


def _natural(identifier: str) -> tuple[str, str]:
    return (identifier.casefold(), identifier)


def _section(old: Assessment, new: Assessment, key: str, title: str) -> SectionDiff:
    before, after = _findings(old, key), _findings(new, key)
    changed = []
    for identifier in sorted(before.keys() & after.keys(), key=_natural):
        fields = _field_changes(before[identifier], after[identifier], "", 0)
        if fields:
            changed.append(Changed(identifier, tuple(fields)))
    return SectionDiff(
        key,
        title,
        added=tuple(sorted(after.keys() - before.keys(), key=_natural)),
        removed=tuple(sorted(before.keys() - after.keys(), key=_natural)),
        changed=tuple(changed),
    )


def diff_assessments(old: Assessment, new: Assessment) -> AssessmentDiff:
    """What differs from ``old`` to ``new``, section by section."""
    return AssessmentDiff(tuple(_section(old, new, key, title) for key, title in SECTIONS))


def _shown(value: Any, limit: int = 60) -> str:
    text = "none" if value is None else str(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def diff_lines(diff: AssessmentDiff, label: Callable[[str, str], str] | None = None) -> list[str]:
    """The difference as lines of text; ``label(section, id)`` may add a title to an id."""
    name = label or (lambda _section, _id: "")
    lines = []
    for section in diff.sections:
        lines.append(
            f"{section.title}: {len(section.added)} added, {len(section.removed)} removed, "
            f"{len(section.changed)} changed"
        )
        for identifier in section.added:
            lines.append(f"  + {identifier}  {name(section.key, identifier)}".rstrip())
        for identifier in section.removed:
            lines.append(f"  - {identifier}  {name(section.key, identifier)}".rstrip())
        for change in section.changed:
            parts = [
                f"{f.field}: {_shown(f.old)} -> {_shown(f.new)}" if f.values_shown else f.field
                for f in change.fields
            ]
            lines.append(f"  ~ {change.id}  {'; '.join(parts)}")
    return lines
