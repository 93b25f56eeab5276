"""Quality of the loss-scenario classes against labels written from the device physics.

    python benchmarks/scenario_quality.py              # every device with a label file
    python benchmarks/scenario_quality.py --verbose    # list every wrong class and missed label
    python benchmarks/scenario_quality.py --device bgms --device embryo

The labels (benchmarks/scenario_labels/<device>.yaml, issue 11) were written from each
device's physics and clinical workflow before running the generator; their `rules:` text says
how. The few patterns added after a first run say so in their `why`, with the reason. Each file holds `expected` patterns (classes that must be produced), `acceptable` ones
(correct if produced) and `forbidden` ones (physically wrong: wrong sign, wrong controller, a
UCA type the action cannot have). A pattern is a mapping of family, through (the class's
element or any of its members), signal, manipulation, action (control-action name), uca (UCA
type) and controller; a list value means "any of", an omitted key matches anything.

A produced class is correct when it matches an expected or acceptable pattern and no
forbidden one; wrong otherwise (forbidden, or unlabelled). Per device the benchmark runs
``analyze_stpa`` on the example model of the same name and prints the classes, correct,
wrong (forbidden / unlabelled), precision (correct / classes), recall (expected patterns
matched by a correct class / expected patterns) and the analysis time.

Goals (issue 11): precision >= 0.95 and recall >= 0.95 on every device; bgms under 80
classes; analysis of each device under 1 s (median of --repeats runs). A device whose model
is missing or does not load misses its goals. Exit status: 0 every goal met, 1 otherwise.
"""

from __future__ import annotations

import argparse
import gc
import statistics
import sys
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

import mdrisk
from mdrisk.model import load_model
from mdrisk.stpa import analyze_stpa

LABELS_DIR = Path(__file__).resolve().parent / "scenario_labels"
EXAMPLES = Path(mdrisk.__file__).resolve().parent / "examples"

PRECISION_GOAL = 0.95
RECALL_GOAL = 0.95
TIME_GOAL_S = 1.0
CLASS_LIMITS = {"bgms": 80}  # a device listed here must produce fewer classes than this
SHOWN_WHEN_QUIET = 8  # wrong classes / missed patterns listed without --verbose

# The vocabulary of docs/issue 11 (notes/classes-spec.md); the label test checks against it.
PATTERN_KEYS = frozenset(
    {"family", "through", "signal", "manipulation", "action", "uca", "controller", "why"}
)
FAMILIES = frozenset({"feedback", "controller", "ml_model", "control_path"})
MANIPULATIONS = frozenset(
    {
        "raise",
        "lower",
        "freeze",
        "delay",
        "suppress",
        "spoof",
        "replay",
        "tamper",
        "swap",
        "substitute",
        "poison",
        "error",
    }
)
UCA_TYPES = frozenset({"not_provided", "provided_unsafe", "wrong_timing", "wrong_duration"})
SECTIONS = ("expected", "acceptable", "forbidden")

Pattern = Mapping[str, Any]


@dataclass(frozen=True)
class ClassView:
    """The attributes of one produced class that the labels match on."""

    family: str | None
    element: str | None
    through: frozenset[str]  # element and members
    signal: str | None
    manipulation: str | None
    action: str | None
    uca: str | None
    controller: str | None

    def describe(self) -> str:
        return (
            f"{self.family}: {self.signal} {self.manipulation} via {self.element} "
            f"-> {self.action} {self.uca}"
        )


def _field(record: Any, name: str) -> Any:
    """An attribute of a record, or a key of a mapping; None when absent."""
    if isinstance(record, Mapping):
        return record.get(name)
    if isinstance(record, str):
        return None
    return getattr(record, name, None)


def _text(value: Any) -> str | None:
    if value is None:
        return None
    return str(getattr(value, "value", value))  # enums carry their text in .value


