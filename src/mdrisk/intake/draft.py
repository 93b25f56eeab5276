"""Draft a device model from what the documents say: components for the component-like
technologies, the other technologies placed on the component named beside them, and links
where a sentence says X sends (transmits, uploads, connects to ...) Y.

The draft is marked as a draft everywhere: the analyst reviews every element and adds the
losses, hazards, control actions and ML details no document states. Every element carries,
in a YAML comment, the sentences it came from.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import PurePath
from typing import Any

import yaml

from mdrisk.intake.cues import Status
from mdrisk.intake.extract import LocatedMention, Reading
from mdrisk.intake.findings import Evidence, Finding
from mdrisk.intake.lexicon import Category, Implies, Lexicon, TechnologyEntry
from mdrisk.intake.sentences import Sentence
from mdrisk.model import LoadedModel, load_model_text
from mdrisk.model.schema import CONTROLLER_KINDS, ComponentKind

DRAFT_NOTE = (
    "DRAFT drafted by 'mdrisk extract' from device documents. Every component, link "
    "and technology below needs the analyst's review; losses, hazards, control "
    "actions and ML details are not stated in the documents and must be added."
)
ML_ENGINE_ID = "ml_model"
UNPLACED_ID = "unplaced_technologies"

_FORWARD = re.compile(
    r"\b(?:sends?|sent|sending|transmits?|transmitted|uploads?|uploaded|forwards?|forwarded|"
    r"streams?|streamed|pushe[sd]|push|publish(?:es|ed)?|exports?|exported|copies|copied|"
    r"writes?|written|returns?|returned|delivers?|delivered|relays?|relayed|pass(?:es|ed)|"
    r"feeds?|fed|connects?|connected|communicates?|talks?|syncs?|synchroni[sz]es|pairs?|"
    r"paired|reports?|goes|go)\b",
    re.IGNORECASE,
)
_BACKWARD = re.compile(
    r"\b(?:receives?|received|reads?|downloads?|downloaded|pulls?|pulled|retrieves?|"
    r"retrieved|fetche[sd]|fetch|collects?|collected|gets?|obtains?|picks?)\b",
    re.IGNORECASE,
)
_FROM = re.compile(r"\bfrom\b", re.IGNORECASE)
_TO = re.compile(r"\b(?:to|into|with)\b", re.IGNORECASE)
_COMMAND = re.compile(
    r"\b(?:commands?|control(?:s|led)?|dos(?:e|es|ing)|bolus|settings?)\b", re.IGNORECASE
)
_UPDATE = re.compile(
    r"\b(?:updates?|upgrades?|new (?:model|software|firmware) versions?)\b", re.IGNORECASE
)
_HOSTED = re.compile(
    r"\b(?:runs?|running|executed|computed|deployed|hosted|installed|served|"
    r"packaged)\s+(?:on|in|inside|to)\b",
    re.IGNORECASE,
)
_PRONOUN = re.compile(r"^\s*(?:it|they|this|these)\b", re.IGNORECASE)
_PROTECTIONS = {
    "tls": ("encryption", "integrity"),
    "ssl": ("encryption", "integrity"),
    "aes": ("encryption",),
    "wpa2": ("encryption", "authentication"),
    "wpa3": ("encryption", "authentication"),
    "oauth": ("authentication",),
    "ecdh": ("encryption",),
    "rsa": ("authentication",),
}


@dataclass
class _Component:
    id: str
    name: str
    kind: ComponentKind
    technologies: dict[tuple[str, str | None], TechnologyEntry] = field(default_factory=dict)
    evidence: list[Evidence] = field(default_factory=list)


@dataclass
class _Link:
    source: str
    target: str
    kind: str
    channel: tuple[TechnologyEntry, str | None] | None
    protections: set[str]
    evidence: list[Evidence] = field(default_factory=list)
    in_process: bool = False

    @property
    def id(self) -> str:
        suffix = {"data": "", "control_action": "_command", "update": "_update"}[self.kind]
        return f"{self.source}_to_{self.target}{suffix}"

    @property
    def signal(self) -> str:
        return {
            "data": f"{self.source}_data",
            "control_action": f"{self.source}_command",
            "update": f"{self.source}_update",
        }[self.kind]


@dataclass(frozen=True)
class Draft:
    """The drafted model as YAML text (with evidence comments) and as a validated model."""

    text: str
    loaded: LoadedModel


def _component_of(entry: TechnologyEntry) -> tuple[str, str, ComponentKind]:
    if entry.category == Category.ml_framework:
        return ML_ENGINE_ID, "ML model", ComponentKind.ml_engine
    if entry.category == Category.cloud_platform:
        return entry.id, f"Cloud service on {entry.name}", ComponentKind.cloud
    assert entry.kind is not None
    return entry.id, entry.name, entry.kind


def _plain_evidence(evidence: Evidence) -> str:
    sentence = " ".join(evidence.sentence.split())
    if len(sentence) > 160:
        sentence = sentence[:157] + "..."
    where = f"{PurePath(evidence.file).name}:" + (
        f"page {evidence.page}:line {evidence.line}"
        if evidence.page is not None
        else str(evidence.line)
    )
    return f'{where}: "{sentence}"'


class _Drafter:
    def __init__(self, reading: Reading, lexicon: Lexicon) -> None:
        self.reading = reading
        self.lexicon = lexicon
        self.findings = reading.extraction.findings
        self.found_ids = {finding.technology for finding in self.findings}
        self.components: dict[str, _Component] = {}
        self.links: dict[str, _Link] = {}
        self.unplaced: dict[tuple[str, str | None], TechnologyEntry] = {}

    # --- which component a mention or word stands for ---------------------------------
    def _component_id(self, entry: TechnologyEntry) -> str | None:
        if entry.implies == Implies.component and entry.id in self.found_ids:
            return _component_of(entry)[0]
        for specific in entry.generic_of:  # "the cloud" when the documents name AWS
            if specific in self.found_ids:
                return self._component_id(self.lexicon.by_id[specific])
        return None

    def _references(
        self, sentence: Sentence, mentions: list[LocatedMention]
    ) -> list[tuple[int, str]]:
        """(position, component id) of every component the sentence refers to."""
        references: list[tuple[int, str]] = []
        covered = [(m.mention.start, m.mention.end) for m in mentions]
        for item in mentions:
            if item.verdict.status == Status.finding:
                component = self._component_id(item.mention.entry)
                if component:
                    references.append((item.mention.start, component))
        for entry in self.lexicon.data.technologies:
            if not entry.anaphors or entry.id not in self.found_ids:
                continue
            claimed = [
                other
                for other in self.lexicon.data.technologies
                if other.id in self.found_ids and set(other.anaphors) & set(entry.anaphors)
            ]
            for word in entry.anaphors:
                if sum(word in other.anaphors for other in claimed) > 1:
                    continue  # "the scanner" with two scanners named: ambiguous
                for match in re.finditer(rf"\b{re.escape(word)}s?\b", sentence.text, re.IGNORECASE):
                    if not any(a <= match.start() < b for a, b in covered):
                        references.append((match.start(), self._component_id(entry) or ""))
        return sorted((p, c) for p, c in references if c)

    # --- building ----------------------------------------------------------------------------
    def _add_component(self, finding: Finding) -> None:
        entry = self.lexicon.by_id[finding.technology]
        component_id, name, kind = _component_of(entry)
        component = self.components.setdefault(component_id, _Component(component_id, name, kind))
        if entry.category in (Category.cloud_platform, Category.ml_framework) or entry.vendor:
            component.technologies[(entry.id, finding.version)] = entry
        component.evidence.extend(finding.evidence)

    def _place(self, finding: Finding) -> None:
        entry = self.lexicon.by_id[finding.technology]
        best: tuple[int, str] | None = None
        for sentence, mentions in self._sentences_of(finding):
            references = self._references(sentence, mentions)
            for item in mentions:
                if item.mention.entry.id != entry.id:
                    continue
                for position, component in references:
                    distance = abs(position - item.mention.start)
                    if best is None or distance < best[0]:
                        best = (distance, component)
        if best is None:
            self.unplaced[(entry.id, finding.version)] = entry
        else:
            self.components[best[1]].technologies[(entry.id, finding.version)] = entry

    def _sentences_of(self, finding: Finding) -> list[tuple[Sentence, list[LocatedMention]]]:
        wanted = {(e.file, e.page, e.line, e.sentence) for e in finding.evidence}
        by_sentence: dict[Sentence, list[LocatedMention]] = {}
        for item in self.reading.mentions:
            s = item.sentence
            if (s.file, s.page, s.line, s.text) in wanted:
                by_sentence.setdefault(s, []).append(item)
        return list(by_sentence.items())

    def _hosting(self, sentence: Sentence, references: list[tuple[int, str]]) -> bool:
        """ "computed on the phone by a TensorFlow Lite model": the host feeds the ML engine
        in-process. True when the sentence said so."""
        if ML_ENGINE_ID not in {c for _, c in references}:
            return False
        hosted = _HOSTED.search(sentence.text)
        if hosted is None:
            return False
        host = next((c for p, c in references if p > hosted.end() and c != ML_ENGINE_ID), None)
        if host is None:
            return False
        self._add_link(_Link(host, ML_ENGINE_ID, "data", None, set(), in_process=True), sentence)
        return True

    def _add_link(self, link: _Link, sentence: Sentence) -> None:
        existing = self.links.setdefault(link.id, link)
        if existing is not link:
            existing.protections |= link.protections
            existing.channel = existing.channel or link.channel
        existing.evidence.append(
            Evidence(
                file=sentence.file, page=sentence.page, line=sentence.line, sentence=sentence.text
            )
        )

    def _link_from(
        self, sentence: Sentence, mentions: list[LocatedMention], previous_subject: str | None
    ) -> str | None:
        """Links the sentence states; returns its subject (for a following "It ...")."""
        if any(item.verdict.status == Status.instruction for item in mentions):
            return None
        references = self._references(sentence, mentions)
        text = sentence.text
        if _PRONOUN.match(text) and previous_subject:
            references = [(0, previous_subject), *references]
        subject = references[0][1] if references else None
        if len({component for _, component in references}) < 2:
            return subject
        if self._hosting(sentence, references):
            return subject
        verb = _FORWARD.search(text) or _BACKWARD.search(text)
        if verb is None:
            return subject
        before = [(p, c) for p, c in references if p < verb.start()]
        after = [(p, c) for p, c in references if p > verb.end()]
        from_match = _FROM.search(text, verb.end())
        to_match = _TO.search(text, verb.end())
        source: str | None = None
        targets: list[str] = []
        if from_match and to_match and from_match.start() < to_match.start():
            source = next((c for p, c in after if from_match.end() <= p < to_match.start()), None)
            targets = [c for p, c in after if p > to_match.end()][:1]
        if source is None or not targets:
            if _BACKWARD.match(text, verb.start()):
                # "the app receives readings from the CGM", "the model reads the sensors"
                anchor = from_match.end() if from_match else verb.end()
                source = next((c for p, c in after if p > anchor), None)
                targets = [before[-1][1]] if before else []
            elif before and after:
                source = before[-1][1]
                after_to = [c for p, c in after if to_match and p > to_match.end()]
                targets = list(dict.fromkeys(after_to)) or [after[0][1]]
        for target in targets:
            if source is not None and target != source:
                self._link(sentence, mentions, source, target)
        return subject

    def _link(
        self, sentence: Sentence, mentions: list[LocatedMention], source: str, target: str
    ) -> None:
        text = sentence.text
        kind = "data"
        target_kind = self.components[target].kind
        if _UPDATE.search(text):
            kind = "update"
        elif (
            _COMMAND.search(text)
            and target_kind == ComponentKind.actuator
            and self.components[source].kind in CONTROLLER_KINDS
        ):
            kind = "control_action"
        channel = None
        protections: set[str] = set()
        for item in mentions:
            entry = item.mention.entry
            if item.verdict.status != Status.finding:
                continue
            if entry.implies == Implies.link and channel is None:
                specific = self._specific(entry)
                channel = (specific, item.mention.versions[0] if item.mention.versions else None)
            elif entry.implies == Implies.protection:
                protections.update(_PROTECTIONS.get(entry.id, ()))
        self._add_link(_Link(source, target, kind, channel, protections), sentence)

    def _specific(self, entry: TechnologyEntry) -> TechnologyEntry:
        for specific in entry.generic_of:
            if specific in self.found_ids:
                return self.lexicon.by_id[specific]
        return entry

    def build(self) -> None:
        for finding in self.findings:
            if finding.implies == Implies.component.value:
                self._add_component(finding)
        for finding in self.findings:
            if finding.implies != Implies.component.value:
                self._place(finding)
        grouped: dict[Sentence, list[LocatedMention]] = {}
        for item in self.reading.mentions:
            grouped.setdefault(item.sentence, []).append(item)
        subject: str | None = None
        block: tuple[str, int] | None = None
        for sentence in self.reading.sentences:
            if (sentence.file, sentence.block) != block:
                block, subject = (sentence.file, sentence.block), None
            subject = self._link_from(sentence, grouped.get(sentence, []), subject) or subject
        if self.unplaced or not self.components:
            self.components[UNPLACED_ID] = _Component(
                UNPLACED_ID,
                "Technologies not yet placed on a component",
                ComponentKind.external,
                dict(self.unplaced),
            )


def _technology(entry: TechnologyEntry, version: str | None) -> dict[str, Any]:
    data: dict[str, Any] = {"name": entry.name}
    if entry.vendor:
        data["vendor"] = entry.vendor
    if entry.product:
        data["product"] = entry.product
    if version:
        data["version"] = version
    return data


def _dump_item(data: dict[str, Any], comments: list[str]) -> str:
    body = yaml.safe_dump([data], sort_keys=False, allow_unicode=True, width=100)
    lines = [f"  # {comment}" for comment in comments]
    lines += ["  " + line if line else line for line in body.rstrip("\n").split("\n")]
    return "\n".join(lines) + "\n"


def _evidence_comments(evidence: list[Evidence], limit: int = 3) -> list[str]:
    unique = sorted(set(evidence), key=lambda e: (e.file, e.page or 0, e.line))
    comments = [f"evidence: {_plain_evidence(e)}" for e in unique[:limit]]
    if len(unique) > limit:
        comments.append(f"... and {len(unique) - limit} more sentence(s)")
    return comments


def draft_model(reading: Reading, lexicon: Lexicon, name: str | None = None) -> Draft:
    """A draft device model from a reading. The YAML validates with load_model_text."""
    drafter = _Drafter(reading, lexicon)
    drafter.build()
    files = [PurePath(doc.file).name for doc in reading.extraction.documents]
    device_name = name or _title(reading) or (PurePath(files[0]).stem if files else "device")

    header = [
        "# DRAFT device model drafted by 'mdrisk extract'. Review every line before use.",
        f"# Documents: {', '.join(files)}",
        "# Findings (technology: where the documents say so):",
    ]
    for finding in reading.extraction.findings:
        label = finding.name + (f" {finding.version}" if finding.version else "")
        header.append(f"#   {label}: {_plain_evidence(finding.evidence[0])}")
    for item in reading.extraction.set_aside:
        label = item.name + (f" {item.version}" if item.version else "")
        header.append(
            f"#   not a finding ({item.reason}, '{item.cue}'): {label}: "
            f"{_plain_evidence(item.evidence)}"
        )
    for ignored in reading.extraction.instructions_ignored:
        header.append(f"#   instruction ignored (documents are data): {_plain_evidence(ignored)}")

    device = {"name": device_name[:200], "description": DRAFT_NOTE, "references": files}
    text = "\n".join(header) + "\nschema_version: 1\n"
    text += yaml.safe_dump({"device": device}, sort_keys=False, allow_unicode=True, width=100)
    text += "\ncomponents:\n"

    inputs: dict[str, list[str]] = {}
    outputs: dict[str, list[str]] = {}
    updates: dict[str, list[str]] = {}
    for link in drafter.links.values():
        if link.kind == "update":
            updates.setdefault(link.target, []).append(link.id)
        else:
            inputs.setdefault(link.target, []).append(link.signal)
        outputs.setdefault(link.source, []).append(link.signal)

    for component in sorted(drafter.components.values(), key=lambda c: c.id):
        data: dict[str, Any] = {
            "id": component.id,
            "name": component.name,
            "kind": component.kind.value,
            "description": "DRAFT: review",
        }
        technologies = sorted(
            component.technologies.items(),
            key=lambda item: (item[1].name.casefold(), item[0][1] or ""),
        )
        if technologies:
            data["technologies"] = [
                _technology(entry, version) for (_, version), entry in technologies
            ]
        if component.kind == ComponentKind.ml_engine:
            signals = sorted(set(inputs.get(component.id, [])))
            data["ml"] = {
                "task": "DRAFT: the documents do not state the task; describe it",
                "inputs": [{"signal": s} for s in signals]
                or [{"signal": "input_data", "description": "DRAFT: not stated in the documents"}],
                "outputs": sorted(set(outputs.get(component.id, []))) or ["ml_output"],
            }
            if updates.get(component.id):
                data["ml"]["update_path"] = sorted(updates[component.id])
        comments = _evidence_comments(component.evidence)
        if component.id == UNPLACED_ID:
            comments = ["no sentence names a component beside these technologies: place them"]
        text += _dump_item(data, comments)

    if drafter.links:
        text += "\nlinks:\n"
        for link in sorted(drafter.links.values(), key=lambda item: item.id):
            data = {
                "id": link.id,
                "from": link.source,
                "to": link.target,
                "kind": link.kind,
                "carries": [link.signal],
            }
            channel: dict[str, Any] = {"in_process": True} if link.in_process else {}
            if link.channel is not None:
                channel["technology"] = _technology(*link.channel)
            if link.protections:
                channel["protections"] = {p: True for p in sorted(link.protections)}
                channel["protections"]["notes"] = "DRAFT: as the documents state; verify"
            if channel:
                data["channel"] = channel
            text += _dump_item(data, _evidence_comments(link.evidence))
    return Draft(text=text, loaded=load_model_text(text, "<draft>"))


def _title(reading: Reading) -> str | None:
    """The first heading of the first document that is not an instruction block."""
    from mdrisk.intake.document import BlockKind

    ignored = {(e.file, e.line) for e in reading.extraction.instructions_ignored}
    for sentence in reading.sentences:
        if sentence.kind == BlockKind.heading and (sentence.file, sentence.line) not in ignored:
            return sentence.text.strip(" #:")
        if sentence.kind != BlockKind.heading:
            break
    return None
