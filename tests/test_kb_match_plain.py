"""Versions read once at import and judged by comparing keys (``kb.matching.plain``) answer
exactly as ``status.judge`` reading the constraint dicts, on every affected entry of the shared
real records (CVE 5 and CISA CSAF) with versions drawn from their own bounds and around them;
a store whose readings cannot be used (an older store read-only, readings another mdrisk
computed) is read the old way with the same answers, and a writable open computes them.
"""

from __future__ import annotations

import json
import random
import sqlite3
from pathlib import Path

import pytest
from conftest import import_real_advisories

from mdrisk import bundled
from mdrisk.kb.matching import plain
from mdrisk.kb.matching import status as verdicts
from mdrisk.kb.matching.matcher import Matcher
from mdrisk.kb.matching.query import ComponentQuery
from mdrisk.kb.records import AffectedEntry
from mdrisk.kb.store import READINGS_KEY, Store


@pytest.fixture(scope="module")
def real_store(shared_data, tmp_path_factory) -> Store:
    store: Store = import_real_advisories(
        Store.open(tmp_path_factory.mktemp("kb") / "kb.sqlite"), shared_data
    )
    return store


def _versions_around(entries: list[AffectedEntry], seed: int = 11) -> list[str]:
    """Every bound the entries publish, versions just below and above, and other forms."""
    found: set[str] = {"0", "0.0.1", "1", "99", "1.0 build 5", "2.0-rc1", "3.1 sp2", "n/a"}
    for entry in entries:
        for constraint in entry.versions:
            for key in ("version", "less_than", "less_than_or_equal", "greater_than_or_equal"):
                value = constraint.get(key)
                if isinstance(value, str) and value:
                    found.add(value)
    shifted = set()
    for text in sorted(found):
        head, _, rest = text.partition(".")
        if head.isdigit():
            for step in (-1, 1):
                shifted.add(f"{max(int(head) + step, 0)}.{rest}" if rest else str(int(head) + step))
    every = sorted(found | shifted)
    return random.Random(seed).sample(every, min(400, len(every)))


def test_plain_readings_judge_every_real_entry_as_status_judge(real_store):
    entries = list(real_store.affected())
    versions = _versions_around(entries)
    readings: dict[str, tuple[tuple[verdicts.Constraint, ...], plain.PlainReading | None]] = {}
    for entry in entries:
        text = json.dumps(list(entry.versions), sort_keys=True)
        if text not in readings:
            constraints = verdicts.prepare(entry.versions)
            readings[text] = (constraints, plain.from_json(plain.stored_reading(text)))
    judged = 0
    for text, (constraints, reading) in readings.items():
        if reading is None:
            continue
        assert reading == plain.plain_reading(constraints)  # as kept in the store
        for default in ("affected", "unaffected", "unknown", ""):
            assert reading.span(default) == verdicts.affected_span(constraints, default), text
            expected = verdicts.judge(constraints, default, None)
            assert plain.judge_no_version(reading, default) == expected, text
            for version_text in versions:
                version = plain.plain_version(version_text)
                if version is None:
                    continue
                expected = verdicts.judge(constraints, default, version_text)
                assert plain.judge(reading, default, version) == expected, (text, version_text)
                judged += 1
    assert sum(reading is not None for _, reading in readings.values()) > 0.8 * len(readings)
    assert judged > 100_000


def test_wildcard_bounds_are_judged_as_status_judge():
    versions = [
        "4.9",
        "5",
        "5.0",
        "5.0.0",
        "5.2.1",
        "5.9.9 build 3",
        "6",
        "6.0.1",
        "12.2.7",
        "12.3",
    ]
    for constraint in (
        {"status": "affected", "less_than": "5.x"},
        {"status": "affected", "less_than_or_equal": "5.x"},
        {"status": "affected", "version": "5.x", "less_than": "6.0"},
        {"status": "unaffected", "version": "12.2.x.x", "less_than": "*"},
        {"status": "affected", "expression": ">= 4.0 | <= 12.2.x"},
    ):
        constraints = verdicts.prepare([constraint])
        reading = plain.from_json(plain.to_json(plain.plain_reading(constraints)))
        assert reading is not None, constraint
        for default in ("affected", "unaffected", "unknown"):
            assert reading.span(default) == verdicts.affected_span(constraints, default)
            for version_text in versions:
                version = plain.plain_version(version_text)
                assert version is not None
                expected = verdicts.judge(constraints, default, version_text)
                assert plain.judge(reading, default, version) == expected, (constraint, version)


