"""``mdrisk extract``: technologies named in device documents, and a draft device model."""

from __future__ import annotations

import json
from pathlib import Path

import click

from mdrisk import bundled
from mdrisk.atomic import write_text_atomic
from mdrisk.cli.common import EXIT_BAD_INPUT, EXIT_FAILED, err_console, guarded, out_console


@click.command("extract")
@click.argument(
    "documents", nargs=-1, required=True, type=click.Path(path_type=Path, dir_okay=True)
)
@click.option(
    "--out",
    "out_file",
    type=click.Path(path_type=Path, dir_okay=False),
    default=None,
    help="Write the draft device model (YAML) to this file.",
)
@click.option(
    "--json",
    "as_json",
    is_flag=True,
    help="Print the findings, set-aside mentions and the draft as JSON.",
)
@click.option(
    "--name",
    default=None,
    help="Device name for the draft (default: the first heading of the first document).",
)
@guarded
def extract_command(
    documents: tuple[Path, ...], out_file: Path | None, as_json: bool, name: str | None
) -> None:
    """Identify the technologies device DOCUMENTS name (text, Markdown, PDF) and draft a
    device model from them.

    Each finding cites the sentence that supports it (file, page, line). Negated ("does not
    use Wi-Fi"), hypothetical ("future versions may support NFC") and other-device ("the
    predicate used ...") mentions are listed apart, not found. Text a reader cannot see and
    blocks that address a tool ("ignore previous instructions") are never read as facts.
    PDFs need the 'docs' extra: pip install 'mdrisk[docs]'.
    """
    from mdrisk.intake.draft import draft_model
    from mdrisk.intake.extract import extract_files
    from mdrisk.intake.readers.pdf import PdfSupportMissing

    _refuse_sboms(documents)

    try:
        reading = extract_files(documents, bundled.technology_lexicon())
    except PdfSupportMissing as missing:
        err_console.print(f"error: {missing}", markup=False)
        raise SystemExit(EXIT_FAILED) from None
    draft = draft_model(reading, bundled.technology_lexicon(), name=name)
    extraction = reading.extraction
    if out_file is not None:
        write_text_atomic(out_file, draft.text)
    if as_json:
        payload = extraction.model_dump(mode="json")
        payload["draft_model"] = draft.loaded.model.model_dump(
            mode="json", by_alias=True, exclude_defaults=True
        )
        out_console.print(
            json.dumps(payload, indent=2, sort_keys=True, ensure_ascii=False),
            markup=False,
            highlight=False,
            soft_wrap=True,
        )
    else:
        for finding in extraction.findings:
            label = finding.name + (f" {finding.version}" if finding.version else "")
            first = finding.evidence[0]
            out_console.print(f"{label:32} {first.where}: {first.sentence}", markup=False)
        for item in extraction.set_aside:
            label = item.name + (f" {item.version}" if item.version else "")
            out_console.print(
                f"not a finding: {label} ({item.reason}: '{item.cue}') {item.evidence.where}",
                markup=False,
            )
        model = draft.loaded.model
        out_console.print(
            f"{len(extraction.findings)} technologies in "
            f"{len(extraction.documents)} document(s); draft model: "
            f"{len(model.components)} components, {len(model.links)} links "
            "(a DRAFT: review before analysis)",
            markup=False,
        )
    for document in extraction.documents:
        for note in document.hidden:
            err_console.print(
                f"note: {document.file}: not read (not visible): {note}", markup=False
            )
    for ignored in extraction.instructions_ignored:
        err_console.print(
            f"warning: {ignored.where}: text addressed to a reader or tool was "
            f"not read as a fact: {ignored.sentence}",
            markup=False,
        )
    if out_file is not None:
        out_console.print(f"wrote {out_file}", markup=False)


def _refuse_sboms(documents: tuple[Path, ...]) -> None:
    """An SBOM is not prose: say so and name the commands that read it."""
    from mdrisk.sbom import sbom_format_of_file

    found = [(path, kind) for path in documents if (kind := sbom_format_of_file(path))]
    for path, kind in found:
        err_console.print(
            f"error: {path} is an SBOM ({kind}), not a device document: draft a model from "
            f"it with 'mdrisk model from-sbom {path} --out model.yaml', or name it on a "
            f"component of your model ('sbom: {path.name}')",
            markup=False,
        )
    if found:
        raise SystemExit(EXIT_BAD_INPUT)
