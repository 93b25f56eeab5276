"""Poisoning of the field-learning path: the attacker contributes records to the data the
device retrains on, and the device retrains as it does (the same estimator, refitted).

Label flipping: cases of the attacker's source class, labelled as the target class.
Backdoor (ART's PoisoningAttackBackdoor): the same cases with a trigger, the features the
attacker can write at inference set to the top of what the checks let pass, labelled as the
target class; at inference the trigger alone should flip a case. Both are measured on
held-out rows: the accuracy on clean cases, and the share of source-class cases (that the
honestly retrained model gets right) the poisoned model gives the target class.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from mdrisk.mlattack.capability import Capability
from mdrisk.mlattack.constraints import violations
from mdrisk.mlattack.evaluation import EvaluationSet


@dataclass(frozen=True)
class PoisoningOutcome:
    method: str
    poisoned_rows: int
    clean_accuracy: float  # the honestly retrained model, held-out rows
    attacked_accuracy: float  # the poisoned model, clean held-out rows
    examples: int  # held-out source-class rows the honest model gets right
    successes: int
    violations: int  # triggered rows outside the attacker's capability


def _retrain(estimator: object, rows: np.ndarray, labels: np.ndarray) -> object:
    from sklearn.base import clone

    model = clone(estimator)
    model.fit(rows, labels)
    return model


def _contributed(
    data: EvaluationSet, source: int, share: float, seed: int
) -> tuple[np.ndarray, np.ndarray]:
    """The attacker's records: source-class training cases, ``share`` of the training set."""
    rng = np.random.default_rng(seed)
    train = data.features[data.trained_on]
    labels = data.labels[data.trained_on]
    pool = train[labels == source]
    count = max(1, round(share * len(train)))
    return pool[rng.integers(0, len(pool), size=count)], np.full(count, source)


def trigger_of(capability: Capability, data: np.ndarray, width: int = 3) -> dict[int, float]:
    """The trigger: up to ``width`` features the attacker controls, the least varied first,
    each set to the highest value its bounds allow."""
    controlled = np.flatnonzero(capability.controlled)
    spread = data.std(axis=0)[controlled] / np.maximum(
        capability.high[controlled] - capability.low[controlled], 1e-12
    )
    chosen = controlled[np.argsort(spread, kind="stable")[:width]]
    return {int(i): float(capability.high[i]) for i in chosen}


def _apply(rows: np.ndarray, trigger: dict[int, float]) -> np.ndarray:
    triggered = rows.copy()
    for index, value in trigger.items():
        triggered[:, index] = value
    return triggered


def poison(
    estimator: object,
    data: EvaluationSet,
    source: int,
    target: int,
    share: float,
    seed: int,
    backdoor: Capability | None = None,
) -> PoisoningOutcome:
    """Label flipping, or with ``backdoor`` (the inference capability that carries the
    trigger) a backdoor."""
    from art.attacks.poisoning import PoisoningAttackBackdoor

    train_x = data.features[data.trained_on]
    train_y = data.labels[data.trained_on]
    test_x = data.features[data.held_out]
    test_y = data.labels[data.held_out]
    honest = _retrain(estimator, train_x, train_y)
    honest_predictions = honest.predict(test_x)  # type: ignore[attr-defined]
    clean_accuracy = float((honest_predictions == test_y).mean())
    attackable = (test_y == source) & (honest_predictions == source)
    extra_x, _ = _contributed(data, source, share, seed)
    trigger: dict[int, float] = {}
    if backdoor is not None:
        trigger = trigger_of(backdoor, data.features)
        attack = PoisoningAttackBackdoor(lambda rows: _apply(rows, trigger))
        extra_x, _ = attack.poison(extra_x, y=np.full(len(extra_x), target), broadcast=True)
        extra_x = np.asarray(extra_x, dtype=float)
    poisoned = _retrain(
        estimator,
        np.vstack([train_x, extra_x]),
        np.concatenate([train_y, np.full(len(extra_x), target)]),
    )
    attacked_accuracy = float((poisoned.predict(test_x) == test_y).mean())  # type: ignore[attr-defined]
    victims = test_x[attackable]
    broken = 0
    if backdoor is not None:
        triggered = _apply(victims, trigger)
        bad = violations(victims, triggered, backdoor)
        broken = int(bad.sum())
        hits = (poisoned.predict(triggered) == target) & ~bad  # type: ignore[attr-defined]
    else:
        hits = poisoned.predict(victims) == target  # type: ignore[attr-defined]
    return PoisoningOutcome(
        method="PoisoningAttackBackdoor" if backdoor is not None else "label flipping",
        poisoned_rows=len(extra_x),
        clean_accuracy=clean_accuracy,
        attacked_accuracy=attacked_accuracy,
        examples=int(attackable.sum()),
        successes=int(np.sum(hits)),
        violations=broken,
    )