def test_what_is_not_plain_is_left_to_status_judge():
    build = verdicts.prepare([{"status": "affected", "less_than_or_equal": "4.0.1 build 120"}])
    changes = verdicts.prepare(
        [{"status": "affected", "version": "1.0", "less_than": "2.0", "changes": [{"at": "1.5"}]}]
    )
    ecosystem = verdicts.prepare([{"status": "affected", "expression": "vers:pypi/<2.0"}])
    for constraints in (build, changes, ecosystem):
        assert plain.plain_reading(constraints) is None
    for version_text in ("5.x", "April 1, 2018", "n/a", "", None):
        assert plain.plain_version(version_text) is None


def _queries(store: Store) -> list[ComponentQuery]:
    picker = random.Random(17)
    names = sorted({(e.vendor, e.product) for e in store.affected()})
    queries = []
    for vendor, product in picker.sample(names, min(60, len(names))):
        version = f"{picker.randint(0, 12)}.{picker.randint(0, 9)}.{picker.randint(0, 3)}"
        queries += [
            ComponentQuery(vendor=vendor, product=product, version=version),
            ComponentQuery(vendor=vendor, product=product),
            ComponentQuery(vendor=vendor, product=product, version=f"{version[0]}.x"),
            ComponentQuery(text=f"{vendor} {product} {version}"),
        ]
    return queries


def _copy(store: Store, path: Path) -> sqlite3.Connection:
    source = sqlite3.connect(store.path)
    target = sqlite3.connect(path)
    source.backup(target)
    source.close()
    return target


def test_a_store_whose_readings_cannot_be_used_answers_the_same_the_old_way(real_store, tmp_path):
    aliases = bundled.vendor_aliases()
    queries = _queries(real_store)
    first = next(iter(real_store.affected()))
    name = (first.vendor, first.product)
    expected = [Matcher.from_store(real_store, aliases).match(q) for q in queries]

    other = tmp_path / "other.sqlite"  # readings computed by another mdrisk
    target = _copy(real_store, other)
    target.execute("UPDATE meta SET value='plain-0:other' WHERE key=?", (READINGS_KEY,))
    target.commit()
    target.close()
    with Store.open(other, read_only=True) as store:
        assert store.affected_keys_of(*name) == list(store.affected_versions_of(*name))
        assert [Matcher.from_store(store, aliases).match(q) for q in queries] == expected

    old = tmp_path / "old.sqlite"  # written before readings were kept
    target = _copy(real_store, old)
    target.execute("DROP INDEX affected_readings_by_name")
    target.execute("ALTER TABLE affected DROP COLUMN reading")
    target.execute("DROP TABLE version_readings")
    target.execute("DELETE FROM meta WHERE key=?", (READINGS_KEY,))
    target.commit()
    target.close()
    with Store.open(old, read_only=True) as store:
        assert [Matcher.from_store(store, aliases).match(q) for q in queries] == expected
    with Store.open(old) as store:  # a writable open computes them
        keys = store.affected_keys_of(*name)
        assert keys and all(isinstance(key, int) for _, _, key in keys)
        assert store.content_digest() == real_store.content_digest()
    with Store.open(old, read_only=True) as store:
        assert [Matcher.from_store(store, aliases).match(q) for q in queries] == expected


def test_an_import_keeps_one_reading_per_distinct_versions_text(real_store):
    db = sqlite3.connect(real_store.path)
    texts = db.execute("SELECT COUNT(DISTINCT versions) FROM affected").fetchone()[0]
    kept = db.execute("SELECT COUNT(*) FROM version_readings").fetchone()[0]
    missing = db.execute("SELECT COUNT(*) FROM affected WHERE reading IS NULL").fetchone()[0]
    db.close()
    assert kept == texts and missing == 0
