"""Speed and memory of the analysis against its goals, in one command.

    python benchmarks/run.py            # full run (about a minute)
    python benchmarks/run.py --quick    # smaller generated model, fewer repeats

Goals (from the issue):
  * each reference device in src/mdrisk/examples/: load + analyse in under 1 s;
  * a generated model of 1,000 components and 3,000 links: analyse (``assess`` of the loaded
    model) in under 10 s, with memory bounded (peak traced allocation during the analysis
    under 512 MiB); its generation, YAML load and load + analyse are printed alongside.

Every time is also printed as a ratio to a yardstick measured in the same process: parsing
the same YAML text with PyYAML's ``yaml.safe_load``. The ratio says how the analysis compares
with plain parsing on this machine, so runs on slow and fast machines can be compared. A
scaling check analyses generated models of 1x, 2x and 4x the size and prints the growth
(information, not a goal).

Exit status: 0 every goal met, 1 a goal missed (or a reference device failed to load).
"""

from __future__ import annotations

import argparse
import gc
import math
import resource
import statistics
import sys
import time
import tracemalloc
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

import mdrisk
from mdrisk.errors import InputError
from mdrisk.model import load_model_text
from mdrisk.model.generate import generate_model, model_to_yaml
from mdrisk.pipeline import assess
from mdrisk.stpa import analyze_stpa

EXAMPLES = Path(mdrisk.__file__).resolve().parent / "examples"
REFERENCE_GOAL_S = 1.0
GENERATED_GOAL_S = 10.0
MEMORY_GOAL_MIB = 512.0
CREATED = "2026-01-01T00:00:00Z"


@dataclass
class Row:
    name: str
    measured: str
    goal: str
    ratio: str
    verdict: str


def median_time(action: Callable[[], Any], repeats: int) -> tuple[float, Any]:
    """Median wall time of ``action`` over ``repeats`` runs, and the last result."""
    times = []
    result = None
    for _ in range(repeats):
        gc.collect()
        start = time.perf_counter()
        result = action()
        times.append(time.perf_counter() - start)
    return statistics.median(times), result


def peak_traced(action: Callable[[], Any]) -> tuple[float, Any]:
    """Peak memory allocated by Python during ``action``, in MiB (tracemalloc)."""
    gc.collect()
    tracemalloc.start()
    try:
        result = action()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return peak / 2**20, result


def peak_rss_mib() -> float:
    # ru_maxrss is in KiB on Linux, in bytes on macOS.
    usage = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return usage / 2**20 if sys.platform == "darwin" else usage / 2**10


def ms(seconds: float) -> str:
    return f"{seconds * 1000:,.1f} ms"


def print_table(
    title: str, header: tuple[str, ...], rows: list[tuple[str, ...]], left: int = 1
) -> None:
    """A plain-text table; the first ``left`` columns are left-aligned, the rest right."""
    widths = [max(len(cell) for cell in column) for column in zip(header, *rows, strict=True)]

    def render(cells: tuple[str, ...]) -> str:
        return "  ".join(
            f"{cell:<{width}}" if i < left else f"{cell:>{width}}"
            for i, (cell, width) in enumerate(zip(cells, widths, strict=True))
        )

    print(f"\n{title}")
    print(render(header).rstrip())
    print("  ".join("-" * width for width in widths))
    for row in rows:
        print(render(row).rstrip())


def verdict(ok: bool) -> str:
    return "PASS" if ok else "MISS"


def bench_references(repeats: int) -> tuple[list[tuple[str, ...]], bool]:
    rows: list[tuple[str, ...]] = []
    all_ok = True
    paths = sorted(EXAMPLES.glob("*.yaml"))
    if not paths:
        print(f"no reference devices found in {EXAMPLES}")
        return rows, False
    for path in paths:
        text = path.read_text(encoding="utf-8")
        try:
            load_s, loaded = median_time(lambda t=text, p=path: load_model_text(t, str(p)), repeats)
        except InputError as error:
            rows.append((path.stem, "load failed", "-", "-", "-", "-", "ERROR"))
            print(f"{path.name}: {error}", file=sys.stderr)
            all_ok = False
            continue
        analysis_s, assessment = median_time(lambda lm=loaded: assess(lm, created=CREATED), repeats)
        parse_s, _ = median_time(lambda t=text: yaml.safe_load(t), repeats)
        total = load_s + analysis_s
        ok = total < REFERENCE_GOAL_S
        all_ok &= ok
        rows.append(
            (
                path.stem,
                ms(load_s),
                ms(analysis_s),
                ms(total),
                f"{total / parse_s:.1f}x",
                f"{len(assessment.fdi_points)} / {len(assessment.loss_scenarios)}",
                verdict(ok),
            )
        )
    return rows, all_ok


