"""Attacks through an exposed inference API: model extraction (the attacker queries the
model with cases like the device's and fits a copy) and membership inference (ART's
MembershipInferenceBlackBox: from the model's answers, tell the cases it was trained on).

ART's extraction attacks (CopycatCNN, KnockoffNets) train neural networks through its
framework estimators; for a tabular model the copy is a scikit-learn logistic regression
fitted on the answers, which is what they do with the framework taken out.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from mdrisk.mlattack.artifact import LoadedArtifact
from mdrisk.mlattack.estimators import QueryCounter, black_box
from mdrisk.mlattack.evaluation import EvaluationSet
from mdrisk.mlattack.seeding import seeded


@dataclass(frozen=True)
class PrivacyOutcome:
    method: str
    examples: int  # held-out rows the result is measured on
    successes: int  # extraction: rows the copy agrees with the model on; membership: right guesses
    queries: int
    accuracy: float | None = None  # the copy's accuracy on held-out labels (extraction)


def extract(model: LoadedArtifact, data: EvaluationSet, budget: int, seed: int) -> PrivacyOutcome:
    """The attacker holds cases like the device's (the training rows, jittered) and may
    query ``budget`` of them."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    rng = np.random.default_rng(seed)
    pool = data.features[data.trained_on]
    picks = pool[rng.integers(0, len(pool), size=budget)]
    queries = picks * rng.normal(1.0, 0.05, size=picks.shape)
    answers = model.predict(queries)
    held_out = data.features[data.held_out]
    truth = model.predict(held_out)
    if len(np.unique(answers)) < 2:
        return PrivacyOutcome("copy fitted on API answers", len(held_out), 0, budget, None)
    copy = make_pipeline(StandardScaler(), LogisticRegression(max_iter=5000))
    copy.fit(queries, answers)
    guesses = copy.predict(held_out)
    return PrivacyOutcome(
        method="copy fitted on API answers",
        examples=len(held_out),
        successes=int((guesses == truth).sum()),
        queries=budget + len(held_out),
        accuracy=float((guesses == data.labels[data.held_out]).mean()),
    )


def infer_membership(
    model: LoadedArtifact, data: EvaluationSet, seed: int
) -> PrivacyOutcome | None:
    """Half the members and half the non-members train ART's attack model (a random
    forest on the answers), the other halves measure it. None without training rows."""
    from art.attacks.inference.membership_inference import MembershipInferenceBlackBox

    members = data.features[data.trained_on]
    others = data.features[data.held_out]
    if len(members) < 4 or len(others) < 4:
        return None
    rng = np.random.default_rng(seed)
    members = members[rng.permutation(len(members))]
    others = others[rng.permutation(len(others))]
    size = min(len(members), len(others)) // 2
    counter = QueryCounter()
    low = np.minimum(data.features.min(axis=0), 0.0)
    high = data.features.max(axis=0) * 2 + 1
    estimator = black_box(model, low, high, counter)
    m_labels = model.predict(members)
    o_labels = model.predict(others)
    attack = MembershipInferenceBlackBox(estimator, input_type="prediction", attack_model_type="rf")
    with seeded(seed):
        attack.fit(
            members[:size].astype(np.float32),
            _one_hot(m_labels[:size]),
            others[:size].astype(np.float32),
            _one_hot(o_labels[:size]),
        )
        guess_members = attack.infer(
            members[size : 2 * size].astype(np.float32), _one_hot(m_labels[size : 2 * size])
        )
        guess_others = attack.infer(
            others[size : 2 * size].astype(np.float32), _one_hot(o_labels[size : 2 * size])
        )
    right = int(np.sum(guess_members == 1) + np.sum(guess_others == 0))
    return PrivacyOutcome("MembershipInferenceBlackBox", 2 * size, right, counter.rows, None)


def _one_hot(labels: np.ndarray) -> np.ndarray:
    width = int(labels.max()) + 1 if len(labels) else 1
    encoded = np.zeros((len(labels), max(width, 2)), dtype=np.float32)
    encoded[np.arange(len(labels)), labels] = 1.0
    return encoded
