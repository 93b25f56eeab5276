"""Whole-process speed of the ``mdrisk`` command: start-up, imports, reading, analysis, writing.

    python benchmarks/cli_bench.py              # 5 repetitions each (about a minute)
    python benchmarks/cli_bench.py --repeats 3

Each measurement is a new Python process running this tree's ``mdrisk`` (``src/`` first on
the path), timed from start to exit; the median of the repetitions is printed.

Goals: ``mdrisk --help`` under 0.25 s; ``mdrisk analyze <device> --out DIR`` under 0.5 s for
each reference device in ``src/mdrisk/examples/``. Each analysis is also printed beside the
published tool's 191.64 s per device (ratio: how many times faster), and beside a baseline
measured in the same run: the same command with no data cache, the built-in data files read
by the pure-Python YAML reader and the canonical JSON written by ``json.dumps`` (mdrisk
before the speed work of issue 10, but for parsing the pack once), so runs on slow and fast
machines can be compared; ``--against`` times another source folder (e.g. main's) too. Wall time
is what the user waits; CPU time (user + system) is printed beside it because it moves less
on a machine busy with other work (the speed-up is a ratio of CPU times).

Exit status: 0 every goal met, 1 a goal missed or a command failed.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SRC = ROOT / "src"
EXAMPLES = SRC / "mdrisk" / "examples"
HELP_GOAL_S = 0.25
ANALYZE_GOAL_S = 0.5
PUBLISHED_S = 191.64  # the published tool, per device

RUN = "from mdrisk.cli import main; main()"
# The baseline: no data cache, libyaml switched off, canonical JSON through json.dumps.
BASELINE = (
    "import os; os.environ['MDRISK_DATA_CACHE'] = 'off'\n"
    "import mdrisk.parsing.source as source, mdrisk.report.canonical_json as canonical\n"
    "source._CLoader = None\n"
    "canonical._by_orjson = lambda data: None\n" + RUN
)


def _environment(bytecode: Path, src: Path = SRC) -> dict[str, str]:
    """``src`` first on the path; compiled bytecode kept (in ``bytecode``), as an installed
    mdrisk has it, even where PYTHONDONTWRITEBYTECODE is set."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(src), env.get("PYTHONPATH", "")]))
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env["PYTHONPYCACHEPREFIX"] = str(bytecode)
    env["MDRISK_DATA_CACHE"] = str(bytecode.parent / "data-cache")  # filled by the warm-up
    return env


@dataclass(frozen=True)
class Timing:
    wall: float  # median wall-clock seconds, what the user waits
    cpu: float  # median user + system CPU seconds, less sensitive to a busy machine


def timed(code: str, args: list[str], repeats: int, env: dict[str, str]) -> Timing:
    """Medians of ``python -c code args`` over ``repeats`` runs; SystemExit on failure."""
    walls, cpus = [], []
    for _ in range(repeats):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        start = time.perf_counter()
        done = subprocess.run(
            [sys.executable, "-c", code, *args], env=env, capture_output=True, check=False
        )
        walls.append(time.perf_counter() - start)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpus.append(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)
        if done.returncode != 0:
            raise SystemExit(
                f"failed ({done.returncode}): mdrisk {' '.join(args)}\n{done.stderr.decode()}"
            )
    return Timing(statistics.median(walls), statistics.median(cpus))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument(
        "--against",
        type=Path,
        help="another mdrisk source folder (e.g. a checkout of main's src/) timed alongside",
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="mdrisk-cli-bench-") as scratch:
        return _bench(Path(scratch), args.repeats, args.against)


def _bench(scratch: Path, repeats: int, against: Path | None) -> int:
    env = _environment(scratch / "bytecode")
    other = _environment(scratch / "bytecode-other", against) if against else None
    # Compile the bytecode once, outside the timings.
    warm = ["analyze", str(EXAMPLES / "bgms.yaml"), "--out", str(scratch / "warm")]
    timed(RUN, warm, 1, env)
    if other is not None:
        timed(RUN, warm, 1, other)
    ok = True
    help_run = timed(RUN, ["--help"], repeats, env)
    ok &= help_run.wall < HELP_GOAL_S
    print(
        f"mdrisk --help: {help_run.wall:.3f} s (cpu {help_run.cpu:.3f} s; goal {HELP_GOAL_S} s) "
        f"{_verdict(help_run.wall, HELP_GOAL_S)}"
    )
    print(f"load average before the analyses: {os.getloadavg()[0]:.2f} on {os.cpu_count()} CPUs")
    print()
    header = f"{'device':14} {'analyze':>8} {'cpu':>7} {'goal':>6} {'baseline':>9} {'cpu':>7} "
    header += f"{'speed-up':>8} {'published':>10} {'x faster':>9}  verdict"
    print(header + (f"   {'--against':>9} {'cpu':>7}" if other else ""))
    for path in sorted(EXAMPLES.glob("*.yaml")):
        command = ["analyze", str(path), "--out", str(scratch / path.stem)]
        run = timed(RUN, command, repeats, env)
        baseline = timed(BASELINE, command, repeats, env)
        ok &= run.wall < ANALYZE_GOAL_S
        print(
            f"{path.stem:14} {run.wall:7.3f}s {run.cpu:6.3f}s {ANALYZE_GOAL_S:5.2f}s "
            f"{baseline.wall:8.3f}s {baseline.cpu:6.3f}s {baseline.cpu / run.cpu:7.1f}x "
            f"{PUBLISHED_S:9.2f}s {PUBLISHED_S / run.wall:8.0f}x  "
            f"{_verdict(run.wall, ANALYZE_GOAL_S):7}"
            + (_against(command, repeats, other) if other else "")
        )
    return 0 if ok else 1


def _against(command: list[str], repeats: int, env: dict[str, str]) -> str:
    run = timed(RUN, command, repeats, env)
    return f"   {run.wall:8.3f}s {run.cpu:6.3f}s"


def _verdict(seconds: float, goal: float) -> str:
    return "ok" if seconds < goal else "MISSED"


if __name__ == "__main__":
    sys.exit(main())
