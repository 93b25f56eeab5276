"""What extraction gives: findings with the sentences that support them (pydantic, so the CLI
and other packages can serialise and check them)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class _Record(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Evidence(_Record):
    """A sentence of a document, where it stands (``page`` for PDFs, else null)."""

    file: str
    page: int | None = None
    line: int
    sentence: str

    @property
    def where(self) -> str:
        return (
            f"{self.file}:page {self.page}:line {self.line}"
            if self.page is not None
            else f"{self.file}:{self.line}"
        )


class Finding(_Record):
    """A technology the documents say the device uses."""

    technology: str = Field(description="lexicon id")
    name: str = Field(description="canonical name")
    version: str | None = None
    category: str
    implies: str
    kind: str | None = None
    mentions: list[str] = Field(description="the names as the documents wrote them")
    evidence: list[Evidence]


class SetAside(_Record):
    """A mention that is not a finding, and why: negated, hypothetical, other_device,
    question or instruction."""

    technology: str
    name: str
    version: str | None = None
    reason: str
    cue: str
    evidence: Evidence


class DocumentRead(_Record):
    file: str
    format: str
    sha256: str
    pages: int | None = None
    sentences: int
    hidden: list[str] = Field(
        default_factory=list, description="what the reader left out as not visible"
    )


class Extraction(_Record):
    """Everything ``mdrisk extract`` found in a set of documents about one device."""

    documents: list[DocumentRead]
    findings: list[Finding]
    set_aside: list[SetAside]
    instructions_ignored: list[Evidence] = Field(
        default_factory=list,
        description="sentences addressed to a reader or tool; their blocks were not read",
    )
    lexicon_sha256: str

    def pairs(self) -> set[tuple[str, str | None]]:
        """(canonical name, version) of every finding: what the benchmark scores."""
        return {(finding.name, finding.version) for finding in self.findings}
