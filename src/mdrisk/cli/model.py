"""``mdrisk model``: device models drafted from other inputs (``from-sbom``)."""

from __future__ import annotations

from pathlib import Path

import click

from mdrisk.atomic import write_text_atomic
from mdrisk.cli.common import guarded, out_console


@click.group("model")
def model_group() -> None:
    """Draft a device model from an SBOM."""


@model_group.command("from-sbom")
@click.argument("sbom", type=click.Path(path_type=Path, dir_okay=False))
@click.option(
    "--out",
    "out_file",
    type=click.Path(path_type=Path, dir_okay=False),
    required=True,
    help="Write the draft device model (YAML) to this file.",
)
@click.option(
    "--name", default=None, help="Device name (default: what the SBOM describes, else its file)."
)
@guarded
def from_sbom(sbom: Path, out_file: Path, name: str | None) -> None:
    """Draft a device model (marked DRAFT) from an SBOM: CycloneDX JSON or XML, SPDX 2.x
    JSON or tag-value.

    One component per part of the device the SBOM shows (a component with nested ones, or
    one its dependencies hang from; the rest grouped as applications, firmware and operating
    systems, hardware, and libraries per ecosystem), each with the SBOM's components as its
    technologies, package URL and CPE kept. Links, losses, hazards and control actions are
    the analyst's to add. To keep a component's technologies in step with its SBOM instead,
    write 'sbom: FILE' on the component.
    """
    from mdrisk.intake.sbom_draft import draft_from_sbom
    from mdrisk.sbom import read_sbom

    parsed = read_sbom(sbom)
    draft = draft_from_sbom(parsed, str(sbom), name=name)
    write_text_atomic(out_file, draft.text)
    model = draft.loaded.model
    technologies = sum(len(c.technologies) for c in model.components)
    out_console.print(
        f"{parsed.format} {parsed.spec_version}: {len(parsed.components)} components; "
        f"draft model: {len(model.components)} components, {technologies} technologies "
        "(a DRAFT: review before analysis)",
        markup=False,
    )
    out_console.print(f"wrote {out_file}", markup=False)
