"""Matching quality on the real CSAF advisories: precision >= 0.95 and recall >= 0.90.

The queries and their ground truth are written from the raw CSAF product trees by
benchmarks/csaf_truth.py, independently of mdrisk's importer and matcher (see its docstring).
This runs a third of the advisories (chosen by id) at the CLI's default confidence 0.5; the
full run with timings is ``python benchmarks/kb_bench.py``.
"""

from __future__ import annotations

import sys
from pathlib import Path

BENCHMARKS = Path(__file__).resolve().parent.parent / "benchmarks"
sys.path.insert(0, str(BENCHMARKS))

import csaf_truth  # noqa: E402
import kb_bench  # noqa: E402
import pytest  # noqa: E402


def _a_third(leaf: csaf_truth.Leaf) -> bool:
    return sum(map(ord, leaf.advisory)) % 3 == 0


@pytest.fixture(scope="module")
def judged(shared_data):
    queries, answers, _ = kb_bench.evaluate(shared_data, threshold=0.5, select=_a_third)
    return queries, answers


def test_precision_and_recall_on_queries_from_the_csaf_product_trees(judged):
    queries, answers = judged
    assert len(queries) > 1000, "too few queries to judge"
    kinds = {query.kind for query in queries}
    assert {"affected", "fixed", "no-version"} <= kinds
    assert {query.form for query in queries} == {"fields", "text", "cpe"}
    score = csaf_truth.score(queries, answers)
    wrong = [(q.vendor, q.product, q.text, q.cpe, q.version, cve) for q, cve in score.wrong[:5]]
    missed = [(q.vendor, q.product, q.text, q.cpe, q.version, cve) for q, cve in score.missed[:5]]
    assert score.precision >= kb_bench.GOAL_PRECISION, wrong
    assert score.recall >= kb_bench.GOAL_RECALL, missed


def test_fixed_versions_from_the_advisories_bring_back_none_of_their_cves(judged):
    queries, answers = judged
    fixed = [(q, a) for q, a in zip(queries, answers, strict=True) if q.kind == "fixed"]
    assert fixed
    wrong = [
        (q.product, q.version, sorted(a - q.expected - q.acceptable))
        for q, a in fixed
        if a - q.expected - q.acceptable
    ]
    assert len(wrong) <= 0.02 * len(fixed), wrong[:5]


def test_the_ground_truth_reads_versions_by_its_own_rules():
    assert csaf_truth.contains("<= 2.3.6", "2.3.6") is True
    assert csaf_truth.contains("< 3.0", "3.0") is False
    assert csaf_truth.contains(">= 1.1 | <= 1.3.2", "1.2") is True
    assert csaf_truth.contains("9.13 | 9.19 | 9.33 | 12.1", "9.20") is False
    assert csaf_truth.contains("2.X", "2.4") is True
    assert csaf_truth.contains("<= B.12", "B.11") is None  # its rules cannot tell
    assert csaf_truth.contains("vers:all/*", None) is True
