"""The matcher at scale: a product's entries read from the store when first needed, and
versions outside an entry's span skipped without changing a single answer.

The span rule is checked against ``judge`` on every affected entry of the shared real records
(CVE 5 and CISA CSAF) with versions drawn from their own bounds and around them; the lazy
matcher is checked against the matcher that holds every entry in memory, query by query.
"""

from __future__ import annotations

import json
import random
import sqlite3
from collections import defaultdict
from pathlib import Path

import pytest
from conftest import import_real_advisories

from mdrisk import bundled
from mdrisk.kb.matching import status as verdicts
from mdrisk.kb.matching.matcher import Matcher
from mdrisk.kb.matching.query import ComponentQuery
from mdrisk.kb.matching.rows import ProductRows, VersionsRead
from mdrisk.kb.matching.versions import normalise
from mdrisk.kb.records import AffectedEntry, ImportBatch
from mdrisk.kb.store import ParsedFile, Store


@pytest.fixture(scope="module")
def real_store(shared_data, tmp_path_factory) -> Store:
    store: Store = import_real_advisories(
        Store.open(tmp_path_factory.mktemp("kb") / "kb.sqlite"), shared_data
    )
    return store


def _versions_around(entries: list[AffectedEntry], seed: int = 7) -> list[str]:
    """Every bound the entries publish, and versions just below, just above and far away."""
    found: set[str] = {"0", "0.0.1", "1", "99", "999.1", "1.0 build 5", "2.0-rc1", "3.1 sp2"}
    for entry in entries:
        for constraint in entry.versions:
            for key in ("version", "less_than", "less_than_or_equal", "greater_than_or_equal"):
                value = constraint.get(key)
                if isinstance(value, str) and value and len(found) < 4000:
                    found.add(value)
    picker = random.Random(seed)
    shifted = set()
    for text in sorted(found):
        head, _, rest = text.partition(".")
        if head.isdigit():
            for step in (-1, 1):
                shifted.add(f"{max(int(head) + step, 0)}.{rest}" if rest else str(int(head) + step))
        shifted.add(f"{text}.{picker.randint(0, 9)}")
    return sorted(found | shifted)


def _rows(entries: list[AffectedEntry]) -> ProductRows:
    texts = {}
    listed = []
    for entry in entries:
        text = json.dumps(list(entry.versions), sort_keys=True)
        texts[text] = entry.versions
        listed.append((entry.vuln_id, entry.default_status, text))
    return ProductRows(listed, VersionsRead(), lambda text, _: texts[text])


def test_a_version_outside_an_entrys_span_is_judged_unaffected(real_store):
    entries = list(real_store.affected())
    versions = random.Random(5).sample(_versions_around(entries), 600)
    keyed = [(text, verdicts.span_key(text)) for text in versions]
    checked = 0
    with_span = 0
    for entry in entries:
        constraints = verdicts.prepare(entry.versions)
        span = verdicts.affected_span(constraints, entry.default_status)
        if span is None:
            continue
        with_span += 1
        for text, key in keyed:
            if key is None or span.lowest <= key <= span.highest:
                continue
            if normalise(text) in span.texts:
                continue
            checked += 1
            verdict = verdicts.judge(constraints, entry.default_status, text)
            assert verdict.status == verdicts.UNAFFECTED, (entry, text, span, verdict)
    assert with_span > 100 and checked > 10_000


def test_the_groups_a_version_concerns_hold_every_entry_not_judged_unaffected(real_store):
    by_name: dict[tuple[str, str], list[AffectedEntry]] = defaultdict(list)
    for entry in real_store.affected():
        by_name[(entry.vendor, entry.product)].append(entry)
    versions = random.Random(5).sample(
        _versions_around([e for group in by_name.values() for e in group]), 300
    )
    skipped = 0
    for group in by_name.values():
        rows = _rows(group)
        for text in versions:
            concerned = {id(g) for g in rows.concerning(text)}
            for versions_group in rows.groups:
                if id(versions_group) in concerned:
                    continue
                skipped += 1
                read = versions_group.versions
                verdict = verdicts.judge(read.constraints, read.default_status, text)
                assert verdict.status == verdicts.UNAFFECTED, (versions_group, text, verdict)
    assert skipped > 1000


