"""The catalogue shrink guard covers EPSS score files and the relations of a catalogue, not
only its records: a cut EPSS download or a release that lost its weakness hierarchy is refused
unless --replace."""

from __future__ import annotations

from pathlib import Path

import pytest

from mdrisk.kb.catalogue_guard import ShrinkGuard
from mdrisk.kb.importing import ImportRefused, import_paths
from mdrisk.kb.records import WEAKNESS, ImportBatch, Record, Relation
from mdrisk.kb.store import ParsedFile, Store

HEADER = "#model_version:v2023.03.01,score_date:2024-05-01T00:00:00+0000\ncve,epss,percentile\n"


def _epss(folder: Path, name: str, rows: int) -> Path:
    path = folder / name
    lines = [f"CVE-2024-{1000 + n},0.0{n % 9 + 1},0.{n % 9 + 1}" for n in range(rows)]
    path.write_text(HEADER + "\n".join(lines) + "\n")
    return path


def test_a_cut_epss_file_is_refused_and_taken_with_replace(tmp_path):
    store = Store.open(tmp_path / "kb.sqlite")
    import_paths(store, [_epss(tmp_path, "epss_scores-2024-05-01.csv", 40)])
    cut = _epss(tmp_path, "epss_scores-2024-05-02.csv", 3)
    with pytest.raises(ImportRefused) as refused:
        import_paths(store, [cut])
    assert "holds 3 epss record(s) where the knowledge base holds 40" in str(refused.value)
    assert store.counts()["epss"] == 40
    import_paths(store, [cut], replace=True)
    assert store.counts()["epss"] == 3


def _cwe(relations: list[tuple[str, str]]) -> ImportBatch:
    records = [Record(WEAKNESS, f"CWE-{n}", {"name": f"w{n}"}) for n in range(1, 6)]
    return ImportBatch(
        "cwe", "mitre-cwe", records, relations=[Relation(a, "child_of", b) for a, b in relations]
    )


def test_a_release_that_drops_relations_is_refused_naming_them(tmp_path):
    store = Store.open(tmp_path / "kb.sqlite")
    whole = _cwe([("CWE-2", "CWE-1"), ("CWE-3", "CWE-1"), ("CWE-4", "CWE-2")])
    store.write([ParsedFile(tmp_path / "cwe.xml", "cwe", "1" * 64, [whole])])
    guard = ShrinkGuard(store)
    problems = guard.problems(_cwe([("CWE-2", "CWE-1")]), "cwe-cut.xml")
    assert [p.message for p in problems] == [
        "holds 1 child_of relation(s) where the knowledge base holds 3 (from cwe.xml): "
        "importing it would drop 2 (CWE-3 -> CWE-1, CWE-4 -> CWE-2)"
    ]
    grown = _cwe([("CWE-2", "CWE-1"), ("CWE-3", "CWE-1"), ("CWE-5", "CWE-4"), ("CWE-4", "CWE-2")])
    assert ShrinkGuard(store).problems(grown, "cwe-next.xml") == []
