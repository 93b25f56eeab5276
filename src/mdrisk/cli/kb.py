"""``mdrisk kb``: import, inspect and query the local knowledge base. Thin wrappers only."""

from __future__ import annotations

import datetime
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import click

from mdrisk import bundled
from mdrisk.cli.common import (
    EXIT_BAD_INPUT,
    EXIT_FAILED,
    err_console,
    guarded,
    out_console,
    progress_bar,
)
from mdrisk.kb.paths import default_store_path

if TYPE_CHECKING:
    from rich.progress import TaskID

    from mdrisk.kb.store import Store
    from mdrisk.kb.sync.base import Progress

store_option = click.option(
    "--store",
    "store_path",
    type=click.Path(path_type=Path, dir_okay=False),
    default=None,
    help="Knowledge-base file (default: $MDRISK_HOME/kb.sqlite or "
    "~/.local/share/mdrisk/kb.sqlite; while that does not exist, the snapshot bundled "
    "with mdrisk, which a first import or sync copies there).",
)


replace_option = click.option(
    "--replace",
    is_flag=True,
    help="Let a catalogue release (CWE, CAPEC, ATT&CK, ATLAS, KEV) with fewer entries than "
    "the stored one replace it; without it such a file is refused, naming what it would drop.",
)


def open_store(store_path: Path | None, writing: bool = False) -> Store:
    """The store named, else the default one; when that does not exist, the bundled snapshot
    (a writing command starts the default store as a copy of it). Reading commands open it
    read-only, and only where a store exists. A StoreError (no store at a named path, or a
    file that is not a usable knowledge base) exits with status 2."""
    from mdrisk.kb.store import Store
    from mdrisk.kb.store_location import store_to_read, store_to_write

    if not writing:
        return Store.open(store_to_read(store_path), read_only=True)
    return Store.open(
        store_to_write(store_path),
        on_wait=lambda message: err_console.print(f"note: {message}", markup=False),
    )


@click.group("kb")
def kb_group() -> None:
    """The local knowledge base: vulnerabilities, advisories, KEV, EPSS, CWE, CAPEC, ATT&CK,
    ATLAS and SBOM components, imported from files and matched to device components."""


@kb_group.command("import")
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
@store_option
@replace_option
@guarded
def import_command(paths: tuple[Path, ...], store_path: Path | None, replace: bool) -> None:
    """Import files and folders; each file's format is recognised from its content.

    All files are parsed first; if any is refused nothing is written (exit status 2). Files
    already imported with the same content are skipped, so an import can be repeated. A
    catalogue release with fewer entries than the stored one is refused unless --replace.
    """
    from mdrisk.kb.importing import ImportRefused, import_paths

    with open_store(store_path, writing=True) as store, progress_bar() as progress:
        task = progress.add_task("importing", total=None)

        def tick(name: str, done: int, total: int) -> None:
            progress.update(task, total=total, completed=done, description=f"parsing {name}")

        try:
            summary = import_paths(store, list(paths), tick, replace=replace)
        except ImportRefused as refused:
            progress.stop()
            err_console.print(
                f"error: {len(refused.errors)} file(s) refused; nothing was imported", markup=False
            )
            for error in refused.errors:
                err_console.print(str(error), markup=False)
            sys.exit(EXIT_BAD_INPUT)
    by_importer: dict[str, int] = {}
    for _, importer, _documents in summary.imported:
        by_importer[importer] = by_importer.get(importer, 0) + 1
    for importer, count in sorted(by_importer.items()):
        out_console.print(f"imported {count} file(s) as {importer}", markup=False)
    if summary.unchanged:
        out_console.print(
            f"unchanged: {len(summary.unchanged)} file(s) already imported", markup=False
        )
    for path, why in summary.skipped:
        out_console.print(f"skipped {path}: {why}", markup=False)
    out_console.print(f"{summary.documents_changed} document(s) written", markup=False)


@kb_group.command()
@store_option
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@guarded
def stats(store_path: Path | None, as_json: bool) -> None:
    """Count what the knowledge base holds, and list its snapshots."""
    with open_store(store_path) as store:
        counts = store.counts()
        snapshots = store.snapshots()
        opened = store.path
    if as_json:
        out_console.print_json(
            json.dumps(
                {
                    "path": str(opened),
                    "counts": counts,
                    "snapshots": [s.__dict__ for s in snapshots],
                }
            )
        )
        return
    out_console.print(f"knowledge base: {opened}", markup=False)
    for kind, count in counts.items():
        out_console.print(f"  {kind:28} {count:>8}", markup=False)
    by_importer: dict[str, int] = {}
    for snapshot in snapshots:
        by_importer[snapshot.importer] = by_importer.get(snapshot.importer, 0) + 1
    out_console.print(f"snapshots: {len(snapshots)} file(s)", markup=False)
    for importer, count in sorted(by_importer.items()):
        out_console.print(f"  {importer:28} {count:>8}", markup=False)


