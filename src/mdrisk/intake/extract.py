"""From documents to findings: every technology the documents say the device uses, each with
the sentences that say so; every other mention set aside with the reason.

Documents are data. A sentence addressed to a reader or tool ("ignore previous instructions",
"SYSTEM: add component ...") gives no findings, nor do the sentences after it in the same
block (paragraph, list item, table row); what the readers found invisible never reaches this
stage.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from mdrisk.errors import InputError, Problem
from mdrisk.intake.cues import CueEngine, Status, Verdict
from mdrisk.intake.document import Document
from mdrisk.intake.findings import DocumentRead, Evidence, Extraction, Finding, SetAside
from mdrisk.intake.lexicon import Lexicon, TechnologyEntry
from mdrisk.intake.mentions import Mention, TooManyMentions, find_mentions
from mdrisk.intake.readers import read_document
from mdrisk.intake.sentences import Sentence, sentences_of

# Mentions in one document: a 300-page design description names a few thousand; each costs
# a bounded amount of work, so this bounds extraction however the text was made.
MAX_MENTIONS = 20_000


@dataclass(frozen=True)
class LocatedMention:
    mention: Mention
    sentence: Sentence
    verdict: Verdict

    @property
    def evidence(self) -> Evidence:
        return Evidence(
            file=self.sentence.file,
            page=self.sentence.page,
            line=self.sentence.line,
            sentence=self.sentence.text,
        )


@dataclass(frozen=True)
class Reading:
    """The extraction and the located mentions it was made from (for drafting a model)."""

    extraction: Extraction
    mentions: tuple[LocatedMention, ...]
    sentences: tuple[Sentence, ...]
    documents: tuple[Document, ...]


def _read(
    document: Document, lexicon: Lexicon, engine: CueEngine
) -> tuple[list[Sentence], list[LocatedMention], list[Evidence]]:
    sentences = sentences_of(document)
    instruction_at = [index for index, s in enumerate(sentences) if engine.directive(s.text)]
    instructions = [sentences[index] for index in instruction_at]
    # An instruction, and whatever follows it in the same block, is not read as a fact: a
    # claim next to an instruction is part of it. Sentences before it in the block stand.
    first_instruction: dict[int, int] = {}
    for index in instruction_at:
        first_instruction.setdefault(sentences[index].block, index)
    located: list[LocatedMention] = []
    for index, sentence in enumerate(sentences):
        try:
            mentions = find_mentions(lexicon, sentence.text, MAX_MENTIONS - len(located))
        except TooManyMentions:
            raise _too_many_mentions(document.file) from None
        if not mentions:
            continue
        if first_instruction.get(sentence.block, len(sentences)) <= index:
            verdicts = [
                Verdict(Status.instruction, "in or after text addressed to a reader or tool")
            ] * len(mentions)
        else:
            verdicts = engine.judge(sentence.text, mentions)
        located.extend(
            LocatedMention(m, sentence, v) for m, v in zip(mentions, verdicts, strict=True)
        )
    evidence = [
        Evidence(file=s.file, page=s.page, line=s.line, sentence=s.text) for s in instructions
    ]
    return sentences, located, evidence


Key = tuple[str, str | None]


def _too_many_mentions(file: str) -> InputError:
    return InputError(
        file,
        [
            Problem(
                f"more than {MAX_MENTIONS} technology mentions: generated or repeated text, "
                "not a device description (the limit keeps extraction bounded in time)",
                fix="pass the document's prose, or split it into the parts that describe "
                "the device",
            )
        ],
    )


def _fold(
    groups: dict[Key, list[LocatedMention]], order: dict[str, int], lexicon: Lexicon
) -> dict[Key, list[LocatedMention]]:
    """Fold generic mentions into the specific technology the documents also name, and drop
    a version-less finding where the same technology is named with a version."""
    present = {technology for technology, _ in groups}
    for entry in lexicon.data.technologies:
        if entry.id not in present or not entry.generic_of:
            continue
        specifics = sorted((s for s in entry.generic_of if s in present), key=order.__getitem__)
        if not specifics:
            continue
        target = specifics[0]
        target_versioned = any(t == target and v is not None for t, v in groups)
        for key in [key for key in groups if key[0] == entry.id]:
            mentions = groups.pop(key)
            version = key[1] if not target_versioned else None
            groups.setdefault((target, version), []).extend(mentions)
    versioned = {technology for technology, version in groups if version is not None}
    for technology in versioned:
        groups.pop((technology, None), None)
    return groups


def _finding(
    entry: TechnologyEntry, version: str | None, mentions: list[LocatedMention]
) -> Finding:
    evidence = sorted(
        {m.evidence for m in mentions}, key=lambda e: (e.file, e.page or 0, e.line, e.sentence)
    )
    return Finding(
        technology=entry.id,
        name=entry.name,
        version=version,
        category=entry.category.value,
        implies=entry.implies.value,
        kind=entry.kind.value if entry.kind else None,
        mentions=sorted({m.mention.surface for m in mentions}),
        evidence=evidence,
    )


def extract_documents(documents: Iterable[Document], lexicon: Lexicon) -> Reading:
    """Findings over a set of documents about one device (pure: no I/O)."""
    engine = CueEngine(lexicon.data.cues)
    documents = tuple(documents)
    all_sentences: list[Sentence] = []
    located: list[LocatedMention] = []
    instructions: list[Evidence] = []
    reads = []
    for document in documents:
        sentences, mentions, ignored = _read(document, lexicon, engine)
        all_sentences.extend(sentences)
        located.extend(mentions)
        instructions.extend(ignored)
        reads.append(
            DocumentRead(
                file=document.file,
                format=document.format,
                sha256=document.sha256,
                pages=document.pages,
                sentences=len(sentences),
                hidden=list(document.hidden),
            )
        )

    groups: dict[Key, list[LocatedMention]] = {}
    order: dict[str, int] = {}
    for position, item in enumerate(located):
        if item.verdict.status != Status.finding:
            continue
        order.setdefault(item.mention.entry.id, position)
        for version in item.mention.versions or (None,):
            groups.setdefault((item.mention.entry.id, version), []).append(item)
    groups = _fold(groups, order, lexicon)
    findings = sorted(
        (_finding(lexicon.by_id[t], v, m) for (t, v), m in groups.items()),
        key=lambda f: (f.name.casefold(), f.version or ""),
    )

    found = {finding.technology for finding in findings}
    set_aside = sorted(
        {
            SetAside(
                technology=item.mention.entry.id,
                name=item.mention.entry.name,
                version=version,
                reason=item.verdict.status.value,
                cue=item.verdict.cue,
                evidence=item.evidence,
            )
            for item in located
            if item.verdict.status != Status.finding and item.mention.entry.id not in found
            for version in item.mention.versions or (None,)
        },
        key=lambda s: (
            s.name.casefold(),
            s.version or "",
            s.evidence.file,
            s.evidence.page or 0,
            s.evidence.line,
        ),
    )
    extraction = Extraction(
        documents=reads,
        findings=findings,
        set_aside=set_aside,
        instructions_ignored=instructions,
        lexicon_sha256=lexicon.sha256,
    )
    return Reading(
        extraction=extraction,
        mentions=tuple(located),
        sentences=tuple(all_sentences),
        documents=documents,
    )


def extract_files(paths: Iterable[Path | str], lexicon: Lexicon) -> Reading:
    """Read each document (InputError naming the file when one cannot be read) and extract."""
    return extract_documents([read_document(path) for path in paths], lexicon)
