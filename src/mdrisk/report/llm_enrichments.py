"""The LLM drafts of an assessment, in Markdown, each marked as such with its provenance.

Model answers are untrusted text: every value is escaped like any other model-supplied text.
"""

from __future__ import annotations

from typing import Any

from mdrisk.assessment import Assessment
from mdrisk.assessment.llm import LLMEnrichment
from mdrisk.assessment.provenance import LLMCall
from mdrisk.report.interface import ReportWriter
from mdrisk.report.markdown_text import escape, table


def _body(enrichment: LLMEnrichment) -> list[str]:
    content: dict[str, Any] = enrichment.content
    if enrichment.task == "scenario_narrative":
        return [escape(content.get("narrative", ""))]
    if enrichment.task == "model_draft_review":
        lines = [escape(content.get("summary", "")), ""]
        for question in content.get("questions", []):
            ids = ", ".join(question.get("element_ids", []))
            lines.append(f"- {escape(question.get('question', ''))} ({escape(ids)})")
        return lines
    return [escape(content)]


def _marking(enrichment: LLMEnrichment, calls: dict[str, LLMCall]) -> str:
    call = calls.get(enrichment.id)
    when = f", {call.time}" if call else ""
    return (
        f"LLM draft {escape(enrichment.id)}: model {escape(enrichment.model)} "
        f"({escape(enrichment.endpoint_kind)}{escape(when)}), temperature "
        f"{enrichment.temperature:g}, seed {enrichment.seed}, prompt sha256 "
        f"{enrichment.prompt_sha256[:16]}…, answer sha256 {enrichment.response_sha256[:16]}…"
    )


def render_llm_enrichments(assessment: Assessment) -> str:
    calls = {call.id: call for call in assessment.provenance.llm}
    out = [
        f"# LLM drafts: {escape(assessment.device.device.name)}",
        "",
        "Drafted by a language model from the assessment's own facts. Each answer was "
        "checked for its shape and for citing only ids among the facts it was given; its "
        "content was not verified. The assessment's findings do not depend on it.",
        "",
    ]
    if not assessment.llm_enrichments:
        out += ["No accepted drafts.", ""]
    for enrichment in assessment.llm_enrichments:
        out += [
            f"## {escape(enrichment.subject)} ({escape(enrichment.task)})",
            "",
            f"*{_marking(enrichment, calls)}*",
            "",
        ]
        out += _body(enrichment)
        out += ["", f"Cited: {escape(', '.join(enrichment.cited_ids))}", ""]
    rejected = [call for call in assessment.provenance.llm if call.status != "accepted"]
    if rejected:
        out += ["## Rejected answers", ""]
        out += table(
            ["call", "task", "subject", "attempts", "unknown ids", "why"],
            [
                (
                    c.id,
                    c.task,
                    c.subject,
                    c.attempts,
                    ", ".join(c.unknown_ids) or "—",
                    "; ".join(c.problems),
                )
                for c in rejected
            ],
        )
        out.append("")
    return "\n".join(out)


class LLMEnrichmentsWriter(ReportWriter):
    name = "llm-enrichments"
    file_name = "llm-enrichments.md"

    def render(self, assessment: Assessment) -> bytes:
        return render_llm_enrichments(assessment).encode("utf-8")