def class_view(scenario: Any, result: Any) -> ClassView:
    """Read one loss-scenario record defensively: the one place to adapt to its fields.

    ``uca`` is the id of a record in ``result.ucas`` (or the record itself, or a mapping with
    the action and type); the UCA's ``control_action`` is a control-action id whose ``name``
    is the action name. Records from before issue 11 fall back to their FDI point and ML input.
    """
    ucas = {_field(u, "id"): u for u in _field(result, "ucas") or []}
    actions = {_field(a, "id"): a for a in _field(result, "control_actions") or []}
    uca = _field(scenario, "uca")
    uca_record = ucas.get(uca, uca) if isinstance(uca, str) else uca
    action_ref = _field(uca_record, "control_action") or _field(uca_record, "action")
    action = actions.get(action_ref)
    action_name = _field(action, "name") if action is not None else action_ref
    controller = _field(uca_record, "controller") or _field(action, "controller")

    element = _field(scenario, "element")
    if element is None:  # pre-issue-11 record: the FDI point's element
        points = {_field(p, "id"): p for p in _field(result, "fdi_points") or []}
        element = _field(points.get(_field(scenario, "fdi_point")), "element")
    members = _field(scenario, "members") or _field(scenario, "path") or []
    entries = [element, *(_field(m, "element") or m for m in members)]  # ids or path steps
    through = frozenset(str(entry) for entry in entries if entry is not None)
    return ClassView(
        family=_text(_field(scenario, "family")),
        element=_text(element),
        through=through,
        signal=_text(_field(scenario, "signal") or _field(scenario, "ml_input")),
        manipulation=_text(_field(scenario, "manipulation")),
        action=_text(action_name),
        uca=_text(_field(uca_record, "type")),
        controller=_text(controller),
    )


def _as_set(value: Any) -> frozenset[str]:
    if isinstance(value, list | tuple | set | frozenset):
        return frozenset(str(v) for v in value)
    return frozenset({str(value)})


def matches(pattern: Pattern, view: ClassView) -> bool:
    for key, wanted in pattern.items():
        if key == "why":
            continue
        allowed = _as_set(wanted)
        if key == "through":
            if not allowed & view.through:
                return False
            continue
        if getattr(view, key, None) not in allowed:
            return False
    return True


def first_match(patterns: Iterable[Pattern], view: ClassView) -> Pattern | None:
    return next((p for p in patterns if matches(p, view)), None)


def load_labels(path: Path) -> dict[str, Any]:
    labels = yaml.safe_load(path.read_text(encoding="utf-8"))
    if not isinstance(labels, dict) or not isinstance(labels.get("device"), str):
        raise ValueError(f"{path}: not a label file (no `device:`)")
    for section in SECTIONS:
        labels[section] = labels.get(section) or []
    return labels


@dataclass
class Judgement:
    device: str
    classes: int = 0
    correct: int = 0
    forbidden: list[tuple[ClassView, Pattern]] = field(default_factory=list)
    unlabelled: list[ClassView] = field(default_factory=list)
    missed: list[Pattern] = field(default_factory=list)
    expected: int = 0
    seconds: float = 0.0
    error: str | None = None

    @property
    def precision(self) -> float:
        return self.correct / self.classes if self.classes else 0.0

    @property
    def recall(self) -> float:
        return (self.expected - len(self.missed)) / self.expected if self.expected else 1.0

    @property
    def goals_met(self) -> bool:
        limit = CLASS_LIMITS.get(self.device)
        return (
            self.error is None
            and self.precision >= PRECISION_GOAL
            and self.recall >= RECALL_GOAL
            and self.seconds < TIME_GOAL_S
            and (limit is None or self.classes < limit)
        )


def judge(labels: Mapping[str, Any], views: list[ClassView]) -> Judgement:
    judgement = Judgement(device=labels["device"], classes=len(views))
    labelled = [*labels["expected"], *labels["acceptable"]]
    correct_views = []
    for view in views:
        banned = first_match(labels["forbidden"], view)
        if banned is not None:
            judgement.forbidden.append((view, banned))
        elif first_match(labelled, view) is None:
            judgement.unlabelled.append(view)
        else:
            correct_views.append(view)
    judgement.correct = len(correct_views)
    judgement.expected = len(labels["expected"])
    judgement.missed = [
        p for p in labels["expected"] if not any(matches(p, v) for v in correct_views)
    ]
    return judgement


