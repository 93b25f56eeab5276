"""Attacks on the reference devices' own ML models, with and without the STPA constraints.

    python benchmarks/ml_attack_bench.py              # every section (a few minutes on 2 cores)
    python benchmarks/ml_attack_bench.py --examples 5 # fewer cases per attack, faster

Printed, all measured in this process, for each reference device whose ML engine names its
model file (one section each; SECTIONS lists them, so another device, such as the glucose
forecaster, is one more function):

1. the default analysis of the device without the attacks (the baseline every time below is
   divided by: "x analysis");
2. evasion, white-box (ART ProjectedGradientDescent) and black-box (ART HopSkipJump), for each
   reach: unconstrained (every feature, within its declared range), STPA (the features the
   entry point reaches, their ranges), STPA with the released device's detectors, and with
   every declared detector (proposed ones too): per group of entry points with the same
   reach, the success rate of each misclassification, the median perturbation (standard
   deviations), model queries per case and time;
3. poisoning of the field-learning path (label flipping; backdoor with its trigger
   unconstrained, within the STPA reach, within the declared detectors): held-out accuracy
   before and after, success on held-out cases, time;
4. model substitution through the update path, extraction and membership inference through
   the inference API: success, queries, time;
5. the glucose device (bgms), whose forecaster the simulator trains held out from the 30
   patients it is attacked on: benchmarks/glucose_evasion_bench.py (forecaster accuracy,
   evasion with and without the constraints and a declared detector, and the harm in the
   closed loop for 30 patients); --no-glucose skips it.

Exit status 0 when every produced example honoured its constraints, 1 otherwise.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

REACH_LABELS = {
    "unconstrained": "none",
    "stpa": "STPA",
    "released": "STPA+released det.",
    "declared": "STPA+all declared det.",
}


@dataclass
class Totals:
    violations: int = 0


def _timed(function: Callable[[], object]) -> tuple[object, float]:
    started = time.perf_counter()
    result = function()
    return result, time.perf_counter() - started


def _percent(successes: int, examples: int) -> str:
    return f"{100 * successes / examples:5.0f} %" if examples else "    - "


def classifier_section(model_file: Path, examples: int, budget: int, totals: Totals) -> None:
    from mdrisk.mlattack.artifact import load_artifact
    from mdrisk.mlattack.capability import Reach, capability, inference_entries
    from mdrisk.mlattack.evaluation import load_evaluation
    from mdrisk.mlattack.evasion import evade_black_box, evade_white_box
    from mdrisk.mlattack.poisoning import poison
    from mdrisk.mlattack.privacy import extract, infer_membership
    from mdrisk.mlattack.run import AttackSettings, _class_names, _Engine, _update_senders
    from mdrisk.mlattack.tampering import tamper
    from mdrisk.model import load_model
    from mdrisk.pipeline import assess

    loaded_model = load_model(model_file)
    model = loaded_model.model
    # the baseline: the default analysis (best of 3, after one warm-up)
    assess(loaded_model, created="bench")
    baseline = min(_timed(lambda: assess(loaded_model, created="bench"))[1] for _ in range(3))
    assessment = assess(loaded_model, created="bench")
    points = assessment.fdi_points
    print(f"== {model_file.stem}: default analysis {baseline:.3f} s (the baseline)", flush=True)
    for component in model.ml_engines:
        if component.ml is None or component.ml.artifact is None:
            continue
        artifact = component.ml.artifact
        loaded = load_artifact(artifact, model_file.parent)
        data = load_evaluation(artifact, model_file.parent)
        engine = _Engine(component, loaded, data, _class_names(component, loaded, data))
        settings = AttackSettings(examples=examples, budget=budget)
        directions = engine.directions()
        names = [f"{engine.name(a)}->{engine.name(p)}" for a, p, _ in directions]
        cases = {(a, p): _cases(engine, a, settings) for a, p, _ in directions}
        print(
            f"   engine {component.id}: {len(artifact.features)} features, "
            f"{int(data.held_out.sum())} held-out rows, {examples} cases per attack, "
            f"budget {budget} queries per case"
        )
        print("\n   evasion")
        header = (
            f"   {'method':12} {'constraints':22} {'entry points (reach)':44} "
            + " ".join(f"{n:>17}" for n in names)
            + f" {'pert. (sd)':>10} {'queries/case':>12} {'time (s)':>8} {'x analysis':>10}"
        )
        print(header)
        entries = inference_entries(points, component.id)
        for method in ("white-box", "black-box"):
            for reach in Reach:
                groups: dict[tuple, list[str]] = {}
                caps = {}
                for key, reached in entries.items():
                    cap = capability(model, component, key, reached, data.features, reach, budget)
                    signature = (tuple(cap.controlled), tuple(cap.low), tuple(cap.high))
                    groups.setdefault(signature, []).append(key[0])
                    caps[signature] = cap
                    if reach == Reach.unconstrained:
                        break  # one capability: every feature
                for signature, elements in groups.items():
                    cap = caps[signature]
                    cells, perturbations, queries, started = [], [], 0, time.perf_counter()
                    count = 0
                    for (_actual, predicted), clean in cases.items():
                        if method == "white-box":
                            outcome = evade_white_box(
                                loaded, cap, clean, predicted, data.features, budget, 0
                            )
                        else:
                            outcome = evade_black_box(
                                loaded, cap, clean, predicted, data.features, data.labels, budget, 0
                            )
                        assert outcome is not None
                        totals.violations += int(outcome.violated.sum())
                        cells.append(_percent(outcome.successes, outcome.examples))
                        if outcome.perturbation is not None:
                            perturbations.append(outcome.perturbation)
                        queries += outcome.queries
                        count += outcome.examples
                    spent = time.perf_counter() - started
                    signals = "+".join(
                        sorted(
                            {
                                artifact.features[i].signal.removeprefix("nucleus_")
                                for i in np.flatnonzero(cap.controlled)
                            }
                        )
                    )
                    who = (
                        "every feature"
                        if reach == Reach.unconstrained
                        else f"{signals} ({int(cap.controlled.sum())} f., {len(elements)} points)"
                    )
                    pert = f"{np.median(perturbations):10.2f}" if perturbations else f"{'-':>10}"
                    print(
                        f"   {method:12} {REACH_LABELS[reach.value]:22} {who:44} "
                        + " ".join(f"{c:>17}" for c in cells)
                        + f" {pert} {queries / max(count, 1):12.0f} {spent:8.2f}"
                        f" {spent / baseline:10.0f}",
                        flush=True,
                    )
        print("\n   poisoning of the field-learning path (10 % of the retraining set)")
        print(
            f"   {'attack':16} {'trigger constraints':22} {'direction':18} {'held-out acc.':>14}"
            f" {'success':>9} {'violations':>10} {'time (s)':>8} {'x analysis':>10}"
        )
        smallest = None
        for reach in (Reach.unconstrained, Reach.stpa, Reach.declared):
            caps = [
                capability(model, component, key, reached, data.features, reach, budget)
                for key, reached in entries.items()
            ]
            chosen = min(caps, key=lambda c: (int(c.controlled.sum()), c.element))
            if reach == Reach.stpa:
                smallest = chosen.element
            for backdoor in (False, True):
                if not backdoor and reach != Reach.unconstrained:
                    continue
                for actual, predicted, _ in directions:
                    started = time.perf_counter()
                    outcome = poison(
                        loaded.estimator,
                        data,
                        actual,
                        predicted,
                        0.1,
                        0,
                        chosen if backdoor else None,
                    )
                    spent = time.perf_counter() - started
                    totals.violations += outcome.violations
                    label = REACH_LABELS[reach.value] if backdoor else "-"
                    print(
                        f"   {'backdoor' if backdoor else 'label flipping':16} {label:22} "
                        f"{engine.name(actual) + '->' + engine.name(predicted):18} "
                        f"{outcome.clean_accuracy:6.3f}->{outcome.attacked_accuracy:5.3f} "
                        f"{_percent(outcome.successes, outcome.examples):>9} "
                        f"{outcome.violations:10d} {spent:8.2f} {spent / baseline:10.1f}",
                        flush=True,
                    )
        print(f"   (backdoor trigger within STPA: written at {smallest})")
        print("\n   update path and inference API")
        for link_id in _update_senders(model, component):
            shield = next(k for k in model.links if k.id == link_id).channel.protections
            for actual, predicted, _ in directions:
                started = time.perf_counter()
                tampered = tamper(loaded, data, actual, predicted)
                spent = time.perf_counter() - started
                signed = "signed" if shield.integrity and shield.authentication else "unsigned"
                print(
                    f"   substitution via {link_id} ({signed}) {engine.name(actual)}->"
                    f"{engine.name(predicted)}: {_percent(tampered.successes, tampered.examples)} "
                    f"of held-out cases moved, accuracy {tampered.clean_accuracy:.3f}->"
                    f"{tampered.attacked_accuracy:.3f}, {spent:.3f} s"
                )
        started = time.perf_counter()
        stolen = extract(loaded, data, budget, 0)
        spent = time.perf_counter() - started
        print(
            f"   extraction ({budget} queries): copy agrees on "
            f"{_percent(stolen.successes, stolen.examples).strip()} of held-out cases, copy "
            f"accuracy {stolen.accuracy:.3f}, {spent:.2f} s ({spent / baseline:.0f} x analysis)"
        )
        started = time.perf_counter()
        member = infer_membership(loaded, data, 0)
        spent = time.perf_counter() - started
        if member is not None:
            print(
                f"   membership inference: {_percent(member.successes, member.examples).strip()} "
                f"right on balanced members / non-members (50 % is chance), "
                f"{member.queries} queries, {spent:.2f} s ({spent / baseline:.0f} x analysis)"
            )


def _cases(engine, actual: int, settings) -> np.ndarray:
    from mdrisk.mlattack.run import _cases as cases_of

    return cases_of(engine, actual, settings)


def _reference_devices() -> list[Path]:
    from mdrisk.model import load_model

    found = []
    for path in sorted((ROOT / "src" / "mdrisk" / "examples").glob("*.yaml")):
        model = load_model(path).model
        if any(e.ml is not None and e.ml.artifact is not None for e in model.ml_engines):
            found.append(path)
    return found


# One function per kind of device; the glucose forecaster's section is added here.
SECTIONS: list[tuple[str, Callable[[Path, int, int, Totals], None]]] = [
    ("classification", classifier_section),
]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--examples", type=int, default=20, help="cases per attack")
    parser.add_argument("--budget", type=int, default=1000, help="queries per case")
    parser.add_argument(
        "--no-glucose",
        action="store_true",
        help="skip the glucose forecaster's section (benchmarks/glucose_evasion_bench.py: "
        "the held-out gradient-boosted forecaster attacked in the closed loop, 30 patients)",
    )
    args = parser.parse_args()
    import art

    print(f"adversarial-robustness-toolbox {art.__version__}, seed 0", flush=True)
    totals = Totals()
    for path in _reference_devices():
        from mdrisk.model import load_model

        model = load_model(path).model
        for task, section in SECTIONS:
            if any(e.ml is not None and e.ml.task_type == task for e in model.ml_engines):
                section(path, args.examples, args.budget, totals)
    print(f"\nconstraint violations in produced examples: {totals.violations}")
    glucose = 0
    if not args.no_glucose:
        # bgms names no model file: its forecaster is the one the simulator trains, held out
        # from the 30 patients it is attacked on (mdrisk.impact.evasion).
        import glucose_evasion_bench

        print("\n== bgms: the glucose forecaster, attacked in the closed loop ==", flush=True)
        glucose = glucose_evasion_bench.main([])
    return 0 if totals.violations == 0 and glucose == 0 else 1


if __name__ == "__main__":
    raise SystemExit(main())
