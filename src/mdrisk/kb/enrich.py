"""What the knowledge base knows about one id, and the threat chain behind a weakness.

``enrich_vulnerability`` gives later stages (risk scoring, scenarios) one typed answer per CVE:
KEV status, EPSS, CVSS vectors, CWEs, and the chain CWE -> CAPEC -> ATT&CK technique ->
mitigations. ``chain_for_weakness`` gives the same chain for a technology that has no CVE.
``describe`` is everything known about any id, as plain JSON-ready data for ``mdrisk kb show``.

The chain follows the catalogues' own links: CWE's Related_Attack_Patterns and CAPEC's CWE
references (CWE -exploited_by-> CAPEC), CAPEC's ATT&CK taxonomy mappings
(-maps_to_technique->), CAPEC and ATT&CK mitigations (-mitigated_by->). A weakness with no
attack pattern of its own (CWE-787, CWE-416) borrows those of its nearest ancestor in CWE's
research view; the ancestor is listed among the weaknesses with ``via`` naming the CWE it
stands in for, so the borrowing stays visible.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from pydantic import BaseModel, ConfigDict

from mdrisk.kb.catalog_ids import lookup_forms, natural
from mdrisk.kb.records import (
    ADVISORY,
    ATTACK_PATTERN,
    CASE_STUDY,
    EPSS,
    KEV,
    MITIGATION,
    REL_ADVISORY,
    REL_CAPEC,
    REL_CHILD_OF,
    REL_CWE,
    REL_MITIGATION,
    REL_TECHNIQUE,
    TACTIC,
    TECHNIQUE,
    VULNERABILITY,
    WEAKNESS,
)
from mdrisk.kb.store import Store, StoredRecord

MAX_ANCESTOR_STEPS = 6
MAX_LISTED = 50  # vulnerabilities listed under a CWE in ``describe``; the count is complete


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True)


class CvssScore(_Frozen):
    version: str
    vector: str
    score: float | None = None
    source: str = ""


class CatalogEntry(_Frozen):
    """One CWE, CAPEC, technique or mitigation in a chain; ``via`` names the ids that led to
    it (a CAPEC's CWEs, a technique's CAPECs, a mitigation's CAPECs or techniques)."""

    id: str
    name: str = ""
    kind: str = ""
    framework: str = ""
    via: tuple[str, ...] = ()


class AdvisoryRef(_Frozen):
    id: str
    title: str = ""
    url: str = ""
    published: str = ""


class WeaknessChain(_Frozen):
    weaknesses: tuple[CatalogEntry, ...] = ()
    capecs: tuple[CatalogEntry, ...] = ()
    techniques: tuple[CatalogEntry, ...] = ()
    mitigations: tuple[CatalogEntry, ...] = ()


class VulnerabilityEnrichment(_Frozen):
    """Everything later stages need about one vulnerability. ``sources`` lists the documents
    (store source keys) that mention it; empty means the knowledge base does not know it.
    Consumers that want plain data use ``model_dump(mode="json")``."""

    id: str
    description: str = ""
    published: str = ""
    # True: listed in KEV; False: a KEV catalogue is imported and does not list it;
    # None: no KEV catalogue imported, so unknown.
    kev: bool | None = None
    kev_date_added: str | None = None
    kev_due_date: str | None = None
    kev_ransomware: str | None = None  # KEV's knownRansomwareCampaignUse: Known / Unknown
    kev_required_action: str | None = None
    epss: float | None = None
    epss_percentile: float | None = None
    epss_date: str | None = None
    cvss: tuple[CvssScore, ...] = ()
    cwes: tuple[CatalogEntry, ...] = ()
    capecs: tuple[CatalogEntry, ...] = ()
    techniques: tuple[CatalogEntry, ...] = ()
    mitigations: tuple[CatalogEntry, ...] = ()
    advisories: tuple[AdvisoryRef, ...] = ()
    sources: tuple[str, ...] = ()

    def cvss_vectors(self, version_prefix: str) -> list[str]:
        """Distinct vectors whose CVSS version starts with ``version_prefix`` ("3", "4.0")."""
        found: list[str] = []
        for entry in self.cvss:
            if entry.version.startswith(version_prefix) and entry.vector not in found:
                found.append(entry.vector)
        return found


# --- the chain --------------------------------------------------------------------------


class _Names:
    """Names and kinds of ids, read from the store once each."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self._cache: dict[str, tuple[str, str, str]] = {}

    def __call__(self, identifier: str) -> tuple[str, str, str]:
        """(name, kind, framework); empty strings for an id the store does not hold."""
        if identifier not in self._cache:
            records = self.store.get(identifier)
            named = [
                r for r in records if isinstance(r.data.get("name") or r.data.get("title"), str)
            ]
            if named:
                record = named[0]
                self._cache[identifier] = (
                    record.data.get("name") or record.data["title"],
                    record.kind,
                    str(record.data.get("framework", "")),
                )
            else:
                self._cache[identifier] = ("", records[0].kind if records else "", "")
        return self._cache[identifier]

    def entry(self, identifier: str, via: Iterable[str] = ()) -> CatalogEntry:
        name, kind, framework = self(identifier)
        return CatalogEntry(
            id=identifier,
            name=name,
            kind=kind,
            framework=framework,
            via=tuple(sorted(set(via), key=natural)),
        )


def _targets(store: Store, sources: Iterable[str], rel: str) -> dict[str, list[str]]:
    """dst -> the sources that lead to it, over ``src -rel-> dst`` relations."""
    found: dict[str, list[str]] = {}
    for source in sources:
        for relation in store.relations(src=source, rel=rel):
            found.setdefault(relation.dst, []).append(source)
    return found


def _primary_parent(store: Store, cwe: str) -> str:
    for record in store.get(cwe):
        if record.kind == WEAKNESS:
            parent = record.data.get("primary_parent") or ""
            if parent:
                return str(parent)
    parents = store.relations(src=cwe, rel=REL_CHILD_OF)
    return parents[0].dst if parents else ""


def _with_attack_patterns(store: Store, cwe: str) -> str | None:
    """The nearest CWE, ``cwe`` itself or an ancestor, that leads to attack patterns."""
    current, seen = cwe, set()
    for _ in range(MAX_ANCESTOR_STEPS + 1):
        if store.relations(src=current, rel=REL_CAPEC):
            return current
        seen.add(current)
        current = _primary_parent(store, current)
        if not current or current in seen:
            return None
    return None


def _chain(store: Store, cwes: Iterable[str], inherit: bool, names: _Names) -> WeaknessChain:
    cwes = sorted(set(cwes), key=natural)
    stands_for: dict[str, list[str]] = {}  # an ancestor whose CAPECs are borrowed -> CWEs
    used: list[str] = []
    for cwe in cwes:
        source = _with_attack_patterns(store, cwe) if inherit else cwe
        if source and source not in used:
            used.append(source)
        if source and source != cwe:
            stands_for.setdefault(source, []).append(cwe)
    weaknesses = {cwe: names.entry(cwe) for cwe in cwes}
    for ancestor, borrowers in stands_for.items():
        if ancestor not in weaknesses:
            weaknesses[ancestor] = names.entry(ancestor, via=borrowers)
    capecs = _targets(store, used, REL_CAPEC)
    techniques = _targets(store, capecs, REL_TECHNIQUE)
    mitigations = _targets(store, list(capecs) + list(techniques), REL_MITIGATION)
    return WeaknessChain(
        weaknesses=tuple(weaknesses[k] for k in sorted(weaknesses, key=natural)),
        capecs=_entries(capecs, names),
        techniques=_entries(techniques, names),
        mitigations=_entries(mitigations, names),
    )


def _entries(found: dict[str, list[str]], names: _Names) -> tuple[CatalogEntry, ...]:
    return tuple(
        names.entry(identifier, via)
        for identifier, via in sorted(found.items(), key=lambda item: natural(item[0]))
    )


def chain_for_weakness(store: Store, cwe_id: str, inherit: bool = True) -> WeaknessChain:
    """CAPECs, ATT&CK techniques and mitigations reached from one CWE (``CWE-287``).

    With ``inherit`` a CWE without attack patterns of its own uses its nearest ancestor's
    (listed in ``weaknesses`` with ``via`` = the CWE asked for).
    """
    cwe = _resolve(store, cwe_id) or cwe_id.strip().upper()
    return _chain(store, [cwe], inherit, _Names(store))


# --- vulnerabilities --------------------------------------------------------------------


def enrich_vulnerability(
    store: Store, cve_id: str, inherit: bool = True
) -> VulnerabilityEnrichment:
    """KEV, EPSS, CVSS, CWEs, advisories and the threat chain of one vulnerability id."""
    vuln_id = _resolve(store, cve_id) or cve_id.strip().upper()
    records = store.get(vuln_id)
    names = _Names(store)
    description = published = ""
    cvss: list[CvssScore] = []
    cwes: list[str] = [r.dst for r in store.relations(src=vuln_id, rel=REL_CWE)]
    kev: dict[str, Any] | None = None
    epss: dict[str, Any] | None = None
    for record in records:
        data = record.data
        if record.kind == VULNERABILITY:
            description = description or _text(data.get("description"))
            published = published or _text(data.get("published"))
            cvss += [score for score in map(_cvss, _list(data.get("cvss"))) if score]
            cwes += [c for c in _list(data.get("cwes")) if isinstance(c, str)]
        elif record.kind == KEV and kev is None:
            kev = data
            cwes += [c for c in _list(data.get("cwes")) if isinstance(c, str)]
        elif record.kind == EPSS and (
            epss is None or _text(data.get("date")) > _text(epss.get("date"))
        ):
            epss = data
    if not description and kev:
        description = _text(kev.get("description"))
    chain = _chain(store, cwes, inherit, names)
    return VulnerabilityEnrichment(
        id=vuln_id,
        description=description,
        published=published,
        kev=True if kev is not None else (False if store.has_kind(KEV) else None),
        kev_date_added=_text(kev.get("date_added")) or None if kev else None,
        kev_due_date=_text(kev.get("due_date")) or None if kev else None,
        kev_ransomware=_text(kev.get("ransomware")) or None if kev else None,
        kev_required_action=_text(kev.get("required_action")) or None if kev else None,
        epss=_number(epss.get("epss")) if epss else None,
        epss_percentile=_number(epss.get("percentile")) if epss else None,
        epss_date=_text(epss.get("date")) or None if epss else None,
        cvss=tuple(_unique(cvss)),
        cwes=chain.weaknesses,
        capecs=chain.capecs,
        techniques=chain.techniques,
        mitigations=chain.mitigations,
        advisories=tuple(_advisories(store, vuln_id, records)),
        sources=tuple(sorted({r.source_key for r in records})),
    )


def _cvss(value: Any) -> CvssScore | None:
    if not isinstance(value, dict):
        return None
    vector = value.get("vector") or value.get("vectorString")
    if not isinstance(vector, str) or not vector:
        return None
    version = value.get("version")
    if not isinstance(version, str) or not version:
        version = vector[5:8] if vector.startswith("CVSS:") else "2.0"
    score = value.get("score", value.get("baseScore"))
    return CvssScore(
        version=version, vector=vector, score=_number(score), source=_text(value.get("source"))
    )


def _advisories(store: Store, vuln_id: str, records: list[StoredRecord]) -> list[AdvisoryRef]:
    ids = {r.dst for r in store.relations(src=vuln_id, rel=REL_ADVISORY)}
    ids |= {
        r.data["advisory"]
        for r in records
        if r.kind == VULNERABILITY and isinstance(r.data.get("advisory"), str)
    }
    found = []
    for advisory in sorted(ids, key=natural):
        data = next((r.data for r in store.get(advisory) if r.kind == ADVISORY), {})
        found.append(
            AdvisoryRef(
                id=advisory,
                title=_text(data.get("title")),
                url=_text(data.get("url")),
                published=_text(data.get("published")),
            )
        )
    return found


# --- describe ---------------------------------------------------------------------------

_SEPARATE = {KEV, EPSS}  # shown as their own sections, not merged into the main data


def describe(store: Store, identifier: str) -> dict[str, Any] | None:
    """Everything known about ``identifier`` (any case), JSON-ready; None when unknown."""
    found = _resolve(store, identifier)
    if found is None:
        return None
    records = store.get(found)
    kinds = sorted({r.kind for r in records})
    merged = _merge(r.data for r in records if r.kind not in _SEPARATE)
    merged.update({"id": found, "kinds": kinds, "sources": sorted({r.source_key for r in records})})
    names = _Names(store)
    if {VULNERABILITY, KEV, EPSS} & set(kinds):
        enrichment = enrich_vulnerability(store, found).model_dump(mode="json")
        for key in ("cwes", "capecs", "techniques", "mitigations", "cvss", "advisories"):
            merged[key] = enrichment[key]
        kev = next((r.data for r in records if r.kind == KEV), None)
        merged["kev"] = kev if kev is not None else False
        epss = [r.data for r in records if r.kind == EPSS]
        merged["epss"] = max(epss, key=lambda d: _text(d.get("date"))) if epss else None
    if WEAKNESS in kinds:
        merged.update(_describe_weakness(store, found, names))
    if ATTACK_PATTERN in kinds:
        merged.update(_describe_attack_pattern(store, found, names))
    if TECHNIQUE in kinds:
        merged.update(_describe_technique(store, found, merged, names))
    if MITIGATION in kinds:
        merged["mitigates"] = _dump(
            names.entry(r.src) for r in store.relations(rel=REL_MITIGATION, dst=found)
        )
    if TACTIC in kinds:
        merged["techniques"] = [
            {"id": r.id, "name": r.data.get("name", "")}
            for r in store.records(TECHNIQUE)
            if found in _list(r.data.get("tactics"))
        ]
    if CASE_STUDY in kinds:
        merged["techniques"] = _dump(
            names.entry(t) for t in _list(merged.get("techniques")) if isinstance(t, str)
        )
    if ADVISORY in kinds:
        merged["vulnerabilities"] = sorted(
            {r.src for r in store.relations(rel=REL_ADVISORY, dst=found)}, key=natural
        )
    return merged


def _describe_weakness(store: Store, cwe: str, names: _Names) -> dict[str, Any]:
    chain = _chain(store, [cwe], True, names)
    vulnerabilities = sorted({r.src for r in store.relations(rel=REL_CWE, dst=cwe)}, key=natural)
    return {
        "parents": _dump(names.entry(r.dst) for r in store.relations(src=cwe, rel=REL_CHILD_OF)),
        "children": _dump(names.entry(r.src) for r in store.relations(rel=REL_CHILD_OF, dst=cwe)),
        "capecs": _dump(chain.capecs),
        "techniques": _dump(chain.techniques),
        "mitigations": _dump(chain.mitigations),
        "borrowed_from": [w.id for w in chain.weaknesses if w.id != cwe],
        "vulnerability_count": len(vulnerabilities),
        "vulnerabilities": vulnerabilities[:MAX_LISTED],
    }


def _describe_attack_pattern(store: Store, capec: str, names: _Names) -> dict[str, Any]:
    techniques = [r.dst for r in store.relations(src=capec, rel=REL_TECHNIQUE)]
    mitigations = _targets(store, [capec] + techniques, REL_MITIGATION)
    return {
        "cwes": _dump(names.entry(r.src) for r in store.relations(rel=REL_CAPEC, dst=capec)),
        "techniques": _dump(names.entry(t) for t in techniques),
        "mitigations": _dump(_entries(mitigations, names)),
        "parents": _dump(names.entry(r.dst) for r in store.relations(src=capec, rel=REL_CHILD_OF)),
        "children": _dump(names.entry(r.src) for r in store.relations(rel=REL_CHILD_OF, dst=capec)),
    }


def _describe_technique(
    store: Store, technique: str, merged: dict[str, Any], names: _Names
) -> dict[str, Any]:
    parent = next((r.dst for r in store.relations(src=technique, rel=REL_CHILD_OF)), "")
    described = {
        "tactics": _dump(
            names.entry(t) for t in _list(merged.get("tactics")) if isinstance(t, str)
        ),
        "mitigations": _dump(
            names.entry(r.dst) for r in store.relations(src=technique, rel=REL_MITIGATION)
        ),
        "parent": names.entry(parent).model_dump(mode="json") if parent else None,
        "subtechniques": _dump(
            names.entry(r.src) for r in store.relations(rel=REL_CHILD_OF, dst=technique)
        ),
        "capecs": _dump(
            names.entry(r.src) for r in store.relations(rel=REL_TECHNIQUE, dst=technique)
        ),
    }
    if technique.startswith("AML."):
        # A case study that used a sub-technique also illustrates its parent technique.
        described["case_studies"] = [
            {"id": r.id, "name": r.data.get("name", "")}
            for r in store.records(CASE_STUDY)
            if any(
                isinstance(t, str) and (t == technique or t.startswith(technique + "."))
                for t in _list(r.data.get("techniques"))
            )
        ]
    return described


# --- small helpers ----------------------------------------------------------------------


def _resolve(store: Store, identifier: str) -> str | None:
    for form in lookup_forms(identifier.strip()):
        if form and store.has(form):
            return form
    return None


def _merge(datas: Iterable[dict[str, Any]]) -> dict[str, Any]:
    """First non-empty value of each key; lists from every source, without repeats."""
    merged: dict[str, Any] = {}
    for data in datas:
        for key, value in data.items():
            if isinstance(value, list) and isinstance(merged.get(key), list):
                seen = {json.dumps(v, sort_keys=True) for v in merged[key]}
                merged[key] = merged[key] + [
                    v for v in value if json.dumps(v, sort_keys=True) not in seen
                ]
            elif merged.get(key) in (None, "", [], {}):
                merged[key] = value
    return merged


def _dump(entries: Iterable[CatalogEntry]) -> list[dict[str, Any]]:
    unique: dict[str, CatalogEntry] = {}
    for entry in entries:
        unique.setdefault(entry.id, entry)
    return [unique[k].model_dump(mode="json") for k in sorted(unique, key=natural)]


def _unique(scores: list[CvssScore]) -> list[CvssScore]:
    seen, kept = set(), []
    for score in scores:
        key = (score.version, score.vector, score.source)
        if key not in seen:
            seen.add(key)
            kept.append(score)
    return kept


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _text(value: Any) -> str:
    return value if isinstance(value, str) else ""


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        return None
    try:
        return float(value)
    except ValueError:
        return None
