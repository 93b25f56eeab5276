"""The knowledge base at NVD's size: import time, store size, memory, matches per second.

    python benchmarks/kb_scale_bench.py [--records 250000] [--queries 1000] [--keep DIR]

NVD holds about 250,000 CVE records; no full feed is on this machine, so the records are
SYNTHETIC records shaped like the shared real ones (CVE JSON 5, see kb_scale_records.py):
copies of the real records in <data>/cve-records-vulnrichment with ids CVE-9YYY-NNNNNN,
vendors/products from the real vocabulary and generated names, shifted version ranges and
other real CVSS objects.

1. Import: records are written as files, a batch at a time, into a temporary folder and
   imported with ``kb.importing.import_paths`` (what ``mdrisk kb import`` calls), one
   transaction per batch, into a fresh store. Import rate, store size on disk, peak memory.
2. Matching: ``Matcher.from_store`` (what the pipeline builds), then analyst-style component
   queries (products present and absent, with and without versions, CPE and purl, free
   text): matches per second, median and 95th-percentile latency. The same queries against a
   store of the real records only, in the same process, are the baseline.

Goal: >= 1,000 matches per second on the big store. Exit 0 when met, 1 otherwise.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import shutil
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from kb_scale_records import RecordMaker, generated_name, read_real_records  # noqa: E402

from mdrisk import bundled  # noqa: E402
from mdrisk.kb.importing import import_paths  # noqa: E402
from mdrisk.kb.matching.matcher import Matcher  # noqa: E402
from mdrisk.kb.matching.query import ComponentQuery  # noqa: E402
from mdrisk.kb.store import Store  # noqa: E402

GOAL_MATCHES_PER_SECOND = 1000.0
BATCH_RECORDS = 2000
NVD_RECORDS = 250_000


def default_data_dir() -> Path:
    return Path(os.environ.get("MDRISK_DATA_DIR", HERE.parent.parent / "shared" / "data"))


def peak_memory_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


@dataclass
class ImportFigures:
    records: int
    seconds: float
    store_bytes: int
    peak_mb: float

    @property
    def rate(self) -> float:
        return self.records / self.seconds if self.seconds else 0.0


def import_synthetic(
    maker: RecordMaker, count: int, store_path: Path, batch: int = BATCH_RECORDS
) -> ImportFigures:
    """Generate ``count`` records and import them into a new store at ``store_path``, a batch
    of files at a time (memory stays bounded by one batch). Time counts the import only."""
    store = Store.open(store_path)
    seconds = 0.0
    done = 0
    with tempfile.TemporaryDirectory() as scratch:
        for records in maker.batches(count, batch):
            folder = Path(scratch) / "batch"
            folder.mkdir()
            for record in records:
                name = record["cveMetadata"]["cveId"]
                (folder / f"{name}.json").write_text(json.dumps(record))
            started = time.perf_counter()
            import_paths(store, [folder])
            seconds += time.perf_counter() - started
            shutil.rmtree(folder)
            done += len(records)
            if done % (batch * 10) == 0:
                print(f"  ... {done} records, {done / seconds:.0f}/s", flush=True)
    store.close()
    size = sum(
        path.stat().st_size
        for path in store_path.parent.iterdir()
        if path.name.startswith(store_path.name)
    )
    return ImportFigures(count, seconds, size, peak_memory_mb())


QUERY_FORMS = (
    "vendor+product+version",
    "vendor+product",
    "product+version",
    "cpe",
    "purl",
    "free text",
    "absent, with version",
    "absent, no version",
)


def analyst_queries(maker: RecordMaker, count: int, seed: int = 5) -> list[ComponentQuery]:
    """Components as analysts write them: real and generated products present in the big
    store (with a version, without one, as CPE, as purl, as free text) and products absent
    from it."""
    picker = random.Random(seed)
    queries: list[ComponentQuery] = []
    for number in range(count):
        vendor, product = maker.names(picker)
        version = f"{picker.randint(0, 9)}.{picker.randint(0, 20)}.{picker.randint(0, 9)}"
        slug_vendor = vendor.lower().replace(" ", "_")
        slug_product = product.lower().replace(" ", "_")
        form = number % len(QUERY_FORMS)  # the order of QUERY_FORMS
        if form == 0:
            queries.append(ComponentQuery(vendor=vendor, product=product, version=version))
        elif form == 1:
            queries.append(ComponentQuery(vendor=vendor, product=product))
        elif form == 2:
            queries.append(ComponentQuery(product=product, version=version))
        elif form == 3:
            cpe = f"cpe:2.3:a:{slug_vendor}:{slug_product}:{version}:*:*:*:*:*:*:*"
            queries.append(ComponentQuery(cpe=cpe))
        elif form == 4:
            purl = f"pkg:generic/{slug_vendor}/{slug_product}@{version}"
            queries.append(ComponentQuery(purl=purl))
        elif form == 5:
            queries.append(ComponentQuery(text=f"{vendor} {product} {version}"))
        else:  # absent: names no record holds (another salt of the name generator)
            absent = generated_name(picker.randrange(10**6), 99)
            queries.append(
                ComponentQuery(
                    vendor=generated_name(picker.randrange(10**6), 98),
                    product=absent,
                    version=version if form == 6 else None,
                )
            )
    return queries


@dataclass
class MatchFigures:
    queries: int
    with_matches: int
    index_seconds: float
    seconds: float
    latencies: list[float]
    index_cpu: float = 0.0  # CPU seconds of this process: what a loaded machine does not inflate
    cpu: float = 0.0
    index_peak_mb: float = 0.0  # ru_maxrss once the index is built

    @property
    def per_cpu_second(self) -> float:
        return self.queries / self.cpu if self.cpu else 0.0

    @property
    def per_second(self) -> float:
        return self.queries / self.seconds if self.seconds else 0.0

    @property
    def median_ms(self) -> float:
        return statistics.median(self.latencies) * 1000

    @property
    def p95_ms(self) -> float:
        return statistics.quantiles(self.latencies, n=20)[-1] * 1000


def bench_matching(store: Store, queries: list[ComponentQuery]) -> MatchFigures:
    started, cpu = time.perf_counter(), time.process_time()
    matcher = Matcher.from_store(store, bundled.vendor_aliases())
    index_seconds, index_cpu = time.perf_counter() - started, time.process_time() - cpu
    index_peak = peak_memory_mb()
    latencies = []
    with_matches = 0
    started, cpu = time.perf_counter(), time.process_time()
    for query in queries:
        asked = time.perf_counter()
        found = matcher.match(query)
        latencies.append(time.perf_counter() - asked)
        with_matches += bool(found)
    return MatchFigures(
        len(queries),
        with_matches,
        index_seconds,
        time.perf_counter() - started,
        latencies,
        index_cpu,
        time.process_time() - cpu,
        index_peak,
    )


def real_store(data: Path, path: Path) -> Store:
    store = Store.open(path)
    import_paths(store, [data / "cve-records-vulnrichment" / "records"])
    return store


def _row(label: str, figures: MatchFigures) -> str:
    return (
        f"  {label:<26} {figures.queries:>7} {figures.with_matches:>8} "
        f"{figures.index_seconds:>9.2f} {figures.per_second:>10.0f} "
        f"{figures.median_ms:>9.3f} {figures.p95_ms:>9.3f} {figures.index_cpu:>9.2f} "
        f"{figures.per_cpu_second:>9.0f}"
    )


def run(
    data: Path, records: int, query_count: int, keep: Path | None, reuse: Path | None = None
) -> int:
    real = read_real_records(data)
    maker = RecordMaker(real, records)
    print(
        f"{records} synthetic records shaped like the shared real ones ({len(real)} real "
        f"CVE JSON 5 records in {data / 'cve-records-vulnrichment'}); ids CVE-9YYY-NNNNNN"
    )
    with tempfile.TemporaryDirectory() as folder:
        big_path = reuse or (keep or Path(folder)) / "kb.sqlite"
        if reuse is None and big_path.exists():
            print(f"{big_path} exists: give an empty --keep folder", file=sys.stderr)
            return 2
        if reuse is None:
            imported = import_synthetic(maker, records, big_path)
        else:  # a store an earlier run kept with the same --records: matching only
            print(f"reusing {reuse} (import not measured)")
            Store.open(reuse).close()  # a writer's open adds the indexes a newer mdrisk uses
            imported = ImportFigures(records, 0.0, reuse.stat().st_size, peak_memory_mb())
        mb = imported.store_bytes / 1e6
        print(f"import ({BATCH_RECORDS} record files per import_paths call, one transaction each):")
        print(f"  records                    {imported.records:>10}")
        print(f"  import time                {imported.seconds:>10.1f} s")
        print(f"  import rate                {imported.rate:>10.0f} records/s")
        print(f"  store size on disk         {mb:>10.1f} MB")
        print(f"  bytes per record           {imported.store_bytes / records:>10.0f}")
        print(f"  peak memory (ru_maxrss)    {imported.peak_mb:>10.0f} MB")
        if records < NVD_RECORDS:
            scale = NVD_RECORDS / records
            print(
                f"  EXTRAPOLATED (linear, not measured) to {NVD_RECORDS} records: import "
                f"{imported.seconds * scale / 60:.1f} min, store {mb * scale:.0f} MB"
            )

        queries = analyst_queries(maker, query_count)
        small = real_store(data, Path(folder) / "real.sqlite")
        baseline = bench_matching(small, queries)
        small.close()
        big = Store.open(big_path, read_only=True)
        scaled = bench_matching(big, queries)
        big.close()
        print(
            f"matching {query_count} analyst-style queries (Matcher.from_store, as the pipeline):"
        )
        print(
            f"  {'store':<26} {'queries':>7} {'matched':>8} {'index s':>9} "
            f"{'matches/s':>10} {'median ms':>9} {'p95 ms':>9} {'index cpu':>9} "
            f"{'per cpu s':>9}"
        )
        print(_row(f"real records only ({len(real)})", baseline))
        print(_row(f"synthetic ({records})", scaled))
        print(f"  peak memory once the big store's index is built {scaled.index_peak_mb:>6.0f} MB")
        print(f"  peak memory after matching {peak_memory_mb():>10.0f} MB")
        print(f"  load average after matching: {os.getloadavg()[0]:.1f} (2 cores)")
        print("  by query form on the synthetic store (median / p95 ms, share of the time):")
        for form, label in enumerate(QUERY_FORMS):
            times = scaled.latencies[form :: len(QUERY_FORMS)]
            if len(times) >= 2:
                print(
                    f"    {label:<24} {statistics.median(times) * 1000:>8.3f} "
                    f"{statistics.quantiles(times, n=20)[-1] * 1000:>8.3f} "
                    f"{sum(times) / scaled.seconds:>6.0%}"
                )
        print(
            f"  big store / real store: {scaled.per_second / baseline.per_second:.2f}x the "
            f"matches per second, {scaled.median_ms / baseline.median_ms:.1f}x the median latency"
        )
        met = scaled.per_second >= GOAL_MATCHES_PER_SECOND
        print(
            f"goal >= {GOAL_MATCHES_PER_SECOND:.0f} matches per second at {records} records: "
            f"{'met' if met else 'NOT met'} ({scaled.per_second:.0f}/s)"
        )
        if keep:
            print(f"store kept at {big_path}")
    return 0 if met else 1


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--data", type=Path, default=default_data_dir())
    parser.add_argument("--records", type=int, default=NVD_RECORDS)
    parser.add_argument("--queries", type=int, default=1000)
    parser.add_argument("--keep", type=Path, help="keep the big store in this folder")
    parser.add_argument(
        "--reuse", type=Path, help="match against this store (kept earlier with the same --records)"
    )
    options = parser.parse_args(argv)
    if not (options.data / "cve-records-vulnrichment" / "records").is_dir():
        print(f"no CVE records under {options.data} (set MDRISK_DATA_DIR)", file=sys.stderr)
        return 2
    if options.keep:
        options.keep.mkdir(parents=True, exist_ok=True)
    return run(options.data, options.records, options.queries, options.keep, options.reuse)


if __name__ == "__main__":
    sys.exit(main())