def bench_generated(components: int, links: int, repeats: int) -> tuple[list[Row], bool, float]:
    """Generate, dump, load and analyse one large model. Returns rows, goals met, analysis s."""
    generate_s, model = median_time(lambda: generate_model(components, links), 1)
    dump_s, text = median_time(lambda: model_to_yaml(model), 1)
    parse_s, _ = median_time(lambda: yaml.safe_load(text), repeats)
    load_s, loaded = median_time(lambda: load_model_text(text, "generated.yaml"), repeats)
    analysis_s, assessment = median_time(lambda: assess(loaded, created=CREATED), repeats)
    counted = (
        len(assessment.control_actions),
        len(assessment.ucas),
        len(assessment.fdi_points),
        len(assessment.loss_scenarios),
        sum(len(s.members) for s in assessment.loss_scenarios),
    )
    del assessment
    parse_mib, _ = peak_traced(lambda: yaml.safe_load(text))
    analysis_mib, _ = peak_traced(lambda: assess(loaded, created=CREATED))
    total = load_s + analysis_s
    time_ok = analysis_s < GENERATED_GOAL_S
    memory_ok = analysis_mib < MEMORY_GOAL_MIB
    engines = len(loaded.model.ml_engines)
    rows = [
        Row(
            "model", f"{components:,} components, {links:,} links, {engines} ML engines", "", "", ""
        ),
        Row("YAML text", f"{len(text) / 2**20:,.2f} MiB", "", "", ""),
        Row("generate", ms(generate_s), "", "", ""),
        Row("dump to YAML", ms(dump_s), "", "", ""),
        Row("yaml.safe_load (yardstick)", ms(parse_s), "", "1.0x", ""),
        Row("load (parse + validate)", ms(load_s), "", f"{load_s / parse_s:.2f}x", ""),
        Row(
            "analyse (assess)",
            ms(analysis_s),
            f"< {GENERATED_GOAL_S:.0f} s",
            f"{analysis_s / parse_s:.2f}x",
            verdict(time_ok),
        ),
        Row("load + analyse", ms(total), "", f"{total / parse_s:.2f}x", ""),
        Row("control actions / UCAs", f"{counted[0]:,} / {counted[1]:,}", "", "", ""),
        Row("FDI points", f"{counted[2]:,}", "", "", ""),
        Row("loss-scenario classes / members", f"{counted[3]:,} / {counted[4]:,}", "", "", ""),
        Row("peak traced memory, safe_load", f"{parse_mib:,.1f} MiB", "", "1.0x", ""),
        Row(
            "peak traced memory, analyse",
            f"{analysis_mib:,.1f} MiB",
            f"< {MEMORY_GOAL_MIB:.0f} MiB",
            f"{analysis_mib / parse_mib:.2f}x",
            verdict(memory_ok),
        ),
        Row("peak RSS of this process", f"{peak_rss_mib():,.1f} MiB", "", "", ""),
    ]
    return rows, time_ok and memory_ok, analysis_s


def bench_scaling(sizes: list[int], repeats: int, known: dict[int, float]) -> list[tuple[str, ...]]:
    """Analysis time of generated models of growing size (3 links per component): the whole
    analysis, and the STPA stage alone."""
    times: dict[int, float] = {}
    graph_times: dict[int, float] = {}
    counts: dict[int, tuple[int, int]] = {}
    for size in sizes:
        model = generate_model(size, 3 * size)
        counts[size] = (len(model.ml_engines), len(model.links))
        graph_times[size], _ = median_time(lambda m=model: analyze_stpa(m), repeats)
        if size in known:
            times[size] = known[size]
            continue
        loaded = load_model_text(model_to_yaml(model), "scale.yaml")
        times[size], _ = median_time(lambda lm=loaded: assess(lm, created=CREATED), repeats)
    base = sizes[0]

    def growth(series: dict[int, float], size: int) -> tuple[str, str]:
        ratio = series[size] / series[base]
        if size == base:
            return f"{ratio:.2f}x", "-"
        return f"{ratio:.2f}x", f"{math.log(ratio) / math.log(size / base):.2f}"

    rows = []
    for size in sizes:
        rows.append(
            (
                f"{size:,} / {counts[size][1]:,}",
                f"{counts[size][0]}",
                f"{size / base:.0f}x",
                ms(times[size]),
                *growth(times, size),
                ms(graph_times[size]),
                *growth(graph_times, size),
            )
        )
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument(
        "--quick",
        action="store_true",
        help="250-component generated model, scaling to 500, fewer repeats",
    )
    args = parser.parse_args(argv)
    repeats = 3 if args.quick else 5
    big_repeats = 1 if args.quick else 3
    components = 250 if args.quick else 1000
    scaling = [125, 250, 500] if args.quick else [250, 500, 1000]

    print(
        f"mdrisk {mdrisk.__version__} benchmark, Python {sys.version.split()[0]}, "
        f"PyYAML {yaml.__version__}{' (quick)' if args.quick else ''}"
    )
    print(
        "yardstick: yaml.safe_load of the same YAML text, timed in this process; "
        "ratio = time / yardstick"
    )

    reference_rows, reference_ok = bench_references(repeats)
    print_table(
        f"Reference devices (median of {repeats}; goal: load + analyse "
        f"< {REFERENCE_GOAL_S:.0f} s each)",
        ("device", "load", "analyse", "load+analyse", "vs safe_load", "FDI / scenarios", "goal"),
        reference_rows,
    )

    generated_rows, generated_ok, analysis_s = bench_generated(
        components, 3 * components, big_repeats
    )
    print_table(
        f"Generated model (median of {big_repeats}, seed 0)",
        ("measure", "value", "goal", "vs yardstick", ""),
        [(r.name, r.measured, r.goal, r.ratio, r.verdict) for r in generated_rows],
        left=2,
    )

    scaling_rows = bench_scaling(scaling, big_repeats, {components: analysis_s})
    print_table(
        f"Scaling (median of {big_repeats}; ML engines grow with the model, 1 per 50 "
        "components; k: time ~ size^k, 1 = linear)",
        (
            "components / links",
            "engines",
            "size",
            "analyse",
            "growth",
            "k",
            "graph work",
            "growth",
            "k",
        ),
        scaling_rows,
    )
    print(
        "analyse: assess(), every stage (attack scenarios and risks included); graph work: "
        "analyze_stpa(), the STPA stage alone (loss-scenario classes included)"
    )

    ok = reference_ok and generated_ok
    print(f"\n{'all goals met' if ok else 'GOAL MISSED'}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
