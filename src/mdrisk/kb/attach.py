"""Attach threats to a device model: pack rules and known vulnerabilities per element.

In: a device model, the technology pack, optionally a vulnerability matcher and an enricher
(both over the local store), and which elements are false-data-injection points. Out: one
``ElementThreat`` per technology of a component or link that something applies to (and one
per element for rules about the element as a whole), with stable ids ``TH-1``, ``TH-2``, ...
in model order. Pure: the matcher and enricher are the only way to the store.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any, Protocol

from mdrisk.assessment.threats import (
    ComponentCoverage,
    CvssScore,
    ElementThreat,
    KnownVulnerability,
    PackFinding,
    ThreatMitigations,
    ThreatReferences,
)
from mdrisk.kb.catalog_ids import natural
from mdrisk.kb.matching.cutoff import MIN_CONFIDENCE, split_by_confidence
from mdrisk.kb.matching.query import ComponentQuery, VulnMatch
from mdrisk.kb.pack import (
    ATLAS_TECHNIQUE,
    CAPEC_ID,
    CWE_ID,
    ENTERPRISE_TECHNIQUE,
    ICS_TECHNIQUE,
    ElementView,
    RuleHit,
    TechnologyPack,
    evaluate,
)
from mdrisk.model.schema import DeviceModel, Technology
from mdrisk.stable_ids import stable_ids

# What an enricher returns for a CVE id: a mapping (or a pydantic model such as
# kb.enrich.VulnerabilityEnrichment) that may hold kev, epss, cvss, cwes, capecs and
# techniques, in whatever depth the store has (see _enrichment_of).
Enricher = Callable[[str], Any]
# Element id -> the FDI points at it, as (FDI id, "inference_input" | "model_update").
FdiIndex = Mapping[str, Sequence[tuple[str, str]]]


class VulnerabilityMatcher(Protocol):
    def match(self, query: ComponentQuery) -> Sequence[VulnMatch]: ...


def query_for(technology: Technology) -> ComponentQuery | None:
    """The matcher query for a technology, or None when it names no maker, product or
    package (a bare "Bluetooth Low Energy" would only match noise)."""
    if not any((technology.vendor, technology.product, technology.cpe, technology.purl)):
        return None
    return ComponentQuery(
        vendor=technology.vendor,
        product=technology.product or technology.name,
        version=technology.version,
        cpe=technology.cpe,
        purl=technology.purl,
    )


def technology_label(technology: Technology) -> str:
    return " ".join(part for part in (technology.name, technology.version) if part)


# --- enrichment ------------------------------------------------------------------------------

_ID_PATTERNS = {
    "cwe": re.compile(CWE_ID),
    "capec": re.compile(CAPEC_ID),
    "attack_ics": re.compile(ICS_TECHNIQUE),
    "attack_enterprise": re.compile(ENTERPRISE_TECHNIQUE),
    "atlas": re.compile(ATLAS_TECHNIQUE),
}
_AN_ID = re.compile(r"CWE-\d+|CAPEC-\d+|AML\.T\d{4}(?:\.\d{3})?|T\d{4}(?:\.\d{3})?")


def _strings(value: Any) -> Iterable[str]:
    """Every catalog id inside a value: strings that are ids, in lists or mappings (a
    mapping's 'id', else its values). Free text is not searched."""
    if isinstance(value, str):
        if _AN_ID.fullmatch(value.strip()):
            yield value.strip()
    elif isinstance(value, Mapping):
        if isinstance(value.get("id"), str):
            yield from _strings(value["id"])
        else:
            for item in value.values():
                yield from _strings(item)
    elif isinstance(value, (list, tuple, set, frozenset)):
        for item in value:
            yield from _strings(item)


def _sorted_ids(ids: Iterable[str]) -> list[str]:
    return sorted(set(ids), key=natural)


def references_in(value: Any) -> ThreatReferences:
    """Catalog ids found anywhere in an enrichment value, sorted per catalog."""
    found: dict[str, set[str]] = {name: set() for name in _ID_PATTERNS}
    for identifier in _strings(value):
        for name, pattern in _ID_PATTERNS.items():
            if pattern.match(identifier):
                found[name].add(identifier)
    return ThreatReferences(**{name: _sorted_ids(ids) for name, ids in found.items()})


def _number(value: Any, *keys: str) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return float(value)
    if isinstance(value, Mapping):
        for key in keys:
            number = _number(value.get(key))
            if number is not None:
                return number
    return None


def _kev(value: Any) -> bool | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return value
    if isinstance(value, Mapping) and "listed" in value:
        return bool(value["listed"])
    return bool(value)


def _cvss_scores(value: Any) -> list[CvssScore]:
    items: list[Any]
    if isinstance(value, Mapping) and not any(k in value for k in ("vector", "vectorString")):
        items = list(value.values())
    elif isinstance(value, (list, tuple)):
        items = list(value)
    elif value is None:
        items = []
    else:
        items = [value]
    scores: dict[str, CvssScore] = {}
    for item in items:
        if isinstance(item, str):
            vector, version, score = item, "", None
        elif isinstance(item, Mapping):
            vector = item.get("vector") or item.get("vectorString") or ""
            version = str(item.get("version") or "")
            score = _number(item, "base_score", "baseScore", "score")
        else:
            continue
        if not isinstance(vector, str) or not vector:
            continue
        if not version:
            prefix = re.match(r"CVSS:(\d\.\d)/", vector)
            version = prefix.group(1) if prefix else "2.0"
        scores.setdefault(vector, CvssScore(version=version, vector=vector, base_score=score))
    return sorted(scores.values(), key=lambda s: (s.version, s.vector))


def _enrichment_of(data: Any) -> dict[str, Any]:
    """kev, epss, cvss and catalog references from an enricher's answer, tolerating any
    missing part (an empty store knows none of them)."""
    if hasattr(data, "model_dump"):  # enrich_vulnerability answers with a pydantic model
        data = data.model_dump(mode="json")
    if not data:
        return {}
    epss = _number(data.get("epss"), "epss", "score", "probability")
    return {
        "kev": _kev(data.get("kev")),
        "epss": None if epss is None else round(epss, 5),
        "cvss": _cvss_scores(data.get("cvss")),
        "references": references_in(
            {
                key: value
                for key, value in data.items()
                if key not in ("kev", "epss", "cvss", "id", "description", "references", "title")
            }
        ),
    }


# --- assembling ------------------------------------------------------------------------------


def _merge(references: Iterable[ThreatReferences]) -> ThreatReferences:
    merged: dict[str, set[str]] = {name: set() for name in _ID_PATTERNS}
    for item in references:
        for name in merged:
            merged[name].update(getattr(item, name))
    return ThreatReferences(**{name: _sorted_ids(ids) for name, ids in merged.items()})


def _finding(hit: RuleHit) -> PackFinding:
    rule = hit.rule
    return PackFinding(
        rule=rule.id,
        title=rule.title,
        rationale=" ".join(rule.rationale.split()),
        matched_on=hit.matched_on,
        references=ThreatReferences(
            **{name: _sorted_ids(getattr(rule.references, name)) for name in _ID_PATTERNS}
        ),
        mitigations=ThreatMitigations(
            attack_ics=_sorted_ids(rule.mitigations.attack_ics),
            attack_enterprise=_sorted_ids(rule.mitigations.attack_enterprise),
            atlas=_sorted_ids(rule.mitigations.atlas),
        ),
    )


class _Vulnerabilities:
    """Matches and enrichment for technologies, each CVE enriched once."""

    def __init__(
        self, matcher: VulnerabilityMatcher | None, enricher: Enricher | None, min_confidence: float
    ) -> None:
        self._matcher = matcher
        self._enricher = enricher
        self._min_confidence = min_confidence
        self._enriched: dict[str, dict[str, Any]] = {}

    def of(
        self, technology: Technology
    ) -> tuple[list[KnownVulnerability], list[KnownVulnerability]]:
        """(matches, possible ones below the cut-off) for one technology."""
        query = query_for(technology)
        if self._matcher is None or query is None:
            return [], []
        best: dict[str, VulnMatch] = {}
        for match in self._matcher.match(query):
            kept = best.get(match.id)
            if kept is None or (match.confidence, match.reason) > (kept.confidence, kept.reason):
                best[match.id] = match
        ordered = sorted(best.values(), key=lambda m: (-round(m.confidence, 3), natural(m.id)))
        confident, possible = split_by_confidence(ordered, self._min_confidence)
        return [self._known(m) for m in confident], [self._known(m) for m in possible]

    def _known(self, match: VulnMatch) -> KnownVulnerability:
        if match.id not in self._enriched:
            data = self._enricher(match.id) if self._enricher else None
            self._enriched[match.id] = _enrichment_of(data)
        return KnownVulnerability(
            id=match.id,
            confidence=round(match.confidence, 3),
            reason=match.reason,
            source=match.source,
            **self._enriched[match.id],
        )


def attach_threats(
    model: DeviceModel,
    pack: TechnologyPack,
    matcher: VulnerabilityMatcher | None = None,
    enricher: Enricher | None = None,
    fdi: FdiIndex | None = None,
    min_confidence: float = MIN_CONFIDENCE,
) -> list[ElementThreat]:
    """Pack rules and known vulnerabilities for every component and link, in model order.

    Within an element, rules about the element as a whole come first, then each technology
    in the order the model lists them. Elements and technologies to which nothing applies
    get no entry.
    """
    fdi = fdi or {}
    vulnerabilities = _Vulnerabilities(matcher, enricher, min_confidence)
    views = [ElementView.of_component(c, _targets(fdi, c.id)) for c in model.components]
    views += [ElementView.of_link(link, model, _targets(fdi, link.id)) for link in model.links]
    threats: list[ElementThreat] = []
    for view in views:
        hits = evaluate(pack, view)
        slots: list[int | None] = [None, *range(len(view.technologies))]
        for slot in slots:
            findings = [_finding(hit) for hit in hits if hit.technology == slot]
            technology = view.technologies[slot] if slot is not None else None
            known, possible = vulnerabilities.of(technology) if technology is not None else ([], [])
            if not findings and not known and not possible:
                continue
            threats.append(
                ElementThreat(
                    id="",
                    element=view.element,
                    element_type=view.element_type,
                    technology=technology_label(technology) if technology else None,
                    technology_families=[f.name for f in pack.families_of(technology)]
                    if technology
                    else [],
                    fdi_points=sorted(
                        {fdi_id for fdi_id, _ in fdi.get(view.element, ())}, key=natural
                    ),
                    pack_rules=findings,
                    vulnerabilities=known,
                    possible_vulnerabilities=possible,
                    references=_merge(
                        [f.references for f in findings] + [v.references for v in known]
                    ),
                )
            )
    keys = [(t.element, t.technology or "") for t in threats]
    ids = stable_ids("TH", keys)
    return [t.model_copy(update={"id": ids[key]}) for t, key in zip(threats, keys, strict=True)]


def _targets(fdi: FdiIndex, element: str) -> frozenset[str]:
    return frozenset(target for _, target in fdi.get(element, ()))


def component_coverage(
    model: DeviceModel,
    matcher: VulnerabilityMatcher | None,
    threats: Sequence[ElementThreat],
    comprehensive: bool = False,
) -> list[ComponentCoverage]:
    """For every technology of every component and link: whether the knowledge base covers
    it (holds records of its product, or is a full CVE feed), and how many matches and
    possible matches it got. Without a matcher nothing is covered."""
    counts = {
        (t.element, t.technology): (len(t.vulnerabilities), len(t.possible_vulnerabilities))
        for t in threats
    }
    holds = getattr(matcher, "holds", None)
    elements = [(c.id, list(c.technologies)) for c in model.components]
    elements += [
        (link.id, [link.channel.technology] if link.channel.technology else [])
        for link in model.links
    ]
    found: list[ComponentCoverage] = []
    for element, technologies in elements:
        for technology in technologies:
            label = technology_label(technology)
            matched, possible = counts.get((element, label), (0, 0))
            query = query_for(technology)
            if matcher is None:
                covered, reason = False, "no knowledge base was used"
            elif query is None:
                covered, reason = False, "no vendor, product, CPE or purl given: not looked up"
            elif matched or possible:
                covered, reason = True, "records of this product matched"
            elif holds is None:
                covered, reason = True, "the matcher does not say what it covers"
            else:
                covered, reason = holds(query)
                if not covered and comprehensive:
                    covered = True
                    reason += "; a full CVE feed (NVD) is held: none published"
            found.append(
                ComponentCoverage(
                    element=element,
                    technology=label,
                    covered=covered,
                    reason=reason,
                    matched=matched,
                    possible=possible,
                )
            )
    return found
