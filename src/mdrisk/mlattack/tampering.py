"""Model substitution through an unsigned update path: the attacker ships a model of their
own making that the device loads. The tampered model measured here is the device's own with
its decision threshold moved towards the target class as far as it can go while the
held-out accuracy drops by at most ``MAX_ACCURACY_DROP`` (a change that validation on the
site's own cases would not notice); the success is the share of held-out source-class cases
it moves to the target class."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from mdrisk.mlattack.artifact import LoadedArtifact
from mdrisk.mlattack.evaluation import EvaluationSet

MAX_ACCURACY_DROP = 0.05


@dataclass(frozen=True)
class TamperingOutcome:
    threshold: float  # the target-class probability above which the tampered model says target
    clean_accuracy: float
    attacked_accuracy: float
    examples: int
    successes: int
    queries: int


def tamper(
    model: LoadedArtifact, data: EvaluationSet, source: int, target: int
) -> TamperingOutcome:
    rows = data.features[data.held_out]
    labels = data.labels[data.held_out]
    probabilities = model.predict_proba(rows)
    honest = np.argmax(probabilities, axis=1)
    clean_accuracy = float((honest == labels).mean())
    target_score = probabilities[:, target]
    best = (0.5, clean_accuracy)
    for threshold in np.unique(np.concatenate([target_score, [0.5]]))[::-1]:
        tampered = np.where(target_score >= threshold, target, honest)
        accuracy = float((tampered == labels).mean())
        if accuracy >= clean_accuracy - MAX_ACCURACY_DROP:
            best = (float(threshold), accuracy)
    threshold, accuracy = best
    tampered = np.where(target_score >= threshold, target, honest)
    victims = (labels == source) & (honest == source)
    return TamperingOutcome(
        threshold=threshold,
        clean_accuracy=clean_accuracy,
        attacked_accuracy=accuracy,
        examples=int(victims.sum()),
        successes=int((tampered[victims] == target).sum()),
        queries=len(rows),
    )
