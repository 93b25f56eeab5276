"""``mdrisk diff``: what changed between two assessment.json files, finding by finding.

Only reading, printing and the exit status here; the comparison is ``mdrisk.assessment_diff``.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import click

from mdrisk.cli.common import guarded, out_console

if TYPE_CHECKING:
    from mdrisk.assessment import Assessment


def _titles(assessment: Assessment) -> dict[str, str]:
    """A short name of each finding the diff may list, by its id."""
    titles = {risk.id: risk.title for risk in assessment.risks}
    titles |= {ls.id: ls.text for ls in assessment.loss_scenarios}
    titles |= {sc.id: sc.title for sc in assessment.scenarios}
    for threat in assessment.threats:
        for vulnerability in (*threat.vulnerabilities, *threat.possible_vulnerabilities):
            titles[f"{vulnerability.id}@{threat.id}"] = (
                f"{threat.technology or '(element)'} in {threat.element}"
            )
    return titles


@click.command("diff")
@click.argument("old", type=click.Path(path_type=Path, dir_okay=False))
@click.argument("new", type=click.Path(path_type=Path, dir_okay=False))
@click.option(
    "--json",
    "as_json",
    is_flag=True,
    help="Print the difference as JSON (sorted keys): per section, the ids added and "
    "removed, and each changed id with its changed fields and their old and new values.",
)
@guarded
def diff(old: Path, new: Path, as_json: bool) -> None:
    """Compare two assessment.json files: risks, loss-scenario classes, attack scenarios,
    vulnerabilities, possible vulnerabilities (below the confidence cut-off) and the
    knowledge base's coverage of each technology, added, removed and changed.

    Findings are matched by their stable ids; a changed finding names each field that
    differs (level, acceptability, severity, exploitability, residual, content, decision;
    a technology's coverage: covered or not covered).
    Exit status 0 whether or not they differ, 2 when a file cannot be read as an assessment.
    """
    import json

    from mdrisk.assessment_diff import diff_assessments, diff_lines
    from mdrisk.assessment_file import load_assessment

    before, after = load_assessment(old), load_assessment(new)
    difference = diff_assessments(before, after)
    if as_json:
        click.echo(json.dumps(difference.as_data(), sort_keys=True, indent=2, ensure_ascii=False))
        return
    titles = _titles(before) | _titles(after)

    def label(_section: str, identifier: str) -> str:
        return titles.get(identifier, "")

    for line in diff_lines(difference, label):
        out_console.print(line, markup=False)
    if difference.empty:
        out_console.print("no differences", markup=False)
