"""The scale benchmark's generator and import at a tiny size: synthetic ids never collide
with real ones, and the records round-trip through the product's importer. The full run is
``python benchmarks/kb_scale_bench.py``."""

from __future__ import annotations

import os
import re
import sys
from pathlib import Path

import pytest

BENCHMARKS = Path(__file__).resolve().parent.parent / "benchmarks"
sys.path.insert(0, str(BENCHMARKS))

import kb_scale_bench  # noqa: E402
from kb_scale_records import (  # noqa: E402
    SYNTHETIC_YEAR_FLOOR,
    RecordMaker,
    read_real_records,
    synthetic_id,
)

from mdrisk.kb.records import VULNERABILITY  # noqa: E402
from mdrisk.kb.store import Store  # noqa: E402

DATA = Path(os.environ.get("MDRISK_DATA_DIR", Path(__file__).resolve().parents[2] / "shared/data"))
RECORDS = 200

pytestmark = pytest.mark.skipif(
    not (DATA / "cve-records-vulnrichment" / "records").is_dir(), reason="no shared CVE records"
)


@pytest.fixture(scope="module")
def real() -> list[dict]:
    return read_real_records(DATA)


def test_synthetic_ids_are_valid_and_never_real(real: list[dict]) -> None:
    real_ids = {record["cveMetadata"]["cveId"] for record in real}
    maker = RecordMaker(real, RECORDS)
    made = [maker.make(number) for number in range(RECORDS)]
    ids = [record["cveMetadata"]["cveId"] for record in made]
    assert len(set(ids)) == RECORDS
    assert not set(ids) & real_ids
    assert all(re.fullmatch(r"CVE-9\d{3}-\d{6}", cve) for cve in ids)
    assert int(synthetic_id(10**9 - 1).split("-")[1]) >= SYNTHETIC_YEAR_FLOOR
    # the template's own id is gone from every record
    for record, number in zip(made, range(RECORDS), strict=True):
        template_id = real[number % len(real)]["cveMetadata"]["cveId"]
        assert not re.search(re.escape(template_id) + r"(?!\d)", str(record))


def test_records_keep_the_real_shape(real: list[dict]) -> None:
    maker = RecordMaker(real, RECORDS)

    def shape(value: object) -> object:
        if isinstance(value, dict):
            return {key: shape(item) for key, item in value.items() if key != "metrics"}
        if isinstance(value, list):
            return [shape(item) for item in value]
        return type(value).__name__

    for number in range(len(real)):
        assert shape(maker.make(number)) == shape(real[number])


def test_records_round_trip_through_the_importer(real: list[dict], tmp_path: Path) -> None:
    maker = RecordMaker(real, RECORDS)
    figures = kb_scale_bench.import_synthetic(maker, RECORDS, tmp_path / "kb.sqlite", batch=64)
    assert figures.records == RECORDS and figures.store_bytes > 0
    with Store.open(tmp_path / "kb.sqlite", read_only=True) as store:
        stored = {record.id for record in store.records(VULNERABILITY)}
        assert stored == {synthetic_id(number) for number in range(RECORDS)}
        entries = {(e.vuln_id, e.vendor, e.product) for e in store.affected()}
    for number in (0, 57, RECORDS - 1):
        record = maker.make(number)
        for item in record["containers"]["cna"].get("affected", []):
            if item.get("vendor") and item.get("product"):
                assert (synthetic_id(number), item["vendor"], item["product"]) in entries


def test_matching_runs_on_the_synthetic_store(real: list[dict], tmp_path: Path) -> None:
    maker = RecordMaker(real, RECORDS)
    kb_scale_bench.import_synthetic(maker, RECORDS, tmp_path / "kb.sqlite", batch=100)
    queries = kb_scale_bench.analyst_queries(maker, 50)
    with Store.open(tmp_path / "kb.sqlite", read_only=True) as store:
        figures = kb_scale_bench.bench_matching(store, queries)
    assert figures.queries == 50
    assert 0 < figures.with_matches < 50  # some present, the absent ones never
