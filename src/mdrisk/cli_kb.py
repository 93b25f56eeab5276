"""``mdrisk kb``: import, inspect and query the local knowledge base. Thin wrappers only."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from mdrisk.cli_common import (
    EXIT_BAD_INPUT,
    EXIT_FAILED,
    err_console,
    guarded,
    out_console,
    progress_bar,
)
from mdrisk.kb.paths import default_store_path
from mdrisk.kb.store import Store, StoreError

store_option = click.option(
    "--store", "store_path", type=click.Path(path_type=Path, dir_okay=False),
    default=None, help="Knowledge-base file (default: $MDRISK_HOME/kb.sqlite or "
    "~/.local/share/mdrisk/kb.sqlite).")


def open_store(store_path: Path | None) -> Store:
    try:
        return Store.open(store_path or default_store_path())
    except StoreError as error:
        err_console.print(f"error: {error}", markup=False)
        sys.exit(EXIT_FAILED)


@click.group("kb")
def kb_group() -> None:
    """The local knowledge base: vulnerabilities, advisories, KEV, EPSS, CWE, CAPEC, ATT&CK,
    ATLAS and SBOM components, imported from files and matched to device components."""


@kb_group.command("import")
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
@store_option
@guarded
def import_command(paths: tuple[Path, ...], store_path: Path | None) -> None:
    """Import files and folders; each file's format is recognised from its content.

    All files are parsed first; if any is refused nothing is written (exit status 2). Files
    already imported with the same content are skipped, so an import can be repeated.
    """
    from mdrisk.kb.importing import ImportRefused, import_paths

    with open_store(store_path) as store, progress_bar() as progress:
        task = progress.add_task("importing", total=None)

        def tick(name: str, done: int, total: int) -> None:
            progress.update(task, total=total, completed=done, description=f"parsing {name}")

        try:
            summary = import_paths(store, list(paths), tick)
        except ImportRefused as refused:
            progress.stop()
            err_console.print(f"error: {len(refused.errors)} file(s) refused; nothing was "
                              "imported", markup=False)
            for error in refused.errors:
                err_console.print(str(error), markup=False)
            sys.exit(EXIT_BAD_INPUT)
    by_importer: dict[str, int] = {}
    for _, importer, _documents in summary.imported:
        by_importer[importer] = by_importer.get(importer, 0) + 1
    for importer, count in sorted(by_importer.items()):
        out_console.print(f"imported {count} file(s) as {importer}", markup=False)
    if summary.unchanged:
        out_console.print(f"unchanged: {len(summary.unchanged)} file(s) already imported",
                          markup=False)
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
    if as_json:
        out_console.print_json(json.dumps({
            "path": str(store_path or default_store_path()),
            "counts": counts,
            "snapshots": [s.__dict__ for s in snapshots],
        }))
        return
    out_console.print(f"knowledge base: {store_path or default_store_path()}", markup=False)
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
        err_console.print(f"error: '{identifier}' is not in the knowledge base "
                          "(see 'mdrisk kb stats')", markup=False)
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
def match(store_path: Path | None, vendor: str | None, product: str | None,
          version: str | None, cpe: str | None, purl: str | None, text: str | None,
          min_confidence: float, as_json: bool) -> None:
    """Known vulnerabilities of one component, each with a confidence and the reason."""
    from mdrisk.kb.matching.matcher import Matcher
    from mdrisk.kb.matching.query import ComponentQuery

    if not any((vendor, product, cpe, purl, text)):
        raise click.UsageError("give at least one of --vendor/--product, --cpe, --purl, --text")
    query = ComponentQuery(vendor=vendor, product=product, version=version, cpe=cpe, purl=purl,
                           text=text)
    with open_store(store_path) as store:
        matches = [m for m in Matcher.from_store(store).match(query)
                   if m.confidence >= min_confidence]
    if as_json:
        sys.stdout.write(json.dumps([m.as_json() for m in matches], indent=2,
                                    ensure_ascii=False) + "\n")
        return
    if not matches:
        out_console.print("no known vulnerabilities match", markup=False)
    for item in matches:
        out_console.print(f"{item.id}  {item.confidence:.2f}  {item.reason}", markup=False)
