"""Speed of attack-scenario generation on every reference device, without an LLM.

    python benchmarks/scenarios_bench.py            # 7 repeats per device
    python benchmarks/scenarios_bench.py --repeats 3

Goal (issue 5): scenarios for each reference device in under 1 s. Measured per device, in
one process:

* STPA: ``analyze_stpa`` on the loaded model (the yardstick: every ratio is against it);
* scenarios (--kb): ``rank_scenarios`` on an assessment that carries the pack's threats;
* scenarios (no kb): the same on an assessment without threats, so the generator attaches
  the pack itself (what ``mdrisk analyze`` without --kb does);
* cold: the first generation in the process, loading the technology pack, the attacker
  profiles and the scenario rules (the goal applies to this one too).

Times are medians over the repeats. Exit status: 0 every device under the goal, 1 otherwise.
"""

from __future__ import annotations

import argparse
import gc
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import mdrisk
from mdrisk import bundled
from mdrisk.model import load_model
from mdrisk.pipeline import KnowledgeInputs, assess
from mdrisk.scenarios.generate import rank_scenarios
from mdrisk.stpa import analyze_stpa

EXAMPLES = Path(mdrisk.__file__).resolve().parent / "examples"
GOAL_S = 1.0
CREATED = "2026-01-01T00:00:00Z"


def median_time(action: Callable[[], Any], repeats: int) -> tuple[float, Any]:
    times, result = [], None
    for _ in range(repeats):
        gc.collect()
        start = time.perf_counter()
        result = action()
        times.append(time.perf_counter() - start)
    return statistics.median(times), result


def cold_time(action: Callable[[], Any]) -> float:
    """One run after dropping the cached pack, profiles and rules (read again by the run)."""
    for cached in (
        bundled.document,
        bundled.technology_pack,
        bundled.attacker_profiles,
        bundled.scenario_rules,
    ):
        cached.cache_clear()
    gc.collect()
    start = time.perf_counter()
    action()
    return time.perf_counter() - start


def _rank(assessment: Any) -> tuple[list, int]:
    """The scenario stage with the built-in data, as the pipeline runs it."""
    return rank_scenarios(
        assessment,
        bundled.technology_pack().pack,
        profiles=bundled.attacker_profiles(),
        rules=bundled.scenario_rules(),
    )


def ms(seconds: float) -> str:
    return f"{seconds * 1000:,.1f} ms"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=7)
    args = parser.parse_args()
    knowledge = KnowledgeInputs(bundled.technology_pack())
    header = (
        "device",
        "STPA",
        "scenarios --kb",
        "ratio",
        "scenarios no kb",
        "ratio",
        "cold",
        "scenarios",
        "kept/ranked",
        "goal < 1 s",
    )
    rows: list[tuple[str, ...]] = []
    all_ok = True
    for path in sorted(EXAMPLES.glob("*.yaml")):
        loaded = load_model(path)
        stpa_s, _ = median_time(lambda m=loaded.model: analyze_stpa(m), args.repeats)
        with_kb = assess(loaded, created=CREATED, knowledge=knowledge).model_copy(
            update={"scenarios": []}
        )
        without_kb = with_kb.model_copy(update={"threats": [], "scenarios": []})
        cold_s = cold_time(lambda a=with_kb: _rank(a))
        kb_s, (kept, dropped) = median_time(lambda a=with_kb: _rank(a), args.repeats)
        plain_s, _ = median_time(lambda a=without_kb: _rank(a), args.repeats)
        worst = max(cold_s, kb_s, plain_s)
        ok = worst < GOAL_S
        all_ok &= ok
        rows.append(
            (
                path.stem,
                ms(stpa_s),
                ms(kb_s),
                f"{kb_s / stpa_s:.2f}x",
                ms(plain_s),
                f"{plain_s / stpa_s:.2f}x",
                ms(cold_s),
                str(len(kept)),
                f"{len(kept)}/{len(kept) + dropped}",
                "PASS" if ok else "MISS",
            )
        )
    widths = [max(len(cell) for cell in column) for column in zip(header, *rows, strict=True)]
    print("Attack-scenario generation, no LLM (ratio: scenario time / STPA time, same process)")
    for line in (header, tuple("-" * w for w in widths), *rows):
        print(
            "  ".join(
                f"{cell:<{w}}" if i == 0 else f"{cell:>{w}}"
                for i, (cell, w) in enumerate(zip(line, widths, strict=True))
            )
        )
    print(
        f"\ngoal: every device under {GOAL_S:.0f} s (cold included): "
        f"{'met' if all_ok else 'MISSED'}"
    )
    return 0 if all_ok else 1


if __name__ == "__main__":
    sys.exit(main())