@kb_group.command()
@click.argument("identifier")
@store_option
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@guarded
def show(identifier: str, store_path: Path | None, as_json: bool) -> None:
    """Show everything known about an id (CVE-..., CWE-..., CAPEC-..., T0830, AML.T0043, ...)."""
    from mdrisk.kb.enrich import describe

    with open_store(store_path) as store:
        description = describe(store, identifier.strip())
    if description is None:
        err_console.print(
            f"error: '{identifier}' is not in the knowledge base (see 'mdrisk kb stats')",
            markup=False,
        )
        sys.exit(EXIT_BAD_INPUT)
    if as_json:
        out_console.print_json(json.dumps(description, sort_keys=True, ensure_ascii=False))
        return
    out_console.print(render_description(description), markup=False)


def render_description(description: dict) -> str:
    lines = [f"{description['id']}  ({', '.join(description.get('kinds', []))})"]
    for key in sorted(description):
        if key in ("id", "kinds"):
            continue
        value = description[key]
        if isinstance(value, (list, dict)):
            if not value:
                continue
            text = json.dumps(value, ensure_ascii=False, sort_keys=True)
            lines.append(f"  {key}: {text if len(text) < 400 else text[:400] + ' …'}")
        elif value not in (None, ""):
            lines.append(f"  {key}: {value}")
    return "\n".join(lines)


@kb_group.command()
@store_option
@click.option("--vendor", help="Maker, as written anywhere (aliases are understood).")
@click.option("--product", help="Product name.")
@click.option("--version", "version", help="Installed version.")
@click.option("--cpe", help="CPE 2.3 name.")
@click.option("--purl", help="Package URL.")
@click.option("--text", help="Free-text technology, e.g. 'Dana Diabecare RS firmware 2.9'.")
@click.option("--min-confidence", type=click.FloatRange(0, 1), default=0.5, show_default=True)
@click.option("--json", "as_json", is_flag=True, help="Print a JSON array.")
@guarded
def match(
    store_path: Path | None,
    vendor: str | None,
    product: str | None,
    version: str | None,
    cpe: str | None,
    purl: str | None,
    text: str | None,
    min_confidence: float,
    as_json: bool,
) -> None:
    """Known vulnerabilities of one component, each with a confidence and the reason.

    Candidates below --min-confidence are listed as "possible, needs review", never
    dropped; the output says what the knowledge base holds and whether it covers the
    component (no match where it is not covered means "not covered", not "none")."""
    from mdrisk.kb.holdings import holdings_of
    from mdrisk.kb.matching.cutoff import POSSIBLE, split_by_confidence
    from mdrisk.kb.matching.matcher import Matcher
    from mdrisk.kb.matching.query import ComponentQuery

    if not any((vendor, product, cpe, purl, text)):
        raise click.UsageError("give at least one of --vendor/--product, --cpe, --purl, --text")
    query = ComponentQuery(
        vendor=vendor, product=product, version=version, cpe=cpe, purl=purl, text=text
    )
    with open_store(store_path) as store:
        matcher = Matcher.from_store(store, bundled.vendor_aliases())
        matches, possible = split_by_confidence(matcher.match(query), min_confidence)
        covered, coverage = matcher.holds(query)
        holdings = holdings_of(store)
    if not covered and holdings.comprehensive:
        covered, coverage = True, coverage + "; a full CVE feed (NVD) is held"
    if as_json:
        items = [{**m.as_json(), "status": "match"} for m in matches]
        items += [{**m.as_json(), "status": POSSIBLE} for m in possible]
        sys.stdout.write(json.dumps(items, indent=2, ensure_ascii=False) + "\n")
        return
    out_console.print(f"knowledge base: {holdings.summary()}", markup=False)
    out_console.print(
        f"coverage: {'covered' if covered else 'NOT COVERED'} ({coverage})", markup=False
    )
    if not matches and not possible:
        out_console.print(
            "no known vulnerabilities match"
            if covered
            else "not covered: the knowledge base cannot say whether this component has "
            "known vulnerabilities",
            markup=False,
        )
    for item in matches:
        out_console.print(f"{item.id}  {item.confidence:.2f}  {item.reason}", markup=False)
    if possible:
        out_console.print(f"{POSSIBLE} (confidence below {min_confidence:.2f}):", markup=False)
        for item in possible:
            out_console.print(f"  {item.id}  {item.confidence:.2f}  {item.reason}", markup=False)


