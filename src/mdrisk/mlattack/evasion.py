"""Evasion: the smallest perturbation within the attacker's capability that moves a
correctly classified case to the attacker's class.

White-box (where the model gives gradients): ART's ProjectedGradientDescent, targeted, with
the capability's mask and bounds, on a ladder of step sizes (in standard deviations of each
feature) so the first that succeeds is near the smallest. Black-box: ART's HopSkipJump,
targeted, started from the nearest case of the target class the attacker can write (a
black-box attacker has such cases), with the same mask. Every produced example is projected
onto the capability and checked; one that breaks it counts as a failure.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from mdrisk.mlattack.artifact import LoadedArtifact
from mdrisk.mlattack.capability import Capability
from mdrisk.mlattack.constraints import project, violations
from mdrisk.mlattack.estimators import QueryCounter, black_box, white_box
from mdrisk.mlattack.seeding import seeded

EPS_LADDER = (0.1, 0.25, 0.5, 1.0, 2.0, 4.0, 8.0)
PGD_STEPS = 20
INIT_CANDIDATES = 50


@dataclass(frozen=True)
class EvasionOutcome:
    method: str
    white_box: bool
    clean: np.ndarray
    produced: np.ndarray
    succeeded: np.ndarray
    violated: np.ndarray
    queries: int
    perturbation: float | None  # median largest change over successes, in std units
    features_changed: float | None

    @property
    def examples(self) -> int:
        return len(self.clean)

    @property
    def successes(self) -> int:
        return int(self.succeeded.sum())


def _one_hot(target: int, rows: int, classes: int) -> np.ndarray:
    labels = np.zeros((rows, classes), dtype=np.float32)
    labels[:, target] = 1.0
    return labels


def _outcome(
    method: str,
    white: bool,
    model: LoadedArtifact,
    clean: np.ndarray,
    produced: np.ndarray,
    target: int,
    capability: Capability,
    scale: np.ndarray,
    queries: int,
) -> EvasionOutcome:
    violated = violations(clean, produced, capability)
    succeeded = (model.predict(produced) == target) & ~violated
    change = np.abs(produced - clean) / scale
    largest = change.max(axis=1)
    count = (change > 1e-9).sum(axis=1)
    return EvasionOutcome(
        method=method,
        white_box=white,
        clean=clean,
        produced=produced,
        succeeded=succeeded,
        violated=violated,
        queries=queries,
        perturbation=float(np.median(largest[succeeded])) if succeeded.any() else None,
        features_changed=float(np.median(count[succeeded])) if succeeded.any() else None,
    )


def _art_bounds(capability: Capability, data: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    # ART clips every feature to its clip values: an uncontrolled feature gets at least the
    # span of the data so its clean value is not moved (the projection restores it anyway).
    controlled = capability.controlled
    low = np.where(controlled, capability.low, np.minimum(capability.low, data.min(axis=0)))
    high = np.where(controlled, capability.high, np.maximum(capability.high, data.max(axis=0)))
    return low, high


def evade_white_box(
    model: LoadedArtifact,
    capability: Capability,
    clean: np.ndarray,
    target: int,
    data: np.ndarray,
    budget: int,
    seed: int,
) -> EvasionOutcome | None:
    """None when the model gives no gradients (use :func:`evade_black_box`)."""
    from art.attacks.evasion import ProjectedGradientDescent

    scale = np.maximum(data.std(axis=0), 1e-12)
    counter = QueryCounter()
    low, high = _art_bounds(capability, data)
    estimator = white_box(model, low, high, data, counter)
    if estimator is None:
        return None
    classes = model.predict_proba(clean[:1]).shape[1]
    produced = clean.copy()
    done = np.zeros(len(clean), dtype=bool)
    mask = capability.controlled.astype(np.float32)
    per_example = np.zeros(len(clean), dtype=int)
    with seeded(seed):
        for eps in EPS_LADDER:
            remaining = np.flatnonzero(~done & (per_example + PGD_STEPS * 2 <= budget))
            if len(remaining) == 0:
                break
            before = counter.rows
            attack = ProjectedGradientDescent(
                estimator,
                norm=np.inf,
                eps=(eps * scale).astype(np.float32),
                eps_step=(eps * scale / 5).astype(np.float32),
                max_iter=PGD_STEPS,
                targeted=True,
                num_random_init=0,
                verbose=False,
            )
            x = clean[remaining]
            raw = attack.generate(
                x.astype(np.float32), y=_one_hot(target, len(x), classes), mask=mask
            )
            moved = project(x, raw.astype(float), capability)
            per_example[remaining] += (counter.rows - before) // max(len(remaining), 1)
            hit = (model.predict(moved) == target) & ~violations(x, moved, capability)
            counter.rows += len(x)  # the check above is a query too
            per_example[remaining] += 1
            produced[remaining[hit]] = moved[hit]
            done[remaining[hit]] = True
            # A failed example keeps its last attempt, so it is checked like the rest.
            produced[remaining[~hit]] = moved[~hit]
    return _outcome(
        "ProjectedGradientDescent",
        True,
        model,
        clean,
        produced,
        target,
        capability,
        scale,
        counter.rows,
    )


def _starting_points(
    model: LoadedArtifact,
    capability: Capability,
    clean_row: np.ndarray,
    target_rows: np.ndarray,
    target: int,
    scale: np.ndarray,
    counter: QueryCounter,
) -> np.ndarray | None:
    """The nearest case of the target class, written through the attacker's reach, that the
    model gives the target class; None when none of the nearest does."""
    candidates = project(
        np.repeat(clean_row[None, :], len(target_rows), axis=0), target_rows, capability
    )
    distance = (np.abs(candidates - clean_row) / scale).max(axis=1)
    nearest = candidates[np.argsort(distance, kind="stable")[:INIT_CANDIDATES]]
    counter.rows += len(nearest)
    for row, label in zip(nearest, model.predict(nearest), strict=True):
        if label == target:
            return np.asarray(row)
    return None


def evade_black_box(
    model: LoadedArtifact,
    capability: Capability,
    clean: np.ndarray,
    target: int,
    data: np.ndarray,
    labels: np.ndarray,
    budget: int,
    seed: int,
) -> EvasionOutcome:
    """HopSkipJump minimises the L2 distance it sees: it runs on standardised features
    (each divided by its standard deviation) so a feature in the hundreds does not outweigh
    one below 1, and the result is mapped back before it is projected and checked."""
    from art.attacks.evasion import HopSkipJump

    scale = np.maximum(data.std(axis=0), 1e-12)
    centre = data.mean(axis=0)
    counter = QueryCounter()
    low, high = _art_bounds(capability, data)
    standardised = LoadedArtifact(
        model.file,
        model.format,
        model.n_features,
        lambda rows: model.predict_proba(rows * scale + centre),
    )
    estimator = black_box(standardised, (low - centre) / scale, (high - centre) / scale, counter)
    classes = model.predict_proba(clean[:1]).shape[1]
    target_rows = data[labels == target]
    produced = clean.copy()
    spent = []
    iterations = int(min(50, max(1, budget // 60)))
    with seeded(seed):
        for index, row in enumerate(clean):
            before = counter.rows
            start = _starting_points(model, capability, row, target_rows, target, scale, counter)
            if start is None:
                spent.append(counter.rows - before)
                continue
            attack = HopSkipJump(
                estimator,
                targeted=True,
                norm=2,
                max_iter=iterations,
                max_eval=50,
                init_eval=10,
                init_size=10,
                verbose=False,
            )
            raw = attack.generate(
                ((row - centre) / scale)[None, :].astype(np.float32),
                y=_one_hot(target, 1, classes),
                x_adv_init=((start - centre) / scale)[None, :].astype(np.float32),
                mask=capability.controlled.astype(np.float32)[None, :],
            )
            found = raw.astype(float) * scale + centre
            produced[index] = project(row[None, :], found, capability)[0]
            spent.append(counter.rows - before)
    outcome = _outcome(
        "HopSkipJump", False, model, clean, produced, target, capability, scale, counter.rows
    )
    over_budget = np.array(spent) > budget
    if over_budget.any():
        succeeded = outcome.succeeded & ~over_budget
        outcome = EvasionOutcome(**{**outcome.__dict__, "succeeded": succeeded})
    return outcome
