"""Attack scenarios from an assessment: deterministic, deduplicated, ranked.

In: an Assessment (its FDI points, loss scenarios, UCAs and, when analysed with ``--kb``, its
threats), the technology pack, the attacker profiles and the scenario rules. Out: a list of
``AttackScenario`` records in rank order, each with an id derived from what defines it
(category, entry, exploit family, attacker, UCA, engine), so it survives unrelated edits.

Two sources of scenarios:

* every FDI point x each exploit its element's threats give x each attacker profile that can
  use that exploit and reaches the element x each of the point's loss scenarios whose UCA type
  the exploit can produce (category ``fdi``; on the way to a model update ``model_update``
  where the element hands the engine a model, ``poisoning`` where it hands on training data);
* every ML engine x each AI-specific exploit its own threats give (evasion, poisoning,
  extraction, inversion, resource exhaustion, prompt injection, model supply chain), used
  from the entry points the family names.

Scenarios with the same category, element, exploit family, attacker and UCA (through the same
ML engine) are one scenario that lists every loss scenario, FDI point, threat, rule and
vulnerability behind it. Every id cited comes from the assessment, the pack's rules or the
knowledge base's enrichment, so it resolves by construction; every path is an FDI path
followed by the loss scenario's path.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import lru_cache

from mdrisk.assessment import Assessment
from mdrisk.assessment.scenarios import (
    CATEGORIES,
    AttackScenario,
    Exploitability,
    ExploitabilityParts,
    InjectionKind,
    ScenarioCategory,
    ScenarioReferences,
    ScenarioStep,
)
from mdrisk.assessment.stpa import CheckFinding, FDIPoint, LossScenario
from mdrisk.assessment.threats import ElementThreat, KnownVulnerability, PackFinding
from mdrisk.kb.attach import attach_threats
from mdrisk.kb.catalog_ids import natural as _natural
from mdrisk.kb.pack import TechnologyPack
from mdrisk.model.schema import DeviceModel, Hazard, LinkKind, Loss, UCAType
from mdrisk.scenarios.data import ProfileSet, ScenarioRules
from mdrisk.scenarios.entries import Entry, EntryFinder
from mdrisk.scenarios.exploitability import ScoreInputs, protections_missing, score_parts
from mdrisk.scenarios.exploits import Exploit, ExploitKind, exploits_on
from mdrisk.scenarios.reach import FactsBuilder, reach_reason
from mdrisk.stable_ids import stable_id, stable_ids
from mdrisk.stpa.fdi import MODEL_UPDATE_INPUT

_CATALOGS = ("cwe", "capec", "attack_ics", "attack_enterprise", "atlas")
_POISONING_KINDS: frozenset[InjectionKind] = frozenset({"spoof", "bias", "suppress"})
# The false data each manipulation of a loss-scenario class is made of; manipulations that
# can go either way (tamper, swap, a substituted model) are forged or biased values.
_INJECTIONS: dict[str, tuple[InjectionKind, ...]] = {
    "raise": ("bias", "spoof"),
    "lower": ("bias",),  # a missing value is not a lower one (that is ``suppress``)
    "spoof": ("spoof",),
    "suppress": ("suppress",),
    "delay": ("delay", "replay"),
    "replay": ("replay",),
    "freeze": ("freeze", "replay", "delay"),  # stale: stuck, held back or replayed
}
# Which manipulation tells a scenario best, when several of its classes start equally close:
# a value pushed one way first, stale or late data last.
_REPRESENTATIVE = (
    "raise",
    "lower",
    "spoof",
    "suppress",
    "tamper",
    "swap",
    "substitute",
    "poison",
    "error",
    "replay",
    "delay",
    "freeze",
)
# What a starved engine's missing or late output does to the action it informs.
_AVAILABILITY: dict[UCAType, InjectionKind] = {
    UCAType.not_provided: "suppress",
    UCAType.wrong_timing: "delay",
}
_SEVERITIES = ("negligible", "minor", "serious", "critical", "catastrophic")
# The same few hundred ids are sorted over and over on large models.
natural = lru_cache(maxsize=65_536)(_natural)


@dataclass(frozen=True)
class _AtPoint:
    """A loss-scenario class as seen from one FDI point, for one of its hazards."""

    scenario: LossScenario
    tail: tuple[str, ...]  # its path after the engine
    rank: tuple  # which class represents a scenario: most telling manipulation, then id
    misbehaviour: str
    losses: frozenset[str]  # its losses that follow from this hazard


@dataclass(frozen=True)
class _Group:
    """Classes at one FDI point that share a hazard, a manipulation and a UCA type."""

    best: _AtPoint  # the one that represents them
    ids: tuple[str, ...]
    ucas: frozenset[str]
    losses: frozenset[str]

    @classmethod
    def of(cls, members: list[_AtPoint]) -> _Group:
        return cls(
            best=min(members, key=lambda m: m.rank),
            ids=tuple(m.scenario.id for m in members),
            ucas=frozenset(m.scenario.uca for m in members),
            losses=frozenset().union(*(m.losses for m in members)),
        )


@dataclass
class _Candidate:
    """A scenario before merging and ranking."""

    category: ScenarioCategory
    element: str
    element_type: str
    engine: str
    attacker: str
    reason: str
    kind: ExploitKind
    hazard: str | None  # the hazard the scenario class leads to (None: disclosure)
    uca: str | None  # the representative UCA (of the lowest-ranked path)
    injection: InjectionKind
    hops: int
    path: tuple[str, ...]
    fdi_path: tuple[str, ...]
    order: tuple  # which merged path represents the scenario: fewest hops, lowest LS id
    misbehaviour: str
    inputs: set[str] = field(default_factory=set)
    sources: set[str] = field(default_factory=set)
    fdi_points: set[str] = field(default_factory=set)
    # The loss-scenario classes behind it, as the groups they came in (shared between
    # candidates, so a hundred thousand candidates do not each copy their ids).
    groups: dict[int, _Group] = field(default_factory=dict)
    # The exploits merged into this scenario (usually one; their threats, rules and
    # vulnerabilities are combined only for the scenarios kept).
    # By identity; a hundred thousand candidates are kept at once, so one container, not two.
    exploits_by_id: dict[int, Exploit] = field(default_factory=dict)

    @property
    def exploits(self) -> list[Exploit]:
        return list(self.exploits_by_id.values())

    @property
    def threats(self) -> set[str]:
        return {t for exploit in self.exploits for t in exploit.threats}

    @property
    def findings(self) -> dict[str, PackFinding]:
        return {rule: f for exploit in self.exploits for rule, f in exploit.findings.items()}

    @property
    def vulnerabilities(self) -> dict[str, KnownVulnerability]:
        return {
            v: known for exploit in self.exploits for v, known in exploit.vulnerabilities.items()
        }

    hazards: set[str] = field(default_factory=set)
    extra_losses: frozenset[str] = frozenset()  # a disclosure's, with no class

    @property
    def loss_scenarios(self) -> set[str]:
        return {i for group in self.groups.values() for i in group.ids}

    @property
    def ucas(self) -> set[str]:
        return {u for group in self.groups.values() for u in group.ucas}

    @property
    def losses(self) -> set[str]:
        return set(self.extra_losses.union(*(group.losses for group in self.groups.values())))


def _misbehaviour(scenario: LossScenario) -> str:
    """What the ML engine does with the class's false data (after the engine's name)."""
    effect = scenario.effect
    if effect is None:
        return f"passes the false data on, so {scenario.belief or 'the controller is misled'}"
    wording = {
        "up": f"returns a {effect.output} that is too high",
        "down": f"returns a {effect.output} that is too low",
        "stale": f"works from stale input, so its {effect.output} lags the process",
        "late": f"gets its input late, so its {effect.output} comes late",
        "missing": f"lacks {scenario.signal}, so its {effect.output} is missing or unreliable",
    }
    return wording.get(effect.direction, f"returns a wrong {effect.output}")


class _Generator:
    def __init__(
        self,
        assessment: Assessment,
        pack: TechnologyPack,
        profiles: ProfileSet,
        rules: ScenarioRules,
    ) -> None:
        self.assessment = assessment
        self.rules = rules
        self.profiles = profiles
        self.model: DeviceModel = assessment.device
        self.facts = FactsBuilder(self.model, pack, assessment.fdi_points)
        self.link_kinds = {link.id: link.kind for link in self.model.links}
        self.loss_scenarios: dict[str, list[LossScenario]] = {}
        for scenario in assessment.loss_scenarios:
            for point_id in scenario.fdi_points:
                self.loss_scenarios.setdefault(point_id, []).append(scenario)
        self.cite_threats = bool(assessment.threats)
        threats = assessment.threats or self._attached(pack)
        self.threats_by_element: dict[str, list[ElementThreat]] = {}
        for threat in threats:
            self.threats_by_element.setdefault(threat.element, []).append(threat)
        self.ucas = {uca.id: uca for uca in assessment.ucas}
        self.action_names = {ca.id: ca.name for ca in assessment.control_actions}
        self.hazards: dict[str, Hazard] = {h.id: h for h in assessment.device.hazards}
        self.losses: dict[str, Loss] = {loss.id: loss for loss in assessment.device.losses}
        self._reach: dict[tuple[str, str], str | None] = {}
        # Points past the loss-scenario limit lead nowhere listed, so they are no entries.
        self.entries = EntryFinder(
            self.model,
            [p for p in assessment.fdi_points if p.id in self.loss_scenarios],
            self.facts,
            self.attackers_for,
        )
        self.candidates: dict[tuple, _Candidate] = {}
        self._at_point: dict[str, dict[str, list[_Group]]] = {}
        self._members: dict[tuple[str, str], dict[str, _AtPoint]] = {}
        self._injections: dict[tuple, InjectionKind | None] = {}

    def _attached(self, pack: TechnologyPack) -> list[ElementThreat]:
        """Pack findings when the assessment has none (made without --kb); no store. Only
        for the elements a scenario can start from or act on: the FDI points that lead to a
        loss scenario and the ML engines."""
        starts = {p.element for p in self.assessment.fdi_points if p.id in self.loss_scenarios}
        wanted = starts | {engine.id for engine in self.model.ml_engines}
        fdi: dict[str, list[tuple[str, str]]] = {}
        for point in self.assessment.fdi_points:
            if point.element in wanted:
                fdi.setdefault(point.element, []).append((point.id, point.target))
        links = [link for link in self.model.links if link.id in wanted]
        ends = {end for link in links for end in (link.source, link.target)}
        # Link rules look at the kinds of both ends, so those components come along.
        focus = self.model.model_copy(
            update={
                "components": [c for c in self.model.components if c.id in wanted | ends],
                "links": links,
            }
        )
        return attach_threats(focus, pack, None, None, fdi)

    # --- reach --------------------------------------------------------------------------

    def reason(self, attacker: str, element: str) -> str | None:
        key = (attacker, element)
        if key not in self._reach:
            self._reach[key] = reach_reason(self.profiles.by_id[attacker], self.facts[element])
        return self._reach[key]

    def attackers_for(self, kind: ExploitKind, element: str) -> list[str]:
        """Profiles that can use the exploit and reach the element, in profile order."""
        allowed = set(kind.attackers) if kind.attackers else None
        return [
            p.id
            for p in self.profiles.profiles
            if (allowed is None or p.id in allowed) and self.reason(p.id, element)
        ]

    # --- candidates ---------------------------------------------------------------------

    def injection_for(
        self, kind: ExploitKind, scenario: LossScenario, category: ScenarioCategory
    ) -> InjectionKind | None:
        """The false data of the loss-scenario class, if the exploit can create it.

        A generic exploit on the update path replaces the whole model, which can misbehave
        any way; poisoned training data only makes the next model err in a direction
        (forged, biased or masked values), never at the wrong time."""
        if kind.category == "resource_exhaustion":
            # The engine itself is starved: its output for any input goes missing or late,
            # whatever falsification the class names.
            wanted_kind = _AVAILABILITY.get(scenario.uca_type)
            return wanted_kind if wanted_kind in kind.injections else None
        for wanted in _INJECTIONS.get(scenario.manipulation, ("spoof", "bias")):
            if category == "poisoning" and wanted not in _POISONING_KINDS:
                continue
            if wanted in kind.injections:
                return wanted
        if category == "model_update" and kind.category is None and kind.injections:
            return kind.injections[0]
        return None

    def category_at(self, point: FDIPoint, fdi_path: tuple[str, ...]) -> ScenarioCategory:
        """fdi for an inference input. On the way to a model update: model_update where the
        element hands the engine a model (every link on the way is an update), poisoning
        where it hands on data that the next model is trained from."""
        if point.target != "model_update":
            return "fdi"
        kinds = [self.link_kinds[hop] for hop in fdi_path if hop in self.link_kinds]
        return "model_update" if all(k == LinkKind.update for k in kinds) else "poisoning"

    def add(self, exploit: Exploit, entry: Entry, category: ScenarioCategory) -> None:
        point = entry.point
        fdi_path = entry.prefix + tuple(step.element for step in point.path)
        hops = len(fdi_path) - 1
        reason = self.reason(entry.attacker, entry.element) or ""
        if exploit.kind.injections == ("query",):
            self._add_confidentiality(exploit, entry, category, fdi_path, hops, reason)
            return
        # One attack-scenario class per hazard: the UCAs through which this entry, exploit
        # and attacker reach it are its members; the most telling class represents it.
        for hazard, groups in self._by_hazard(point).items():
            chosen: tuple[tuple, _AtPoint, InjectionKind] | None = None
            usable: list[_Group] = []
            for group in groups:  # classes alike for the exploit: one manipulation, one type
                injection = self._injection(exploit.kind, group.best.scenario, category)
                if injection is None:
                    continue
                if chosen is None or group.best.rank < chosen[0]:
                    chosen = (group.best.rank, group.best, injection)
                usable.append(group)
            if chosen is None:
                continue
            rank, best, injection = chosen
            candidate = self._candidate(
                exploit,
                entry,
                category,
                hazard,
                best.scenario.uca,
                injection,
                hops,
                fdi_path + best.tail,
                fdi_path,
                reason,
                best.misbehaviour,
                (hops, *rank),
            )
            candidate.groups.update((id(group), group) for group in usable)
            candidate.hazards.add(hazard)

    def release(self) -> None:
        """Drop the candidates and caches: what a run keeps is the records it returned."""
        self.candidates.clear()
        self._at_point.clear()
        self._members.clear()
        self._injections.clear()
        self._reach.clear()

    def _by_hazard(self, point: FDIPoint) -> dict[str, list[_Group]]:
        """The loss-scenario classes through ``point``, by hazard, in groups an exploit
        treats alike (one manipulation and UCA type), with what each needs."""
        found = self._at_point.get(point.id)
        if found is None:
            members: dict[str, dict[tuple[str, str], list[_AtPoint]]] = {}
            for scenario in self.loss_scenarios.get(point.id, []):
                alike = (scenario.manipulation, scenario.uca_type.value)
                for hazard, member in self._member_of(scenario, point.ml_engine).items():
                    members.setdefault(hazard, {}).setdefault(alike, []).append(member)
            found = {
                hazard: [_Group.of(group) for group in by_kind.values()]
                for hazard, by_kind in members.items()
            }
            self._at_point[point.id] = found
        return found

    def _member_of(self, scenario: LossScenario, engine: str) -> dict[str, _AtPoint]:
        """A class's part in any scenario through ``engine``, per hazard (the same from every
        FDI point of the class, so worked out once)."""
        key = (scenario.id, engine)
        if key not in self._members:
            tail = tuple(scenario.path[scenario.path.index(engine) + 1 :])
            rank = (_REPRESENTATIVE.index(scenario.manipulation), natural(scenario.id))
            words = _misbehaviour(scenario)
            self._members[key] = {
                hazard: _AtPoint(
                    scenario,
                    tail,
                    rank,
                    words,
                    frozenset(x for x in scenario.losses if x in self.hazards[hazard].losses),
                )
                for hazard in scenario.hazards
            }
        return self._members[key]

    def _injection(
        self, kind: ExploitKind, scenario: LossScenario, category: ScenarioCategory
    ) -> InjectionKind | None:
        key = (kind.id, scenario.manipulation, scenario.uca_type, category)
        if key not in self._injections:
            self._injections[key] = self.injection_for(kind, scenario, category)
        return self._injections[key]

    def _add_confidentiality(
        self,
        exploit: Exploit,
        entry: Entry,
        category: ScenarioCategory,
        fdi_path: tuple[str, ...],
        hops: int,
        reason: str,
    ) -> None:
        pattern = re.compile(self.rules.confidentiality_losses, re.IGNORECASE)
        losses = sorted(
            (loss.id for loss in self.losses.values() if pattern.search(loss.description)),
            key=natural,
        )
        hazards = sorted(
            (h.id for h in self.hazards.values() if set(h.losses) & set(losses)), key=natural
        )
        if not hazards:
            return  # the model names no confidentiality hazard for the disclosure to lead to
        misbehaviour = (
            "answers every query as designed, and the answers reveal what it "
            "learnt from its training data"
        )
        candidate = self._candidate(
            exploit,
            entry,
            category,
            None,
            None,
            "query",
            hops,
            fdi_path,
            fdi_path,
            reason,
            misbehaviour,
            (hops, 0, natural(entry.point.id)),
        )
        candidate.hazards.update(hazards)
        candidate.extra_losses = candidate.extra_losses.union(
            loss for h in hazards for loss in self.hazards[h].losses if loss in losses
        )

    def _candidate(
        self,
        exploit: Exploit,
        entry: Entry,
        category: ScenarioCategory,
        hazard: str | None,
        uca: str | None,
        injection: InjectionKind,
        hops: int,
        path: tuple[str, ...],
        fdi_path: tuple[str, ...],
        reason: str,
        misbehaviour: str,
        order: tuple,
    ) -> _Candidate:
        point = entry.point
        # One scenario per element, exploit family, attacker and hazard (and ML engine, so
        # that its steps tell one engine's misbehaviour).
        key = (category, entry.element, exploit.kind.id, entry.attacker, hazard, point.ml_engine)
        candidate = self.candidates.get(key)
        if candidate is None:
            candidate = _Candidate(
                category,
                entry.element,
                entry.element_type,
                point.ml_engine,
                entry.attacker,
                reason,
                exploit.kind,
                hazard,
                uca,
                injection,
                hops,
                path,
                fdi_path,
                order,
                misbehaviour,
            )
            self.candidates[key] = candidate
        elif order < candidate.order:
            candidate.hops, candidate.path, candidate.fdi_path = hops, path, fdi_path
            candidate.order, candidate.misbehaviour = order, misbehaviour
            candidate.injection, candidate.uca = injection, uca
        candidate.inputs.add(point.ml_input)
        candidate.sources.update(entry.sources)
        candidate.fdi_points.add(point.id)
        candidate.exploits_by_id.setdefault(id(exploit), exploit)
        return candidate

    def from_fdi_points(self) -> None:
        exploits: dict[str, list[Exploit]] = {}
        for point in self.assessment.fdi_points:
            if point.id not in self.loss_scenarios:
                continue
            if point.element not in exploits:
                exploits[point.element] = exploits_on(
                    self.threats_by_element.get(point.element, []),
                    self.rules,
                    engine_level=False,
                    cite_threats=self.cite_threats,
                )
            category = self.category_at(point, tuple(step.element for step in point.path))
            for exploit in exploits[point.element]:
                for attacker in self.attackers_for(exploit.kind, point.element):
                    self.add(exploit, Entry(point, attacker), category)

    def from_ml_engines(self) -> None:
        for engine in self.model.ml_engines:
            exploits = exploits_on(
                self.threats_by_element.get(engine.id, []),
                self.rules,
                engine_level=True,
                cite_threats=self.cite_threats,
            )
            for exploit in exploits:
                for entry in self.entries.entries(engine, exploit.kind):
                    category = exploit.kind.category or self.category_at(
                        entry.point, entry.prefix + tuple(s.element for s in entry.point.path)
                    )
                    self.add(exploit, entry, category)

    # --- records ------------------------------------------------------------------------

    def score_inputs(self, candidate: _Candidate) -> ScoreInputs:
        profile = self.profiles.by_id[candidate.attacker]
        facts = self.facts[candidate.element]
        return ScoreInputs(
            reach=profile.reach_score,
            skill=profile.skill,
            family_ease=candidate.kind.ease,
            vulnerabilities=self.vulnerabilities_of(candidate),
            protections_missing=protections_missing(facts.protections, facts.in_process),
            hops=candidate.hops,
        )

    def severity_of(self, candidate: _Candidate) -> str | None:
        """The worst severity of the losses the scenario's hazards lead to (as the model
        rates them); None where no loss is rated."""
        rated = [
            self.losses[loss].severity
            for hazard in candidate.hazards
            for loss in self.hazards[hazard].losses
            if loss in self.losses and self.losses[loss].severity
        ]
        return max(rated, key=_SEVERITIES.index) if rated else None

    @staticmethod
    def vulnerabilities_of(candidate: _Candidate) -> tuple[KnownVulnerability, ...]:
        if len(candidate.exploits) == 1:
            return candidate.exploits[0].sorted_vulnerabilities()
        found = candidate.vulnerabilities
        return tuple(found[v] for v in sorted(found, key=natural))

    def record(
        self, candidate: _Candidate, identifier: str, exploitability: Exploitability
    ) -> AttackScenario:
        profile = self.profiles.by_id[candidate.attacker]
        vulnerabilities = self.vulnerabilities_of(candidate)
        references = self._references(candidate, vulnerabilities)
        ending = candidate.hazard or "disclosure of training data"
        return AttackScenario(
            id=identifier,
            category=candidate.category,
            title=f"{candidate.kind.title} at {candidate.element} by the {profile.name}, "
            f"leading to {ending}",
            attacker=candidate.attacker,
            exploit_family=candidate.kind.id,
            element=candidate.element,
            element_type=candidate.element_type,
            ml_engine=candidate.engine,
            ml_inputs=sorted(candidate.inputs, key=natural),
            injection=candidate.injection,
            uca=candidate.uca,
            ucas=sorted(candidate.ucas, key=natural),
            severity=self.severity_of(candidate),
            hazards=sorted(candidate.hazards, key=natural),
            losses=sorted(candidate.losses, key=natural),
            fdi_points=sorted(candidate.fdi_points, key=natural),
            loss_scenarios=sorted(candidate.loss_scenarios, key=natural),
            threats=sorted(candidate.threats, key=natural),
            path=list(candidate.path),
            steps=self._steps(candidate, profile.name, references),
            prerequisites=list(
                dict.fromkeys([*profile.prerequisites, *candidate.kind.prerequisites])
            ),
            references=references,
            exploitability=exploitability,
        )

    def _references(
        self, candidate: _Candidate, vulnerabilities: Iterable[KnownVulnerability]
    ) -> ScenarioReferences:
        found: dict[str, set[str]] = {name: set() for name in _CATALOGS}
        for finding in candidate.findings.values():
            for name in _CATALOGS:
                found[name].update(getattr(finding.references, name))
        for vulnerability in vulnerabilities:
            for name in _CATALOGS:
                found[name].update(getattr(vulnerability.references, name))
        if candidate.kind.category is not None:
            # An AI-specific scenario cites the techniques of its own category only (an
            # inversion scenario does not cite model extraction from the same rule).
            found["atlas"] = {i for i in found["atlas"] if candidate.kind.cites_atlas(i)}
        return ScenarioReferences(
            cve=[v.id for v in vulnerabilities],
            pack_rules=sorted(candidate.findings, key=natural),
            **{name: sorted(ids, key=natural) for name, ids in found.items()},
        )

    def _steps(
        self, candidate: _Candidate, attacker_name: str, references: ScenarioReferences
    ) -> list[ScenarioStep]:
        engine = candidate.engine
        uca = self.ucas[candidate.uca] if candidate.uca else None
        action = self.action_names.get(uca.control_action, "") if uca else ""
        inputs = sorted(candidate.inputs - {MODEL_UPDATE_INPUT}, key=natural)
        signals = ", ".join(inputs) or f"the data {candidate.element} passes on"
        aim = self.rules.uca_types[uca.type].aim.format(action=action) if uca else ""
        steps = [
            ScenarioStep(
                kind="access",
                text=f"The {attacker_name} reaches {candidate.element_type} {candidate.element} "
                f"({candidate.reason}), {candidate.hops} hop(s) upstream of {engine}: "
                f"{' → '.join(candidate.fdi_path)}.",
                ids=[candidate.element],
            )
        ]
        rules = "; ".join(
            f"{f.title} ({f.rule})"
            for _, f in sorted(candidate.findings.items(), key=lambda item: natural(item[0]))
        )
        known = ", ".join(
            v.id + (" (known exploited)" if v.kev else "")
            for v in sorted(candidate.vulnerabilities.values(), key=lambda v: natural(v.id))
        )
        detail = "; ".join(
            part for part in (rules, f"known vulnerabilities {known}" if known else "") if part
        )
        steps.append(
            ScenarioStep(
                kind="exploit",
                text=f"{candidate.kind.title}: {detail}.",
                ids=sorted(candidate.threats, key=natural) + references.all_ids(),
            )
        )
        steps.append(
            ScenarioStep(
                kind="injection",
                text=self._injection_text(candidate, signals, aim),
                ids=sorted(candidate.fdi_points, key=natural),
            )
        )
        steps.append(
            ScenarioStep(kind="ml_effect", text=f"{engine} {candidate.misbehaviour}.", ids=[engine])
        )
        if uca is not None:
            members = [self.ucas[u] for u in sorted(candidate.ucas, key=natural)] or [uca]
            steps.append(
                ScenarioStep(
                    kind="uca",
                    text="; or ".join(f"{u.text} ({u.id})" for u in members) + ".",
                    ids=[i for u in members for i in (u.id, u.control_action)],
                )
            )
        hazards = sorted(candidate.hazards, key=natural)
        losses = sorted(candidate.losses, key=natural)
        steps.append(
            ScenarioStep(
                kind="hazard",
                text="; ".join(f"{h}: {self.hazards[h].description}" for h in hazards) + ".",
                ids=hazards,
            )
        )
        steps.append(
            ScenarioStep(
                kind="loss",
                text="; ".join(f"{loss}: {self.losses[loss].description}" for loss in losses) + ".",
                ids=losses,
            )
        )
        return steps

    def _injection_text(self, candidate: _Candidate, signals: str, aim: str) -> str:
        values = {
            "signals": signals,
            "aim": aim,
            "element": candidate.element,
            "engine": candidate.engine,
            "sources": ", ".join(sorted(candidate.sources)) or "field data",
        }
        template = candidate.kind.injection_text
        if template is not None:
            text = " ".join(template.split()).format_map(values)
            return f"The attacker {text}."
        if candidate.category == "model_update":
            how = {"replay": "an older, weaker model", "freeze": "an older, weaker model"}.get(
                candidate.injection, "a tampered or substituted model"
            )
            return f"Over {candidate.element} the attacker installs {how} whose output {aim}."
        kind_text = self.rules.injection_kinds[candidate.injection].format(signals=signals)
        if candidate.category == "poisoning":
            return (
                f"At {candidate.element} the attacker {kind_text}: false data that is "
                f"collected into the training data of the next model, which then {aim}."
            )
        return f"At {candidate.element} the attacker {kind_text}: false data that {aim}."

    def scenarios(self, limit: ScenarioLimit) -> tuple[list[AttackScenario], int]:
        """The kept scenarios in rank order, and how many more were ranked below the limit."""
        self.from_fdi_points()
        self.from_ml_engines()
        category_order = {name: index for index, name in enumerate(CATEGORIES)}
        ranked = []
        for candidate in self.candidates.values():
            total, parts = score_parts(self.score_inputs(candidate), self.rules.scoring)
            weight = (_SEVERITIES.index(self.severity_of(candidate) or "negligible") + 1) / 5
            ranked.append(
                (
                    (
                        -round(total * weight, 6),  # severity x exploitability
                        -total,
                        candidate.element,
                        category_order[candidate.category],
                        candidate.attacker,
                        natural(candidate.kind.id),
                        natural(candidate.hazard or ""),
                        candidate.engine,
                    ),
                    candidate,
                    total,
                    parts,
                )
            )
        ranked.sort(key=lambda item: item[0])
        kept = ranked[: limit.max_scenarios]
        keys = [
            (
                c.category,
                c.element,
                c.kind.id,
                c.attacker,
                c.hazard or "",
                c.engine or "",
            )
            for _, c, _, _ in kept
        ]
        ids = stable_ids("SC", keys)
        records = [
            self.record(
                candidate,
                ids[key],
                Exploitability(score=total, parts=ExploitabilityParts(**parts)),
            )
            for (_, candidate, total, parts), key in zip(kept, keys, strict=True)
        ]
        return records, len(ranked) - len(kept)


@dataclass(frozen=True)
class ScenarioLimit:
    """Scenarios grow as FDI points x exploits x attackers x UCAs; past this many (in rank
    order) the rest are counted, not kept. The reference devices stay well below it."""

    max_scenarios: int = 2_000


def rank_scenarios(
    assessment: Assessment,
    pack: TechnologyPack,
    *,
    profiles: ProfileSet,
    rules: ScenarioRules,
    limit: ScenarioLimit | None = None,
) -> tuple[list[AttackScenario], int]:
    """Ranked attack scenarios for the assessment (see the module docstring), and how many
    more were ranked below ``limit`` and not kept.

    ``pack`` recognises technologies and, when the assessment carries no threats, attaches
    its rules without a store (the scenarios then cite pack rules but no TH ids, which the
    assessment does not hold).
    """
    generator = _Generator(assessment, pack, profiles, rules)
    try:
        return generator.scenarios(limit or ScenarioLimit())
    finally:
        # The generator refers to itself (its entry finder holds a bound method), so only the
        # cyclic collector would free its hundred thousand candidates, and it may be paused.
        generator.release()


def generate_scenarios(
    assessment: Assessment,
    pack: TechnologyPack,
    *,
    profiles: ProfileSet,
    rules: ScenarioRules,
    limit: ScenarioLimit | None = None,
) -> list[AttackScenario]:
    """The kept scenarios of :func:`rank_scenarios`."""
    return rank_scenarios(assessment, pack, profiles=profiles, rules=rules, limit=limit)[0]


def with_scenarios(
    assessment: Assessment,
    pack: TechnologyPack,
    *,
    profiles: ProfileSet,
    rules: ScenarioRules,
    limit: ScenarioLimit | None = None,
) -> Assessment:
    """The assessment with its ``scenarios`` section filled; when some were ranked below the
    limit, a warning among the checks says how many."""
    scenarios, dropped = rank_scenarios(
        assessment, pack, profiles=profiles, rules=rules, limit=limit
    )
    update: dict = {"scenarios": scenarios}
    if dropped:
        update["checks"] = [
            *assessment.checks,
            CheckFinding(
                id=stable_id("CHK", "attack-scenarios-truncated"),
                rule="attack-scenarios-truncated",
                severity="warning",
                message=f"{dropped} further attack scenarios ranked below the "
                f"{len(scenarios)} kept were counted but not listed",
                elements=[],
                fix="split the model or raise the scenario limit",
            ),
        ]
    return assessment.model_copy(update=update)


__all__ = ["ScenarioLimit", "generate_scenarios", "rank_scenarios", "with_scenarios"]
