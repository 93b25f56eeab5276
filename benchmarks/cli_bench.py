"""Whole-process speed of the ``mdrisk`` command: start-up, imports, reading, analysis, writing.

    python benchmarks/cli_bench.py              # 5 repetitions each (about a minute)
    python benchmarks/cli_bench.py --repeats 3

Each measurement is a new Python process running this tree's ``mdrisk`` (``src/`` first on
the path), timed from start to exit; the median of the repetitions is printed.

Goals: ``mdrisk --help`` under 0.25 s; ``mdrisk analyze <device> --out DIR`` under 0.5 s for
each reference device in ``src/mdrisk/examples/``. Each analysis is also printed beside the
published tool's 191.64 s per device (ratio: how many times faster), and beside a baseline
measured in the same run: the same command with the built-in data files read by the
pure-Python YAML reader and the canonical JSON written by ``json.dumps`` (mdrisk before
the speed work of issue 10), so runs on slow and fast machines can be compared.

Exit status: 0 every goal met, 1 a goal missed or a command failed.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SRC = ROOT / "src"
EXAMPLES = SRC / "mdrisk" / "examples"
HELP_GOAL_S = 0.25
ANALYZE_GOAL_S = 0.5
PUBLISHED_S = 191.64  # the published tool, per device

RUN = "from mdrisk.cli import main; main()"
# The baseline: libyaml switched off and canonical JSON through json.dumps.
BASELINE = (
    "import mdrisk.parsing.source as source, mdrisk.report.canonical_json as canonical\n"
    "source._CLoader = None\n"
    "def _plain(value):\n"
    "    raise canonical._NotPlain\n"
    "canonical._sorted = _plain\n" + RUN
)


def _environment() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(SRC), env.get("PYTHONPATH", "")]))
    return env


def timed(code: str, args: list[str], repeats: int) -> float:
    """Median wall time of ``python -c code args`` over ``repeats`` runs; SystemExit on failure."""
    env = _environment()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        done = subprocess.run(
            [sys.executable, "-c", code, *args], env=env, capture_output=True, check=False
        )
        times.append(time.perf_counter() - start)
        if done.returncode != 0:
            raise SystemExit(
                f"failed ({done.returncode}): mdrisk {' '.join(args)}\n{done.stderr.decode()}"
            )
    return statistics.median(times)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    timed(RUN, ["--help"], 1)  # compile this tree's bytecode once, outside the timings

    ok = True
    help_s = timed(RUN, ["--help"], args.repeats)
    ok &= help_s < HELP_GOAL_S
    print(f"mdrisk --help: {help_s:.3f} s (goal {HELP_GOAL_S} s) {_verdict(help_s, HELP_GOAL_S)}")
    print()
    header = f"{'device':14} {'analyze':>8} {'goal':>6} {'baseline':>9} {'speed-up':>8} "
    print(header + f"{'published':>10} {'x faster':>9}  verdict")
    with tempfile.TemporaryDirectory(prefix="mdrisk-cli-bench-") as scratch:
        for path in sorted(EXAMPLES.glob("*.yaml")):
            command = ["analyze", str(path), "--out", str(Path(scratch) / path.stem)]
            seconds = timed(RUN, command, args.repeats)
            baseline = timed(BASELINE, command, args.repeats)
            ok &= seconds < ANALYZE_GOAL_S
            print(
                f"{path.stem:14} {seconds:7.3f}s {ANALYZE_GOAL_S:5.2f}s {baseline:8.3f}s "
                f"{baseline / seconds:7.1f}x {PUBLISHED_S:9.2f}s {PUBLISHED_S / seconds:8.0f}x  "
                f"{_verdict(seconds, ANALYZE_GOAL_S)}"
            )
    return 0 if ok else 1


def _verdict(seconds: float, goal: float) -> str:
    return "ok" if seconds < goal else "MISSED"


if __name__ == "__main__":
    sys.exit(main())
