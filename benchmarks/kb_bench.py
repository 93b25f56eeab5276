"""The knowledge-base benchmark, in one run: import, matching speed, matching quality.

    python benchmarks/kb_bench.py [--data DIR] [--threshold 0.5] [--examples 8]

1. Import every file under the shared data folder into a temporary store (all importers found
   in mdrisk.kb.importers; the ones present are listed), then import again (must change
   nothing).
2. Build the matcher's index and match 1,000 realistic components (every CSAF product leaf
   with versions inside and past its range, every SBOM component with its CPE and purl, name
   variants), against a naive linear scan over all affected rows in the same process.
3. Precision and recall on queries written from the CSAF product trees (see csaf_truth.py for
   how queries and ground truth are made, independently of mdrisk), against a store holding
   the CSAF advisories only, at a stated confidence threshold; by query form and kind, and for
   the two halves of the advisories (the "held-out" half was kept out of tuning).
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import csaf_truth  # noqa: E402

from mdrisk import bundled  # noqa: E402
from mdrisk.kb.importers.registry import all_importers  # noqa: E402
from mdrisk.kb.importing import import_paths  # noqa: E402
from mdrisk.kb.matching import status as verdicts  # noqa: E402
from mdrisk.kb.matching.matcher import Matcher  # noqa: E402
from mdrisk.kb.matching.names import fold, vendor_key  # noqa: E402
from mdrisk.kb.matching.query import ComponentQuery  # noqa: E402
from mdrisk.kb.records import SBOM_COMPONENT  # noqa: E402
from mdrisk.kb.store import Store  # noqa: E402

GOAL_PRECISION = 0.95
GOAL_RECALL = 0.90
PUBLISHED_BASELINE_PRECISION = 0.632


def default_data_dir() -> Path:
    return Path(os.environ.get("MDRISK_DATA_DIR", HERE.parent.parent / "shared" / "data"))


# --- 1. import ------------------------------------------------------------------------------------


def bench_import(data: Path, folder: Path) -> Store:
    print(f"importers present: {', '.join(i.name for i in all_importers())}")
    store = Store.open(folder / "kb.sqlite")
    started = time.perf_counter()
    summary = import_paths(store, [data])
    first = time.perf_counter() - started
    by_importer: dict[str, int] = {}
    for _, importer, _ in summary.imported:
        by_importer[importer] = by_importer.get(importer, 0) + 1
    digest = store.content_digest()
    started = time.perf_counter()
    again = import_paths(store, [data])
    second = time.perf_counter() - started
    print(
        f"import of {data}: {first:.2f} s (goal < 60 s); "
        f"{sum(by_importer.values())} files: "
        + ", ".join(f"{name} {count}" for name, count in sorted(by_importer.items()))
        + f"; {len(summary.skipped)} files skipped (not a knowledge-base format)"
    )
    print(
        f"repeated import: {second:.2f} s, {again.documents_changed} documents changed, "
        f"store {'unchanged' if store.content_digest() == digest else 'CHANGED'}"
    )
    print("store: " + ", ".join(f"{kind} {count}" for kind, count in store.counts().items()))
    return store


# --- 2. speed -------------------------------------------------------------------------------------


def realistic_components(store: Store, data: Path, count: int = 1000) -> list[ComponentQuery]:
    """CSAF product leaves (versions inside and past their ranges, name variants) and SBOM
    components, all distinct, in a fixed shuffled order."""
    leaves = csaf_truth.read_leaves(data / "cisa-csaf-icsma")
    table = csaf_truth.table_vendors(data / "ics-advisory-project" / "CISA_ICS_ADV_Master.csv")
    found: dict[ComponentQuery, None] = {}
    for record in store.records(SBOM_COMPONENT):
        component = record.data
        found[
            ComponentQuery(
                vendor=component.get("vendor") or None,
                product=component.get("name") or None,
                version=component.get("version") or None,
                cpe=component.get("cpe") or None,
                purl=component.get("purl") or None,
            )
        ] = None
    for leaf in leaves:
        inside, past = csaf_truth.versions_to_ask(leaf)
        vendors = csaf_truth.vendor_variants(leaf, table)
        products = csaf_truth.product_variants(leaf, "")
        versions = inside + past or [csaf_truth.parse_exact(leaf.version_text)]
        for number, version in enumerate(versions):
            found[
                ComponentQuery(
                    vendor=vendors[number % len(vendors)],
                    product=products[number % len(products)],
                    version=version,
                )
            ] = None
    queries = list(found)
    random.Random(7).shuffle(queries)
    while len(queries) < count:  # vary versions of what we have until there are enough
        base = queries[len(queries) % len(found)]
        queries.append(
            ComponentQuery(
                base.vendor,
                base.product,
                f"{len(queries) % 17}.{len(queries) % 5}",
                base.cpe,
                base.purl,
                base.text,
            )
        )
    return queries[:count]


def naive_match(rows, query: ComponentQuery) -> set[str]:
    """The baseline: scan every affected row, compare folded names by containment, evaluate
    the versions (same version semantics, no index, nothing prepared)."""
    vendor = vendor_key(query.vendor or "")
    product = fold(query.product or "").strip()
    found = set()
    for entry in rows:
        entry_vendor = vendor_key(entry.vendor)
        if vendor and entry_vendor and vendor not in entry_vendor and entry_vendor not in vendor:
            continue
        entry_product = fold(entry.product).strip()
        if (
            not product
            or not entry_product
            or (product not in entry_product and entry_product not in product)
        ):
            continue
        verdict = verdicts.evaluate(entry.versions, entry.default_status, query.version)
        if verdict.status == verdicts.AFFECTED:
            found.add(entry.vuln_id)
    return found


def bench_speed(store: Store, data: Path) -> None:
    started = time.perf_counter()
    matcher = Matcher.from_store(store, bundled.vendor_aliases())
    index_time = time.perf_counter() - started
    queries = realistic_components(store, data)
    times = []
    for _ in range(3):
        started = time.perf_counter()
        answers = [matcher.match(query) for query in queries]
        times.append(time.perf_counter() - started)
    rows = list(store.affected())
    started = time.perf_counter()
    for query in queries:
        naive_match(rows, query)
    naive = time.perf_counter() - started
    matched = sum(1 for answer in answers if answer)
    print(
        f"matcher index: {index_time:.2f} s over {len(rows)} affected rows, "
        f"{len(matcher.products)} distinct products"
    )
    print(
        f"match {len(queries)} components: first run {times[0]:.3f} s, median of 3 "
        f"{statistics.median(times):.3f} s (goal < 1 s); {matched} components with matches"
    )
    print(
        f"baseline (linear scan of all rows, same process): {naive:.3f} s -> indexed matcher "
        f"is {naive / times[0]:.1f}x faster (first run)"
    )


# --- 3. quality -----------------------------------------------------------------------------------


def answer(matcher: Matcher, query: csaf_truth.Query, threshold: float) -> set[str]:
    asked = ComponentQuery(
        vendor=query.vendor,
        product=query.product or None,
        version=query.version,
        text=query.text,
        cpe=query.cpe,
    )
    return {m.id for m in matcher.match(asked) if m.confidence >= threshold}


def evaluate(
    data: Path, threshold: float, select=None
) -> tuple[list[csaf_truth.Query], list[set[str]], Matcher]:
    store = Store.in_memory()
    import_paths(store, [data / "cisa-csaf-icsma"])
    matcher = Matcher.from_store(store, bundled.vendor_aliases())
    queries, _ = csaf_truth.all_queries(data, select)
    return queries, [answer(matcher, q, threshold) for q in queries], matcher


def _line(label: str, score: csaf_truth.Score, queries: int) -> str:
    return (
        f"  {label:<22} {queries:>6} {score.precision:>9.3f} {score.recall:>7.3f} "
        f"{score.strict_precision:>9.3f} {score.returned:>8} {score.acceptable:>6} "
        f"{len(score.wrong):>6} {len(score.missed):>6}"
    )


def bench_quality(data: Path, threshold: float, examples: int) -> None:
    started = time.perf_counter()
    queries, answers, _ = evaluate(data, threshold)
    elapsed = time.perf_counter() - started
    print(
        f"precision/recall: {len(queries)} queries from the CSAF product trees, threshold "
        f"{threshold}, {elapsed:.1f} s"
    )
    print(
        f"  {'queries':<22} {'count':>6} {'precision':>9} {'recall':>7} {'strict P':>9} "
        f"{'returned':>8} {'accept':>6} {'wrong':>6} {'missed':>6}"
    )
    groups: list[tuple[str, list[int]]] = []
    for form in ("fields", "text", "cpe"):
        for kind in ("affected", "fixed", "no-version"):
            members = [i for i, q in enumerate(queries) if q.form == form and q.kind == kind]
            if members:
                groups.append((f"{form}/{kind}", members))
    groups.append(
        ("tuning half", [i for i, q in enumerate(queries) if not csaf_truth.held_out(q.leaf)])
    )
    groups.append(
        ("held-out half", [i for i, q in enumerate(queries) if csaf_truth.held_out(q.leaf)])
    )
    for label, members in groups:
        score = csaf_truth.score([queries[i] for i in members], [answers[i] for i in members])
        print(_line(label, score, len(members)))
    total = csaf_truth.score(queries, answers)
    print(_line("ALL", total, len(queries)))
    verdict = (
        "met" if total.precision >= GOAL_PRECISION and total.recall >= GOAL_RECALL else "NOT met"
    )
    print(
        f"goals precision >= {GOAL_PRECISION}, recall >= {GOAL_RECALL}: {verdict} "
        f"(published baseline precision {PUBLISHED_BASELINE_PRECISION:.1%})"
    )
    print(
        "  precision = correct / (returned - acceptable); strict P counts 'acceptable' "
        "(related product names, undecidable versions) as wrong"
    )
    sample = [q for q in queries if q.form == "fields"][::10]
    rows = _csaf_rows(data)
    naive = csaf_truth.score(
        sample, [naive_match(rows, ComponentQuery(q.vendor, q.product, q.version)) for q in sample]
    )
    print(
        f"  naive baseline on every 10th field query ({len(sample)}): precision "
        f"{naive.precision:.3f}, recall {naive.recall:.3f}, strict P "
        f"{naive.strict_precision:.3f}"
    )
    for title, cases in (("wrong", total.wrong), ("missed", total.missed)):
        print(f"  {title} examples ({len(cases)}):")
        for query, cve in cases[:examples]:
            asked = query.text or query.cpe or f"{query.vendor} | {query.product}"
            print(
                f"    {cve}: {asked} | version {query.version} ({query.kind}; leaf "
                f"{query.leaf.advisory} '{query.leaf.product}' '{query.leaf.version_text}')"
            )


def _csaf_rows(data: Path):
    store = Store.in_memory()
    import_paths(store, [data / "cisa-csaf-icsma"])
    return list(store.affected())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=default_data_dir())
    parser.add_argument("--threshold", type=float, default=0.5)
    parser.add_argument("--examples", type=int, default=8)
    options = parser.parse_args(argv)
    if not options.data.is_dir():
        print(f"no data at {options.data} (set MDRISK_DATA_DIR)", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory() as folder:
        store = bench_import(options.data, Path(folder))
        bench_speed(store, options.data)
        store.close()
    bench_quality(options.data, options.threshold, options.examples)
    return 0


if __name__ == "__main__":
    sys.exit(main())
