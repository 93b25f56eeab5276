"""Where an assessment came from: tool version, model file, knowledge-base snapshots and every
LLM call, the only place times are kept."""

from __future__ import annotations

from pydantic import Field

from mdrisk.assessment.base import Record


class SnapshotRef(Record):
    source: str
    sha256: str
    imported: str | None = None


class LLMCall(Record):
    """One question put to an LLM, accepted or rejected: what was asked, of whom, and when.
    The only place an LLM time is kept, so the rest of the assessment stays deterministic."""

    id: str
    task: str
    subject: str
    status: str  # "accepted" | "rejected"
    model: str
    served_model: str | None = None
    endpoint_kind: str
    endpoint: str
    response_format: str
    prompt_sha256: str
    response_sha256: str | None = None
    temperature: float
    seed: int
    attempts: int
    time: str
    problems: list[str] = Field(default_factory=list)
    unknown_ids: list[str] = Field(default_factory=list)


class Provenance(Record):
    tool: str = "mdrisk"
    tool_version: str
    model_file: str
    model_sha256: str
    created: str
    kb_snapshots: list[SnapshotRef] = Field(default_factory=list)
    llm: list[LLMCall] = Field(default_factory=list)
