"""The document-intake benchmark: precision and recall of `mdrisk extract` on the annotated
corpus, time per document against a naive keyword scan run in the same process, and the
injected-document cases.

    python benchmarks/extract_bench.py [--repeat 5]

Scores (name, version) pairs against tests/corpus/documents/annotations (development set,
which the lexicon was tuned on) and heldout/annotations (written after the lexicon was frozen;
see heldout/README.md for its first, blind score). Goals: precision 1.0, recall >= 0.95.
The baseline finds every lexicon name anywhere in the raw text: no sentences, no negation,
no versions; its scores show what the cue handling buys.
"""

from __future__ import annotations

import argparse
import re
import statistics
import sys
import time
from pathlib import Path

import yaml

from mdrisk import bundled
from mdrisk.intake.draft import draft_model
from mdrisk.intake.evaluate import annotated_corpus, overall, score
from mdrisk.intake.extract import extract_files
from mdrisk.intake.readers import read_document
from mdrisk.pipeline import assess

CORPUS = Path(__file__).resolve().parent.parent / "tests" / "corpus" / "documents"
PRECISION_GOAL, RECALL_GOAL = 1.0, 0.95


def naive_scan(path: Path) -> set[tuple[str, None]]:
    """Every lexicon name found anywhere in the document's text, as a plain keyword search."""
    lexicon = bundled.technology_lexicon()
    text = "\n".join(block.text for block in read_document(path).blocks)
    found = set()
    for entry in lexicon.data.technologies:
        for alias in entry.aliases:
            if re.search(rf"(?<!\w){re.escape(alias)}(?!\w)", text, re.IGNORECASE):
                found.add((entry.name, None))
        for abbreviation in entry.abbreviations:
            if re.search(rf"(?<!\w){re.escape(abbreviation)}(?!\w)", text):
                found.add((entry.name, None))
    return found


def _timed(function, repeat: int) -> tuple[float, object]:
    times, result = [], None
    for _ in range(repeat):
        start = time.perf_counter()
        result = function()
        times.append(time.perf_counter() - start)
    return statistics.median(times), result


def _names(pairs: frozenset) -> frozenset:
    return frozenset(name for name, _ in pairs)


def run_split(label: str, folder: Path, repeat: int) -> tuple[list, list, list]:
    print(f"\n== {label}: {folder.relative_to(CORPUS.parent.parent.parent)}")
    print(
        f"{'document':42} {'P':>5} {'R':>5} {'base P':>6} {'base R':>6} "
        f"{'ms':>7} {'base ms':>7} {'ratio':>6} {'draft ms':>8}"
    )
    scores, baseline_scores, ratios = [], [], []
    lexicon = bundled.technology_lexicon()
    for path, annotation in annotated_corpus(folder):
        seconds, reading = _timed(lambda p=path: extract_files([p], lexicon), repeat)
        base_seconds, naive = _timed(lambda p=path: naive_scan(p), repeat)
        draft_seconds, _ = _timed(
            lambda r=reading: assess(draft_model(r, lexicon).loaded, created="x"), repeat
        )
        result = score(path.name, annotation, reading.extraction.pairs())
        scores.append(result)
        base = score(path.name, annotation, naive)
        # The baseline writes no versions: score it on names only, the most it can get right.
        base_names = (_names(base.found), _names(base.expected))
        base_p = len(base_names[0] & base_names[1]) / len(base_names[0]) if base_names[0] else 1
        base_r = len(base_names[0] & base_names[1]) / len(base_names[1]) if base_names[1] else 1
        baseline_scores.append((base_p, base_r))
        ratios.append(seconds / base_seconds)
        print(
            f"{path.name:42} {result.precision:5.2f} {result.recall:5.2f} {base_p:6.2f} "
            f"{base_r:6.2f} {seconds * 1000:7.1f} {base_seconds * 1000:7.1f} "
            f"{seconds / base_seconds:6.1f} {draft_seconds * 1000:8.1f}"
        )
        for pair in sorted(result.false_positives, key=str):
            print(f"{'':4}false positive: {pair}")
        for pair in sorted(result.false_negatives, key=str):
            print(f"{'':4}missed: {pair}")
    precision, recall, tp, fp, fn = overall(scores)
    print(
        f"{label} overall: precision {precision:.3f}, recall {recall:.3f} "
        f"({tp} true positives, {fp} false positives, {fn} missed, {len(scores)} documents)"
    )
    return scores, baseline_scores, ratios


def run_injected(repeat: int) -> bool:
    folder = CORPUS / "injected"
    cases = yaml.safe_load((folder / "cases.yaml").read_text("utf-8"))["cases"]
    print(
        f"\n== injected documents: {len(cases)} cases (extraction must equal the clean twin's "
        "plus the declared additions)"
    )
    same = 0
    lexicon = bundled.technology_lexicon()
    for case in cases:
        injected = extract_files([folder / case["document"]], lexicon).extraction
        twin = extract_files([CORPUS / case["twin"]], lexicon).extraction
        adds = {(item["name"], item.get("version")) for item in case["adds"]}
        ok = injected.pairs() == twin.pairs() | adds
        same += ok
        print(
            f"{case['document']:28} {'same as twin' if ok else 'DIFFERENT'}"
            f"{' + ' + str(sorted(adds)) if adds else ''}  ({case['technique']})"
        )
    print(f"injected: {same}/{len(cases)} extractions equal their twin's (plus additions)")
    return same == len(cases)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=5, help="runs per timing (median)")
    args = parser.parse_args()
    dev, dev_base, dev_ratios = run_split("development", CORPUS, args.repeat)
    held, held_base, held_ratios = run_split("held-out", CORPUS / "heldout", args.repeat)
    precision, recall, tp, fp, fn = overall(dev + held)
    base_p = statistics.mean(p for p, _ in dev_base + held_base)
    base_r = statistics.mean(r for _, r in dev_base + held_base)
    ratios = dev_ratios + held_ratios
    injected_ok = run_injected(args.repeat)
    print("\n== summary")
    print(
        f"all {len(dev) + len(held)} documents: precision {precision:.3f} (goal "
        f"{PRECISION_GOAL}), recall {recall:.3f} (goal >= {RECALL_GOAL}); "
        f"{tp} true positives, {fp} false positives, {fn} missed"
    )
    print(
        f"naive keyword scan (names only, mean per document): precision {base_p:.3f}, "
        f"recall {base_r:.3f}"
    )
    print(
        f"time per document: median {statistics.median(ratios):.1f}x the naive scan "
        f"(range {min(ratios):.1f}x-{max(ratios):.1f}x)"
    )
    met = precision >= PRECISION_GOAL and recall >= RECALL_GOAL and injected_ok
    print("goals met" if met else "GOALS NOT MET")
    return 0 if met else 1


if __name__ == "__main__":
    sys.exit(main())
