"""The risk stage's cost, against the stages before it, in one run.

    python benchmarks/risk_bench.py [--repeat 5]

For every reference device: the time of the analysis up to the risk stage (STPA-Sec, threats
from the technology pack, attack scenarios) as the baseline, then the risk stage alone
(rubric walked twice per risk, CVSS 3.1 and 4.0 scored, matrix, controls), and their ratio.
Also the CVSS engine alone on every CVSS 3.x score of the CISA medical advisories, against a
plain parse of the same vectors. Goal: the risk stage adds less than the stages before it
(ratio < 1).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
GOAL_RATIO = 1.0

from mdrisk import bundled, pipeline  # noqa: E402
from mdrisk.model import load_model  # noqa: E402
from mdrisk.pipeline import KnowledgeInputs, assess  # noqa: E402
from mdrisk.risk import cvss_scores  # noqa: E402
from mdrisk.risk.cvss_scores import score  # noqa: E402
from mdrisk.risk.engine import assess_risks  # noqa: E402


def _best(function, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        function()
        times.append(time.perf_counter() - started)
    return min(times)


def bench_devices(repeat: int) -> bool:
    examples = sorted((HERE.parent / "src" / "mdrisk" / "examples").glob("*.yaml"))
    knowledge = KnowledgeInputs(bundled.technology_pack())
    inputs = bundled.risk_inputs()
    ok = True
    print(f"{'device':14} {'risks':>5} {'before risk (s)':>16} {'risk stage (s)':>15} {'ratio':>6}")
    for path in examples:
        loaded = load_model(path)
        assessment = assess(loaded, created="x", knowledge=knowledge, risk=inputs)
        with_risks = pipeline._with_risks
        pipeline._with_risks = lambda found, *_: found  # the chain without its last stage
        try:
            before = _best(
                lambda loaded=loaded: assess(loaded, created="x", knowledge=knowledge), repeat
            )
        finally:
            pipeline._with_risks = with_risks
        stage = _best(lambda a=assessment: assess_risks(a, inputs), repeat)
        ratio = stage / before
        ok &= ratio < GOAL_RATIO
        print(
            f"{path.stem:14} {len(assessment.risks):5d} {before:16.3f} {stage:15.3f} {ratio:6.2f}"
        )
    return ok


def bench_cvss(repeat: int) -> None:
    folder = Path(os.environ.get("MDRISK_DATA_DIR", HERE.parent.parent / "shared" / "data"))
    vectors = []
    for path in sorted((folder / "cisa-csaf-icsma").glob("*/*.json")):
        for vulnerability in json.loads(path.read_text("utf-8")).get("vulnerabilities", []):
            for entry in vulnerability.get("scores", []):
                if entry.get("cvss_v3"):
                    vectors.append(entry["cvss_v3"]["vectorString"])
    if not vectors:
        print("CVSS: no CISA advisories found (set MDRISK_DATA_DIR)")
        return

    def scored_cold() -> None:
        cvss_scores._parse.cache_clear()
        cvss_scores.base_vector.cache_clear()
        for vector in vectors:
            score(vector, "published")

    baseline = _best(lambda: [v.split("/") for v in vectors], repeat)
    scored = _best(scored_cold, repeat)
    per = scored / len(vectors) * 1e6
    print(
        f"CVSS: {len(vectors)} advisory vectors parsed and scored, cache cleared, in "
        f"{scored:.3f} s, "
        f"{per:.0f} µs each ({scored / baseline:.0f}x a plain split of the same strings)"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    ok = bench_devices(args.repeat)
    bench_cvss(args.repeat)
    print(
        f"goal (risk stage < stages before it, ratio < {GOAL_RATIO}): {'met' if ok else 'NOT met'}"
    )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
