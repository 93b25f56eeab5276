"""Drafts an LLM wrote from the assessment's own facts, kept apart from the findings."""

from __future__ import annotations

from typing import Any

from mdrisk.assessment.base import Record


class LLMEnrichment(Record):
    """Text an LLM drafted from the assessment's own facts: never a finding, always marked
    with the call that produced it (``id`` is that call's id in ``provenance.llm``)."""

    id: str
    task: str
    subject: str
    content: dict[str, Any]
    cited_ids: list[str]
    model: str
    endpoint_kind: str
    prompt_sha256: str
    response_sha256: str
    temperature: float
    seed: int