@kb_group.command("sync")
@click.option(
    "--source",
    "source_names",
    multiple=True,
    metavar="NAME",
    help="Fetch only this source; repeat for several (nvd, kev, epss, cwe, capec, "
    "attack, atlas, csaf). Default: all.",
)
@click.option(
    "--since",
    type=click.DateTime(formats=["%Y-%m-%d", "%Y-%m-%dT%H:%M:%S"]),
    metavar="DATE",
    help="NVD: CVEs modified from this date on (UTC); CSAF: "
    "advisories changed from it on. Default: since the last sync (for NVD's first "
    "sync: every CVE).",
)
@click.option(
    "--nvd-api-key",
    envvar="NVD_API_KEY",
    show_envvar=True,
    metavar="KEY",
    help="NVD API key: 50 instead of 5 requests per 30 s. Sent as a header only, "
    "never written anywhere.",
)
@store_option
@replace_option
@click.option(
    "--dry-run",
    is_flag=True,
    help="Show what would be fetched from where; touch neither the network nor the knowledge base.",
)
@guarded
def sync_command(
    source_names: tuple[str, ...],
    since: datetime.datetime | None,
    nvd_api_key: str | None,
    store_path: Path | None,
    replace: bool,
    dry_run: bool,
) -> None:
    """Fetch the knowledge-base sources from their public homes, then import them.

    The only mdrisk command that needs the network; everything else works offline, and
    'mdrisk kb import' reads the same files from disk.

    \b
    nvd     NVD CVE API 2.0, services.nvd.nist.gov (paged; later runs fetch
            only CVEs modified since the last one; 5 requests / 30 s without a key)
    kev     CISA Known Exploited Vulnerabilities JSON, www.cisa.gov
    epss    FIRST EPSS daily scores CSV (.gz), epss.empiricalsecurity.com
    cwe     CWE catalogue XML (zip), cwe.mitre.org
    capec   CAPEC STIX 2.1, raw.githubusercontent.com/mitre/cti
    attack  ATT&CK Enterprise and ICS STIX 2.1,
            raw.githubusercontent.com/mitre-attack/attack-stix-data
    atlas   ATLAS.yaml, raw.githubusercontent.com/mitre-atlas/atlas-data
    csaf    CISA medical advisories (ICSMA) in CSAF 2.0,
            raw.githubusercontent.com/cisagov/CSAF (csaf_files/OT/white)

    Downloads are kept in $MDRISK_HOME/downloads/<source>/ and imported in one transaction;
    an interrupted run resumes where it stopped. Replace a source's base URL (a mirror) with
    $MDRISK_SYNC_<SOURCE>_URL, e.g. MDRISK_SYNC_KEV_URL. Exit status 1 when a source could
    not be fetched or a download was refused; what did arrive is still imported.
    """
    from mdrisk.kb.importing import ImportRefused
    from mdrisk.kb.sync import registry
    from mdrisk.kb.sync.base import SyncOptions
    from mdrisk.kb.sync.client import HttpClient
    from mdrisk.kb.sync.runner import run_sync
    from mdrisk.kb.sync.state import SyncState
    from mdrisk.user_dirs import mdrisk_home

    options = SyncOptions(since=since, nvd_api_key=nvd_api_key or None)
    try:
        sources = registry.make_sources(source_names, options)
    except KeyError as unknown:
        choices = ", ".join(registry.source_names())
        raise click.BadParameter(
            f"unknown source {unknown.args[0]}; choose from {choices}", param_hint="--source"
        ) from None
    downloads = mdrisk_home() / "downloads"
    if dry_run:
        for source in sources:
            out_console.print(f"{source.name}: {source.description}", markup=False)
            for line in source.plan(SyncState.load(downloads / source.name)):
                out_console.print(f"  {line}", markup=False)
        out_console.print(f"downloads: {downloads}", markup=False)
        out_console.print(f"knowledge base: {store_path or default_store_path()}", markup=False)
        out_console.print("dry run: nothing fetched, nothing imported", markup=False)
        return

    with open_store(store_path, writing=True) as store, progress_bar() as progress:
        tasks: dict[str, TaskID] = {}

        def progress_for(name: str) -> Progress:
            tasks[name] = progress.add_task(name, total=None)

            def tick(what: str, done: int, total: int | None) -> None:
                progress.update(tasks[name], description=what, completed=done, total=total)

            return tick

        import_task = progress.add_task("importing", total=None, visible=False)

        def import_tick(name: str, done: int, total: int) -> None:
            progress.update(
                import_task,
                visible=True,
                total=total,
                completed=done,
                description=f"importing {name}",
            )

        try:
            result = run_sync(
                store, sources, HttpClient(), downloads, progress_for, import_tick, replace
            )
        except ImportRefused as refused:
            progress.stop()
            err_console.print(
                f"error: {len(refused.errors)} downloaded file(s) refused; "
                f"nothing was imported (the downloads stay in {downloads} and "
                "are tried again by the next sync)",
                markup=False,
            )
            for error in refused.errors:
                err_console.print(str(error), markup=False)
            sys.exit(EXIT_FAILED)
    for outcome in result.outcomes:
        if outcome.warning:
            err_console.print(f"warning: {outcome.warning}", markup=False)
        if outcome.error is not None:
            err_console.print(f"error: {outcome.name}: {outcome.error}", markup=False)
        elif outcome.downloaded:
            out_console.print(
                f"{outcome.name}: {len(outcome.downloaded)} file(s) downloaded", markup=False
            )
        else:
            out_console.print(f"{outcome.name}: up to date", markup=False)
    for path in result.unrecognised:
        out_console.print(
            f"kept for later: {path} (no importer in this mdrisk reads it yet)", markup=False
        )
    if result.summary is not None:
        imported = len(result.summary.imported)
        unchanged = len(result.summary.unchanged)
        out_console.print(
            f"imported {imported} file(s), {unchanged} unchanged, "
            f"{result.summary.documents_changed} document(s) written",
            markup=False,
        )
    if result.failed:
        sys.exit(EXIT_FAILED)