def analyse(device: str, repeats: int) -> tuple[float, list[ClassView]]:
    model = load_model(EXAMPLES / f"{device}.yaml").model
    times, result = [], None
    for _ in range(repeats):
        gc.collect()
        start = time.perf_counter()
        result = analyze_stpa(model)
        times.append(time.perf_counter() - start)
    views = [class_view(s, result) for s in _field(result, "loss_scenarios") or []]
    return statistics.median(times), views


def evaluate(labels: Mapping[str, Any], repeats: int) -> Judgement:
    try:
        seconds, views = analyse(labels["device"], repeats)
    except Exception as exc:  # a missing or not-yet-valid model is reported, not raised
        failed = Judgement(device=labels["device"], expected=len(labels["expected"]))
        failed.error = f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"
        return failed
    judgement = judge(labels, views)
    judgement.seconds = seconds
    return judgement


def _pattern_text(pattern: Pattern) -> str:
    return ", ".join(f"{k}={v}" for k, v in pattern.items() if k != "why")


def print_table(judgements: list[Judgement]) -> None:
    header = (
        "device",
        "classes",
        "correct",
        "forbidden",
        "unlabelled",
        "precision",
        "recall",
        "time",
        "goals",
    )
    rows = [
        (
            j.device,
            str(j.classes),
            str(j.correct),
            str(len(j.forbidden)),
            str(len(j.unlabelled)),
            f"{j.precision:.3f}",
            f"{j.recall:.3f} ({j.expected - len(j.missed)}/{j.expected})",
            f"{j.seconds * 1000:,.1f} ms" if j.error is None else "-",
            "MET" if j.goals_met else "MISSED",
        )
        for j in judgements
    ]
    widths = [max(len(cell) for cell in column) for column in zip(header, *rows, strict=True)]
    for line in (header, tuple("-" * w for w in widths), *rows):
        print(
            "  ".join(
                f"{cell:<{w}}" if i == 0 else f"{cell:>{w}}"
                for i, (cell, w) in enumerate(zip(line, widths, strict=True))
            )
        )


def print_details(judgement: Judgement, verbose: bool) -> None:
    if judgement.error is not None:
        print(f"\n{judgement.device}: model not analysed ({judgement.error})")
        return
    limit = CLASS_LIMITS.get(judgement.device)
    if limit is not None and judgement.classes >= limit:
        print(f"\n{judgement.device}: {judgement.classes} classes, goal under {limit}")
    sections: list[tuple[str, list[str]]] = [
        (
            "forbidden",
            [f"{v.describe()}  [{p.get('why', _pattern_text(p))}]" for v, p in judgement.forbidden],
        ),
        ("unlabelled", [v.describe() for v in judgement.unlabelled]),
        ("missed expected", [_pattern_text(p) for p in judgement.missed]),
    ]
    for title, lines in sections:
        if not lines:
            continue
        shown = lines if verbose else lines[:SHOWN_WHEN_QUIET]
        print(f"\n{judgement.device}, {title} ({len(lines)}):")
        for line in shown:
            print(f"  - {line}")
        if len(shown) < len(lines):
            print(f"  ... {len(lines) - len(shown)} more (--verbose)")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", action="append", help="only this device (repeatable)")
    parser.add_argument("--repeats", type=int, default=5, help="analysis runs timed per device")
    parser.add_argument("--verbose", action="store_true", help="list every wrong and missed")
    args = parser.parse_args()
    paths = sorted(LABELS_DIR.glob("*.yaml"))
    if args.device:
        paths = [p for p in paths if p.stem in set(args.device)]
    if not paths:
        print("no label files selected", file=sys.stderr)
        return 1
    judgements = [evaluate(load_labels(path), max(1, args.repeats)) for path in paths]
    print("Loss-scenario classes against the physics labels (benchmarks/scenario_labels)")
    print_table(judgements)
    for judgement in judgements:
        print_details(judgement, args.verbose)
    all_met = all(j.goals_met for j in judgements)
    print(
        f"\ngoals: precision >= {PRECISION_GOAL}, recall >= {RECALL_GOAL}, "
        f"analysis < {TIME_GOAL_S:.0f} s, "
        + ", ".join(f"{d} < {n} classes" for d, n in CLASS_LIMITS.items())
        + f": {'met' if all_met else 'MISSED'}"
    )
    return 0 if all_met else 1


if __name__ == "__main__":
    sys.exit(main())
