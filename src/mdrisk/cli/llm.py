"""``mdrisk enrich``: ask an LLM for narratives and drafts, and add the accepted ones.

Only argument parsing, progress and files here; the work is in ``mdrisk.llm``.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click

from mdrisk.atomic import write_bytes_atomic
from mdrisk.cli.common import EXIT_FAILED, err_console, guarded, out_console, progress_bar
from mdrisk.llm.config import ENDPOINT_KINDS
from mdrisk.llm.enrich import DEFAULT_ATTEMPTS
from mdrisk.llm.tasks import TASKS


def _say_and_exit(message: str) -> None:
    err_console.print(f"error: {message}", markup=False)
    sys.exit(EXIT_FAILED)


@click.command()
@click.argument("assessment_file", type=click.Path(path_type=Path, dir_okay=False))
@click.option(
    "--out",
    "out_dir",
    type=click.Path(path_type=Path, file_okay=False),
    required=True,
    help="Folder for the enriched assessment.json and llm-enrichments.md.",
)
@click.option(
    "--task",
    type=click.Choice(sorted(TASKS)),
    default="scenario_narrative",
    show_default=True,
    help="What to draft.",
)
@click.option(
    "--subject",
    "subjects",
    multiple=True,
    metavar="ID",
    help="Scenario to narrate: an attack scenario (SC-n) or a loss scenario (LS-n); "
    "repeatable. Default: the first --limit attack scenarios by rank (loss "
    "scenarios when the assessment has none).",
)
@click.option(
    "--limit",
    type=click.IntRange(1, 10000),
    default=3,
    show_default=True,
    help="How many scenarios to narrate when no --subject is given.",
)
@click.option(
    "--base-url",
    default=None,
    metavar="URL",
    help="OpenAI-compatible endpoint, e.g. http://127.0.0.1:8080/v1 "
    "[env MDRISK_LLM_BASE_URL]. The API key is read from MDRISK_LLM_API_KEY "
    "only.",
)
@click.option("--model", default=None, help="Model name [env MDRISK_LLM_MODEL].")
@click.option(
    "--kind",
    type=click.Choice(ENDPOINT_KINDS),
    default=None,
    help="Endpoint kind, to pass the answer schema the way it expects "
    "[env MDRISK_LLM_KIND; default generic].",
)
@click.option(
    "--timeout",
    type=click.FloatRange(0.1, 3600),
    default=None,
    help="Seconds to wait for one answer [env MDRISK_LLM_TIMEOUT; default 120].",
)
@click.option(
    "--retries",
    type=click.IntRange(0, 10),
    default=None,
    help="Extra tries after a connection failure, 429 or 5xx [env MDRISK_LLM_RETRIES; default 2].",
)
@click.option(
    "--attempts",
    type=click.IntRange(1, 10),
    default=DEFAULT_ATTEMPTS,
    show_default=True,
    help="Answers asked for per subject before rejecting it.",
)
@click.option(
    "--temperature",
    type=click.FloatRange(0, 2),
    default=None,
    help="[env MDRISK_LLM_TEMPERATURE; default 0]",
)
@click.option("--seed", type=int, default=None, help="[env MDRISK_LLM_SEED; default 0]")
@click.option(
    "--max-tokens",
    type=click.IntRange(16, 32768),
    default=None,
    help="[env MDRISK_LLM_MAX_TOKENS; default 512]",
)
@guarded
def enrich(
    assessment_file: Path,
    out_dir: Path,
    task: str,
    subjects: tuple[str, ...],
    limit: int,
    base_url: str | None,
    model: str | None,
    kind: str | None,
    timeout: float | None,
    retries: int | None,
    attempts: int,
    temperature: float | None,
    seed: int | None,
    max_tokens: int | None,
) -> None:
    """Add LLM-drafted narratives to an assessment, keeping every finding as it was.

    Reads the assessment.json that 'mdrisk analyze' wrote, asks an OpenAI-compatible
    endpoint (hosted, Ollama, vLLM, llama.cpp server) about each subject using only facts
    from the assessment, validates each answer (its JSON shape, and that it cites only ids
    among those facts; a rejected answer is retried with the reasons, then recorded as
    rejected) and writes the assessment with the accepted drafts under 'llm_enrichments'
    and every call in 'provenance.llm'. Exit status 1 when no endpoint is configured or it
    cannot be reached; nothing is written then.
    """
    from mdrisk.assessment_file import load_assessment
    from mdrisk.llm.client import ChatClient
    from mdrisk.llm.config import endpoint_from
    from mdrisk.llm.enrich import Outcome, prompts_for
    from mdrisk.llm.enrich import enrich as enrich_assessment
    from mdrisk.llm.errors import EndpointNotConfigured, LLMConfigError, LLMError
    from mdrisk.llm.facts import UnknownSubject
    from mdrisk.report.canonical_json import CanonicalJsonWriter
    from mdrisk.report.llm_enrichments import LLMEnrichmentsWriter

    try:
        config = endpoint_from(
            {
                "base_url": base_url,
                "model": model,
                "kind": kind,
                "timeout": timeout,
                "retries": retries,
                "temperature": temperature,
                "seed": seed,
                "max_tokens": max_tokens,
            }
        )
    except EndpointNotConfigured as error:
        _say_and_exit(str(error))
        return
    except LLMConfigError as error:
        raise click.UsageError(str(error)) from None
    assessment = load_assessment(assessment_file)
    try:
        prompts = prompts_for(assessment, task, subjects, limit)
    except UnknownSubject as error:
        raise click.BadParameter(str(error), param_hint="--subject") from None
    if not prompts:
        out_console.print(f"{assessment_file}: nothing to ask about (no scenarios)", markup=False)
    client = ChatClient(config)

    with progress_bar() as progress:
        bar = progress.add_task(f"asking {config.model}", total=len(prompts))

        def report(outcome: Outcome) -> None:
            call = outcome.call
            line = f"{call.subject}: {call.status} ({call.id}, {call.attempts} attempt(s))"
            if outcome.enrichment is None:
                line += ": " + "; ".join(call.problems[-2:])
            out_console.print(line, markup=False)
            progress.update(bar, advance=1)

        try:
            enriched, outcomes = enrich_assessment(
                assessment, client, prompts, attempts, on_outcome=report
            )
        except LLMError as error:
            _say_and_exit(f"{error}; nothing written")
            return
    files = {
        writer.file_name: writer.render(enriched)
        for writer in (CanonicalJsonWriter(), LLMEnrichmentsWriter())
    }
    for file_name, data in sorted(files.items()):
        write_bytes_atomic(out_dir / file_name, data)
    accepted = sum(1 for outcome in outcomes if outcome.enrichment is not None)
    out_console.print(
        f"{accepted} of {len(outcomes)} answers accepted from {config.model} at "
        f"{config.display_url}",
        markup=False,
    )
    for prompt in prompts:
        if prompt.left_out:
            err_console.print(
                f"note: {prompt.subject}: facts left out to fit the prompt: "
                f"{', '.join(prompt.left_out)}",
                markup=False,
            )
    for file_name in sorted(files):
        out_console.print(f"wrote {out_dir / file_name}", markup=False)
