"""``mdrisk landscape``: the threat landscape of AI-enabled medical devices from public data
(and ``mdrisk landscape sync`` to fetch openFDA records). Arguments, progress, files and
exit codes only; the analysis lives in mdrisk.landscape."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

import click

from mdrisk import bundled
from mdrisk.atomic import write_bytes_atomic
from mdrisk.cli.common import err_console, guarded, out_console, progress_bar

if TYPE_CHECKING:
    from rich.progress import TaskID


def default_data_dir() -> Path:
    return Path(os.environ.get("MDRISK_DATA_DIR", Path("..") / "shared" / "data"))


@click.group("landscape", invoke_without_command=True)
@click.option(
    "--out",
    "out_dir",
    type=click.Path(path_type=Path, file_okay=False),
    help="Folder for index.html, summary.json, tables/ and plots/.",
)
@click.option(
    "--data",
    "data_dir",
    type=click.Path(path_type=Path, file_okay=False),
    default=None,
    help="The public data folder (default: $MDRISK_DATA_DIR, else ../shared/data).",
)
@click.option(
    "--openfda",
    "openfda",
    type=click.Path(path_type=Path),
    multiple=True,
    help="openFDA device event / recall / 510(k) JSON file or folder to add "
    "(repeatable; <data>/openfda is always read).",
)
@click.option(
    "--rules",
    "rules_file",
    type=click.Path(path_type=Path, dir_okay=False),
    default=None,
    help="Keyword rules to use instead of the built-in mdrisk/data/landscape-keywords.yaml.",
)
@click.option("--no-plots", is_flag=True, help="Write tables and HTML without plots.")
@click.pass_context
@guarded
def landscape_group(
    ctx: click.Context,
    out_dir: Path | None,
    data_dir: Path | None,
    openfda: tuple[Path, ...],
    rules_file: Path | None,
    no_plots: bool,
) -> None:
    """The threat landscape of AI-enabled medical devices, from public data.

    Reads FDA's list of AI-enabled devices, MAUDE adverse-event reports, openFDA recalls,
    CISA medical advisories (CSAF and the ICS advisory table) and the KEV catalog from the
    data folder, and writes CSV tables, plots (PNG and SVG) and an HTML summary to --out.
    Malformed input files stop the run (exit 2) with the file and record named.
    """
    if ctx.invoked_subcommand is not None:
        if out_dir is not None:
            raise click.UsageError("--out belongs after the subcommand")
        return
    if out_dir is None:
        raise click.UsageError("give --out DIR (or a subcommand, see --help)")
    _run(out_dir, data_dir or default_data_dir(), list(openfda), rules_file, not no_plots)


def _run(
    out_dir: Path, data_dir: Path, openfda: list[Path], rules_file: Path | None, with_plots: bool
) -> None:
    from mdrisk.landscape.analysis import analyse
    from mdrisk.landscape.keywords import load_keyword_rules
    from mdrisk.landscape.package import HTML, package_steps, render_package
    from mdrisk.landscape.sources import load_corpus, load_steps

    rules = load_keyword_rules(rules_file) if rules_file else bundled.landscape_keywords()
    if not data_dir.is_dir():
        raise click.BadParameter(
            f"{data_dir} is not a folder (set MDRISK_DATA_DIR or give --data)", param_hint="--data"
        )
    with progress_bar() as progress:
        task = progress.add_task("reading", total=len(load_steps(data_dir, openfda)) + 1)
        done = [0]

        def step(label: str) -> None:
            """Called as each step starts: the bar shows the steps finished before it."""
            progress.update(task, completed=done[0], description=label)
            done[0] += 1

        corpus = load_corpus(data_dir, openfda, on_step=step)
        step("analysing")
        landscape = analyse(corpus, rules.rules, bundled.vendor_aliases())
        progress.update(task, total=done[0] + package_steps(landscape, with_plots) + 1)
        files, notes = render_package(landscape, with_plots, rules.source, on_step=step)
        step("writing files")
        for name, data in sorted(files.items()):
            write_bytes_atomic(out_dir / name, data)
        progress.update(task, completed=done[0])
    h = landscape.headline
    if h.ai_devices:
        out_console.print(
            f"AI-enabled devices: {h.ai_devices:,} (decisions {h.first_year} to "
            f"{h.last_decision}; {h.devices_last_full_year} in "
            f"{h.last_full_year})",
            markup=False,
        )
    if h.devices_covered:
        out_console.print(
            f"with MAUDE reports: {h.devices_with_reports} of "
            f"{h.devices_covered} searched devices, {h.devices_with_reports_other} "
            f"more from openFDA ({h.reports_linked} reports)"
            f"; recalls linked: {h.recalls_linked}",
            markup=False,
        )
    if h.advisories:
        out_console.print(
            f"medical advisories: {h.advisories} ({h.advisory_years}), "
            f"{h.cves} CVEs, {h.kev_cves} in KEV ({h.kev_share:.1%}); makers in "
            f"both: {h.overlap_same} (+{h.overlap_related} related)",
            markup=False,
        )
    for note in notes:
        err_console.print(f"note: {note}", markup=False)
    if landscape.notes:
        err_console.print(
            f"note: {len(landscape.notes)} data note(s) in {out_dir / 'tables' / 'data-notes.csv'}",
            markup=False,
        )
    out_console.print(f"wrote {out_dir / HTML} and {len(files) - 1} more files", markup=False)


@landscape_group.command("sync")
@click.option(
    "--endpoint",
    type=click.Choice(["device-event", "device-recall", "device-510k"]),
    required=True,
    help="The openFDA endpoint.",
)
@click.option(
    "--search",
    "searches",
    multiple=True,
    metavar="QUERY",
    help="An openFDA search, e.g. 'k_numbers:K192665' or "
    "'product_code:QIH AND event_date_initiated:[2020-01-01 TO 2025-12-31]' "
    "(repeatable).",
)
@click.option(
    "--ai-product-codes",
    is_flag=True,
    help="Search every product code of FDA's AI-enabled device list (read from "
    "--data), 20 codes per search.",
)
@click.option(
    "--data",
    "data_dir",
    type=click.Path(path_type=Path, file_okay=False),
    default=None,
    help="Data folder for --ai-product-codes (default: $MDRISK_DATA_DIR, else ../shared/data).",
)
@click.option(
    "--out",
    "out_dir",
    type=click.Path(path_type=Path, file_okay=False),
    required=True,
    help="Folder for the files (then give it to 'mdrisk landscape "
    "--openfda'); files go to <out>/<endpoint>/.",
)
@click.option(
    "--page-size",
    type=click.IntRange(1, 1000),
    default=1000,
    show_default=True,
    help="Records per request.",
)
@click.option(
    "--api-key",
    envvar="OPENFDA_API_KEY",
    show_envvar=True,
    metavar="KEY",
    help="openFDA API key: 120,000 instead of 1,000 requests a day. Sent with each "
    "request, never written anywhere.",
)
@click.option(
    "--base-url",
    envvar="MDRISK_SYNC_OPENFDA_URL",
    default="https://api.fda.gov",
    show_default=True,
    help="openFDA's address (or a mirror's).",
)
@guarded
def sync_command(
    endpoint: str,
    searches: tuple[str, ...],
    ai_product_codes: bool,
    data_dir: Path | None,
    out_dir: Path,
    page_size: int,
    api_key: str | None,
    base_url: str,
) -> None:
    """Fetch openFDA device adverse events, recalls or 510(k)s into JSON files.

    Pages with skip/limit (search_after beyond 25,000 records), keeps to 240 requests a
    minute and 1,000 a day without a key (counted per UTC day in <out>/.openfda-requests.json).
    The only landscape command that needs the network. Exit status 1 when a search could
    not be fetched; files of the searches fetched before it are kept.
    """
    import sys

    from mdrisk.cli.common import EXIT_FAILED
    from mdrisk.kb.sync.client import HttpClient
    from mdrisk.kb.sync.errors import SyncError
    from mdrisk.landscape.sync import OpenFdaSync, product_code_searches

    wanted = list(searches)
    if ai_product_codes:
        from mdrisk.landscape.sources import read_device_list

        folder = data_dir or default_data_dir()
        devices = read_device_list(folder)
        if not devices:
            raise click.BadParameter(f"no AI-enabled device list in {folder}", param_hint="--data")
        wanted += product_code_searches(endpoint, [d.product_code for d in devices])
    if not wanted:
        raise click.UsageError("give --search QUERY or --ai-product-codes")
    syncer = OpenFdaSync(
        HttpClient(), out_dir, base_url=base_url, api_key=api_key, page_limit=page_size
    )
    with progress_bar() as progress:
        for search in wanted:
            task = progress.add_task(f"{endpoint} {search[:50]}", total=None)

            def tick(done: int, total: int | None, task: TaskID = task) -> None:
                progress.update(task, completed=done, total=total)

            try:
                found = syncer.fetch(endpoint, search, progress=tick)
            except SyncError as error:
                progress.stop()
                err_console.print(f"error: {error}", markup=False)
                sys.exit(EXIT_FAILED)
            path = syncer.write(found)
            out_console.print(
                f"{endpoint} '{search}': {found.total:,} records in "
                f"{found.requests} request(s) -> {path}",
                markup=False,
            )
    out_console.print(f"requests left today: {syncer.budget.left:,}", markup=False)
