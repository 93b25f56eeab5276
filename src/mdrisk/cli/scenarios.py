"""``mdrisk scenarios``: the ranked attack scenarios of a device model, as a table or JSON.

Only argument parsing and printing here; the work is in ``mdrisk.scenarios``.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import TYPE_CHECKING

import click

from mdrisk.cli.common import (
    err_console,
    guarded,
    model_path,
    out_console,
    print_notes,
    progress_bar,
    store_option,
)

if TYPE_CHECKING:
    from rich.table import Table

    from mdrisk.assessment.scenarios import AttackScenario


def _table(scenarios: list[AttackScenario]) -> Table:
    from rich.table import Table

    table = Table(show_lines=False, header_style="bold")
    for header in (
        "scenario",
        "score",
        "category",
        "attacker",
        "entry",
        "exploit",
        "injection",
        "UCA",
        "hazards",
    ):
        table.add_column(header, overflow="fold", no_wrap=header in ("scenario", "score"))
    for scenario in scenarios:
        table.add_row(
            scenario.id,
            f"{scenario.exploitability.score:.3f}",
            scenario.category,
            scenario.attacker,
            scenario.element,
            scenario.exploit_family,
            scenario.injection,
            scenario.uca or "-",
            ", ".join(scenario.hazards) or "-",
        )
    return table


def _counts(scenarios: list[AttackScenario]) -> str:
    from mdrisk.assessment.scenarios import CATEGORIES

    by_category = Counter(s.category for s in scenarios)
    return ", ".join(f"{by_category[c]} {c}" for c in CATEGORIES if by_category[c])


@click.command("scenarios")
@click.argument("model")
@click.option(
    "--kb",
    "use_kb",
    is_flag=True,
    help="Attach the technology pack's rules as threats (TH-n) and, from the "
    "knowledge base, known vulnerabilities with KEV, EPSS and CVSS. Without it "
    "the scenarios still use the pack's rules but cite no TH ids.",
)
@store_option
@click.option(
    "--json",
    "as_json",
    is_flag=True,
    help="Print the scenarios as JSON (sorted keys) instead of a table.",
)
@click.option(
    "--top",
    type=click.IntRange(min=1),
    default=None,
    help="Only the N highest-ranked scenarios (default: all).",
)
@guarded
def scenarios_command(
    model: str, use_kb: bool, store_path: Path | None, as_json: bool, top: int | None
) -> None:
    """Rank the attack scenarios of a device model (a file, or a built-in example name).

    Each scenario SC-n goes from an attacker profile's entry point through an exploit
    (pack rules, CVE, CWE, CAPEC, ATT&CK and ATLAS ids) and the false data it injects to
    the ML engine's misbehaviour, the unsafe control action, hazard and loss, and lists the
    loss scenarios (LS-n) and threats (TH-n) it realises. The order is by exploitability;
    the JSON gives every part of the score.
    """
    from mdrisk.pipeline import run

    path = model_path(model)
    with progress_bar() as progress:
        task = progress.add_task("loading", total=None)

        def step(name: str) -> None:
            progress.update(task, description=name)

        assessment, notes = run(
            path, use_kb=use_kb, store_path=store_path, created="", on_step=step
        )
    ranked = assessment.scenarios
    shown = ranked[:top] if top else ranked
    if as_json:
        click.echo(
            json.dumps(
                [s.model_dump(mode="json") for s in shown],
                sort_keys=True,
                indent=2,
                ensure_ascii=False,
            )
        )
    else:
        out_console.print(_table(shown))
        out_console.print(
            f"{path}: {len(ranked)} attack scenarios ({_counts(ranked)})"
            + (f"; showing the top {len(shown)}" if len(shown) < len(ranked) else ""),
            markup=False,
        )
    for check in assessment.checks:
        if check.rule == "attack-scenarios-truncated":
            err_console.print(f"note: {check.message}", markup=False)
    print_notes(notes)
