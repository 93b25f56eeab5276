"""Does the risk register discriminate? The spread of every reference device's register.

    python benchmarks/register_spread.py            # built-in policy, with and without answers
    python benchmarks/register_spread.py --policy my-policy.yaml

For every reference device (``src/mdrisk/examples``), rated as designed under the policy, once
without analyst answers (open rubric questions at the policy's choice) and once with the
device's answers file when one ships (``examples/answers/<device>-risk-answers.yaml``):

* the risks per level as designed (before the recommended controls);
* the residual acceptability with the controls the policy applies (the built-in policy
  applies every recommended control), and the share that becomes acceptable;
* unacceptable risks that name no recommended control, and ratings without a source.

Goals (issue 12): at least three risk levels as designed on every device; every unacceptable
risk names a recommended control; every severity and exploitability names its source. Exit
status 0 when every goal is met on every device (with answers where they ship), 1 otherwise.
"""

from __future__ import annotations

import argparse
import sys
from collections import Counter
from pathlib import Path

import mdrisk
from mdrisk import bundled
from mdrisk.model import load_model
from mdrisk.pipeline import assess
from mdrisk.risk.answers import load_answers
from mdrisk.risk.matrix import load_matrix

EXAMPLES = Path(mdrisk.__file__).resolve().parent / "examples"
LEVELS = ("low", "medium", "high")


def _row(name: str, answers: Path | None, policy: Path | None) -> tuple[str, bool]:
    rubric = bundled.rubric()
    inputs = bundled.risk_inputs(
        rubric,
        matrix=load_matrix(policy) if policy else None,
        answers=load_answers(answers, rubric.rubric) if answers else None,
    )
    risks = assess(load_model(EXAMPLES / f"{name}.yaml"), created="-", risk=inputs).risks
    levels = Counter(r.level for r in risks)
    after = Counter(r.residual.acceptability for r in risks)
    unacceptable = [r for r in risks if r.acceptability == "unacceptable"]
    bare = [r.id for r in unacceptable if not any(c.kind == "recommended" for c in r.controls)]
    unsourced = [
        r.id
        for r in risks
        if not r.severity.source or not r.severity.basis or not r.exploitability.steps
    ]
    became = sum(
        1
        for r in risks
        if r.acceptability != "acceptable" and r.residual.acceptability == "acceptable"
    )
    spread = len([level for level in LEVELS if levels.get(level)])
    met = spread >= 3 and not bare and not unsourced
    text = (
        f"{name:<13} {'yes' if answers else 'no':<7} {len(risks):>5}  "
        f"{levels.get('low', 0):>4} {levels.get('medium', 0):>6} {levels.get('high', 0):>4}  "
        f"{spread:>6}  {after.get('acceptable', 0):>10} {after.get('ALARP review', 0):>5} "
        f"{after.get('unacceptable', 0):>12}  {became / max(1, len(risks)):>9.0%}  "
        f"{len(bare):>7} {len(unsourced):>9}  {'MET' if met else 'missed'}"
    )
    return text, met


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--policy", type=Path, default=None)
    args = parser.parse_args()
    print(
        "device        answers risks   low medium high  levels  acceptable ALARP "
        "unacceptable  became ok  no ctrl unsourced  goals"
    )
    print("              (as designed)                     (with the controls the policy applies)")
    all_met, met_devices, devices = True, 0, 0
    for model in sorted(EXAMPLES.glob("*.yaml")):
        name = model.stem
        answers = EXAMPLES / "answers" / f"{name}-risk-answers.yaml"
        text, met = _row(name, None, args.policy)
        print(text)
        if answers.exists():
            text, met = _row(name, answers, args.policy)
            print(text)
        all_met &= met
        met_devices += met
        devices += 1
    print(
        "goals (>= 3 levels, a control for every unacceptable risk, sources): met on "
        f"{met_devices} of {devices} devices"
    )
    return 0 if all_met else 1


if __name__ == "__main__":
    sys.exit(main())