def test_entries_of_a_vulnerability_named_twice_stay_apart_and_are_always_judged():
    rows = _rows(
        [
            AffectedEntry(
                "CVE-1", "v", "p", ({"status": "affected", "less_than": "2.0"},), "unknown"
            ),
            AffectedEntry("CVE-1", "v", "p", ({"status": "affected", "version": "abc1234def"},)),
            AffectedEntry(
                "CVE-2", "v", "p", ({"status": "affected", "less_than": "2.0"},), "unknown"
            ),
            AffectedEntry(
                "CVE-3", "v", "p", ({"status": "affected", "less_than": "2.0"},), "unknown"
            ),
        ]
    )
    assert [vuln_id for vuln_id, _ in rows.repeated] == ["CVE-1", "CVE-1"]
    assert [g.vuln_ids for g in rows.groups] == [("CVE-2", "CVE-3")]  # one reading of "< 2.0"
    assert rows.concerning("5.0") == []
    assert rows.concerning("1.0") == rows.groups
    assert rows.concerning("5.x") == rows.groups  # a wildcard has no span key: all judged


def _queries(store: Store) -> list[ComponentQuery]:
    picker = random.Random(3)
    names = sorted({(e.vendor, e.product) for e in store.affected()})
    queries = [
        ComponentQuery(text="Zephyr 3.2.0"),
        ComponentQuery(product="iPhone OS", version="17.4"),
    ]
    for vendor, product in picker.sample(names, min(150, len(names))):
        version = f"{picker.randint(0, 12)}.{picker.randint(0, 9)}"
        queries += [
            ComponentQuery(vendor=vendor, product=product, version=version),
            ComponentQuery(vendor=vendor, product=product),
            ComponentQuery(product=product, version=version),
            ComponentQuery(text=f"{vendor} {product} {version}"),
        ]
    return queries


def test_the_matcher_reading_the_store_per_product_answers_as_the_one_holding_everything(
    real_store,
):
    aliases = bundled.vendor_aliases()
    lazy = Matcher.from_store(real_store, aliases)
    advisories = {}
    for relation in real_store.relations(rel="described_in"):
        advisories.setdefault(relation.src, []).append(relation.dst)
    whole = Matcher(real_store.affected(), aliases, advisories)
    for query in _queries(real_store):
        assert lazy.match(query) == whole.match(query), query
        assert lazy.holds(query) == whole.holds(query), query


def test_a_store_without_the_name_index_is_read_whole_with_the_same_answers(real_store, tmp_path):
    copy = tmp_path / "old.sqlite"
    source = sqlite3.connect(real_store.path)
    target = sqlite3.connect(copy)
    source.backup(target)
    source.close()
    target.execute("DROP INDEX affected_by_name")
    target.commit()
    target.close()
    with Store.open(copy, read_only=True) as old:
        assert not old.indexes_names()
        matcher = Matcher.from_store(old, bundled.vendor_aliases())
        queries = _queries(real_store)[:80]
        before = [matcher.match(q) for q in queries]
    lazy = Matcher.from_store(real_store, bundled.vendor_aliases())
    assert before == [lazy.match(q) for q in queries]
    with Store.open(copy) as written:  # a writer's open adds the index
        assert written.indexes_names()


def test_the_store_reads_one_products_entries_and_every_name_in_order(tmp_path: Path):
    entries = [
        AffectedEntry("CVE-2", "Acme", "Pump", ({"status": "affected", "version": "1.0"},)),
        AffectedEntry(
            "CVE-1", "Acme", "Pump", ({"status": "affected", "raw": "8.x model 35700BAX2"},)
        ),
        AffectedEntry("CVE-1", "Other", "Hub", (), "affected", "cpe:2.3:a:o:hub:*:*:*:*:*:*:*:*"),
    ]
    with Store.open(tmp_path / "kb.sqlite") as store:
        store.write(
            [
                ParsedFile(
                    tmp_path / "x.json", "t", "0" * 64, [ImportBatch("t", "k", affected=entries)]
                )
            ]
        )
        assert store.indexes_names()
        assert [row[0] for row in store.affected_versions_of("Acme", "Pump")] == ["CVE-1", "CVE-2"]
        text = next(iter(store.affected_versions_of("Acme", "Pump")))[2]
        assert store.decode_versions(text, "CVE-1", "Pump") == entries[1].versions
        names = list(store.affected_names(versions_mentioning="model"))
        assert [(n.vendor, n.product, n.cpe) for n in names] == [
            ("Acme", "Pump", None),
            ("Other", "Hub", "cpe:2.3:a:o:hub:*:*:*:*:*:*:*:*"),
            ("Acme", "Pump", None),
        ]
        assert [n.versions for n in names] == [entries[1].versions, (), ()]
