"""Asking, judging, retrying and recording: how an LLM answer enters an assessment.

An answer is asked for at most ``max_attempts`` times; after a rejection the model sees its
own answer and the reasons and tries again. Every question is recorded in
``provenance.llm`` (accepted or rejected, with the unknown ids it cited); only an accepted
answer becomes an ``llm_enrichments`` entry, marked with the model and hashes of the call.
Nothing else in the assessment changes: the deterministic result stands on its own.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from mdrisk.assessment import Assessment
from mdrisk.assessment.llm import LLMEnrichment
from mdrisk.assessment.provenance import LLMCall
from mdrisk.kb.catalog_ids import natural
from mdrisk.llm.client import ChatClient, Message, OutputSchema
from mdrisk.llm.facts import UnknownSubject, model_review_facts, scenario_facts
from mdrisk.llm.prompts import GroundedPrompt, build_prompt
from mdrisk.llm.tasks import TASKS
from mdrisk.llm.validate import judge

DEFAULT_ATTEMPTS = 3
# What the model sees of its own rejected answer when asked again.
_ECHO_LIMIT = 4000


def utc_now() -> str:
    return dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


@dataclass(frozen=True)
class Outcome:
    """What one question gave: always a call record, an enrichment only when accepted."""

    call: LLMCall
    enrichment: LLMEnrichment | None


def sha256_text(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _feedback(prompt: GroundedPrompt, reasons: list[str]) -> Message:
    shape = prompt.task.shape.replace("{subject}", prompt.subject)
    return Message(
        "user",
        "Your answer was rejected: "
        + "; ".join(reasons)
        + f". Answer again with one JSON object of the shape {shape}, citing only "
        "ids listed under ALLOWED IDS.",
    )


def ask(
    client: ChatClient,
    prompt: GroundedPrompt,
    call_id: str,
    max_attempts: int = DEFAULT_ATTEMPTS,
    now: Callable[[], str] = utc_now,
    schema: OutputSchema | None = None,
) -> Outcome:
    """Put ``prompt`` to the endpoint until an answer is accepted or the attempts run out.

    ``schema`` replaces the prompt's answer schema sent to the endpoint (the validator still
    judges against the prompt). Raises LLMError when the endpoint gives no answer.
    """
    if max_attempts < 1:
        raise ValueError("max_attempts must be at least 1")
    messages = list(prompt.messages)
    problems: list[str] = []
    unknown: dict[str, None] = {}
    config = client.config
    for attempt in range(1, max_attempts + 1):
        result = client.complete(messages, schema or prompt.schema)
        verdict = judge(prompt, result.content)
        response_sha = sha256_text(result.content)
        record = dict(
            id=call_id,
            task=prompt.task.name,
            subject=prompt.subject,
            model=config.model,
            served_model=result.served_model,
            endpoint_kind=config.kind,
            endpoint=config.display_url,
            response_format=result.response_format,
            prompt_sha256=prompt.sha256,
            response_sha256=response_sha,
            temperature=config.temperature,
            seed=config.seed,
            attempts=attempt,
        )
        if verdict.answer is not None:
            enrichment = LLMEnrichment(
                id=call_id,
                task=prompt.task.name,
                subject=prompt.subject,
                content=verdict.answer.model_dump(mode="json"),
                cited_ids=list(verdict.cited_ids),
                model=config.model,
                endpoint_kind=config.kind,
                prompt_sha256=prompt.sha256,
                response_sha256=response_sha,
                temperature=config.temperature,
                seed=config.seed,
            )
            call = LLMCall(
                status="accepted",
                time=now(),
                problems=problems,
                unknown_ids=list(unknown),
                **record,
            )
            return Outcome(call, enrichment)
        reasons = list(verdict.problems)
        if result.finish_reason == "length":
            reasons.append("the answer was cut off at the token limit: write less")
        problems += [f"attempt {attempt}: {reason}" for reason in reasons]
        unknown.update(dict.fromkeys(verdict.unknown_ids))
        messages += [Message("assistant", result.content[:_ECHO_LIMIT]), _feedback(prompt, reasons)]
    call = LLMCall(
        status="rejected", time=now(), problems=problems, unknown_ids=list(unknown), **record
    )
    return Outcome(call, None)


def prompts_for(
    assessment: Assessment, task_name: str, subjects: Sequence[str] = (), limit: int = 3
) -> list[GroundedPrompt]:
    """The prompts for a task: the named subjects, or the first ``limit`` attack scenarios
    (loss scenarios when the assessment has none).

    Raises UnknownSubject for a subject the assessment does not have, KeyError for a task.
    """
    task = TASKS[task_name]
    if task_name == "model_draft_review":
        if any(subject != "device" for subject in subjects):
            raise UnknownSubject(
                "model_draft_review is about the whole device; give no subject (or 'device')"
            )
        return [build_prompt(task, model_review_facts(assessment.device, list(assessment.checks)))]
    # Attack scenarios are ranked by exploitability: the first are the ones worth narrating;
    # without them, the loss-scenario classes in the assessment's order.
    ranked = [s.id for s in assessment.scenarios] or [s.id for s in assessment.loss_scenarios]
    chosen = list(dict.fromkeys(subjects)) or ranked[:limit]
    return [build_prompt(task, scenario_facts(assessment, subject)) for subject in chosen]


def enrich(
    assessment: Assessment,
    client: ChatClient,
    prompts: Iterable[GroundedPrompt],
    max_attempts: int = DEFAULT_ATTEMPTS,
    now: Callable[[], str] = utc_now,
    on_outcome: Callable[[Outcome], None] | None = None,
) -> tuple[Assessment, list[Outcome]]:
    """A copy of ``assessment`` with the accepted answers added and every call recorded.

    An accepted answer replaces an earlier enrichment of the same task and subject; call ids
    continue the numbering in ``provenance.llm``. Raises LLMError when the endpoint fails, in
    which case nothing is returned for any prompt.
    """
    outcomes: list[Outcome] = []
    number = len(assessment.provenance.llm)
    for prompt in prompts:
        number += 1
        outcome = ask(client, prompt, f"LLM-{number}", max_attempts, now)
        outcomes.append(outcome)
        if on_outcome is not None:
            on_outcome(outcome)
    added = [o.enrichment for o in outcomes if o.enrichment is not None]
    replaced = {(e.task, e.subject) for e in added}
    kept = [e for e in assessment.llm_enrichments if (e.task, e.subject) not in replaced]
    enrichments = sorted(kept + added, key=lambda e: natural(e.id))
    provenance = assessment.provenance.model_copy(
        update={"llm": [*assessment.provenance.llm, *(o.call for o in outcomes)]}
    )
    # Records built by their constructors above: a copy needs no second validation.
    updated = assessment.model_copy(
        update={"llm_enrichments": enrichments, "provenance": provenance}
    )
    return updated, outcomes
