"""Every attack on every engine that names its model file, from every entry point STPA
found, as ``MLAttack`` records: the harness behind ``analyze --ml-attacks`` and
``mdrisk attack``.

Entry points with the same reach (the same features, bounds and rate limits) give the same
result, so each distinct capability is attacked once and its result recorded for each.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np

from mdrisk.assessment.ml_attacks import MLAttack
from mdrisk.assessment.stpa import FDIPoint
from mdrisk.mlattack.artifact import LoadedArtifact, load_artifact
from mdrisk.mlattack.capability import Capability, Reach, capability, inference_entries
from mdrisk.mlattack.evaluation import EvaluationSet, load_evaluation
from mdrisk.mlattack.evasion import EvasionOutcome, evade_black_box, evade_white_box
from mdrisk.mlattack.poisoning import poison
from mdrisk.mlattack.privacy import extract, infer_membership
from mdrisk.mlattack.tampering import tamper
from mdrisk.model.schema import Component, DeviceModel, LinkKind
from mdrisk.stable_ids import stable_ids

# MITRE ATLAS techniques of each attack, most specific first.
ATLAS: dict[str, list[str]] = {
    "evasion_white_box": ["AML.T0043.000", "AML.T0015"],
    "evasion_black_box": ["AML.T0043.001", "AML.T0015"],
    "label_flipping": ["AML.T0020"],
    "backdoor": ["AML.T0018.000", "AML.T0020"],
    "model_substitution": ["AML.T0010.003", "AML.T0018"],
    "extraction": ["AML.T0024.002", "AML.T0040"],
    "membership_inference": ["AML.T0024.000", "AML.T0040"],
}
ATLAS_NAMES = {
    "AML.T0043.000": "Craft Adversarial Data: White-Box Optimization",
    "AML.T0043.001": "Craft Adversarial Data: Black-Box Optimization",
    "AML.T0015": "Evade AI Model",
    "AML.T0020": "Poison Training Data",
    "AML.T0018.000": "Manipulate AI Model: Poison AI Model",
    "AML.T0018": "Manipulate AI Model",
    "AML.T0010.003": "AI Supply Chain Compromise: Model",
    "AML.T0024.002": "Exfiltration via AI Inference API: Extract AI Model",
    "AML.T0024.000": "Exfiltration via AI Inference API: Infer Training Data Membership",
    "AML.T0040": "AI Model Inference API Access",
}


@dataclass(frozen=True)
class AttackSettings:
    # Model queries an evasion may spend on one case; queries in all for an extraction.
    budget: int = 1000
    seed: int = 0
    examples: int = 20  # cases attacked per entry point and wrong class
    reach: Reach = Reach.released
    poison_share: float = 0.1  # the attacker's records, as a share of the retraining set
    # "auto": white-box where the model gives gradients, else black-box; or "white", "black"
    evasion: str = "auto"


def library_version() -> str:
    try:
        return (
            f"adversarial-robustness-toolbox {metadata.version('adversarial-robustness-toolbox')}"
        )
    except metadata.PackageNotFoundError:
        return "adversarial-robustness-toolbox (version unknown)"


def engines_with_artifacts(model: DeviceModel, engine_id: str | None = None) -> list[Component]:
    return [
        engine
        for engine in model.ml_engines
        if engine.ml is not None
        and engine.ml.artifact is not None
        and (engine_id is None or engine.id == engine_id)
    ]


@dataclass(frozen=True)
class _Engine:
    component: Component
    model: LoadedArtifact
    data: EvaluationSet
    classes: list[str]

    def directions(self) -> list[tuple[int, int, list[str]]]:
        """(actual, predicted, hazards) of every misclassification to attack."""
        assert self.component.ml is not None and self.component.ml.artifact is not None
        declared = self.component.ml.artifact.misclassifications
        if declared:
            return [
                (self.classes.index(m.actual), self.classes.index(m.predicted), list(m.hazards))
                for m in declared
            ]
        count = len(self.classes)
        return [(a, p, []) for a in range(count) for p in range(count) if a != p]

    def name(self, index: int) -> str:
        return self.classes[index] if index < len(self.classes) else str(index)


def _class_names(component: Component, model: LoadedArtifact, data: EvaluationSet) -> list[str]:
    assert component.ml is not None and component.ml.artifact is not None
    if component.ml.artifact.classes:
        return list(component.ml.artifact.classes)
    count = model.predict_proba(data.features[:1]).shape[1]
    return [str(i) for i in range(count)]


def _cases(engine: _Engine, actual: int, settings: AttackSettings) -> np.ndarray:
    """Held-out cases of class ``actual`` the model gets right, up to ``settings.examples``,
    in a seeded order."""
    data = engine.data
    rows = data.features[data.held_out & (data.labels == actual)]
    rows = rows[engine.model.predict(rows) == actual]
    order = np.random.default_rng(settings.seed).permutation(len(rows))
    return rows[order[: settings.examples]]


def _rate(successes: int, examples: int) -> float | None:
    return round(successes / examples, 4) if examples else None


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 4)


def _capability_key(cap: Capability) -> tuple[Any, ...]:
    rates = tuple((tuple(o.tolist()), tuple(s.tolist())) for o, s in cap.rates)
    return (
        tuple(cap.controlled.tolist()),
        tuple(cap.low.tolist()),
        tuple(cap.high.tolist()),
        rates,
    )


def _evade(
    engine: _Engine,
    cap: Capability,
    cases: np.ndarray,
    target: int,
    settings: AttackSettings,
) -> EvasionOutcome:
    outcome = None
    if settings.evasion in ("auto", "white"):
        outcome = evade_white_box(
            engine.model, cap, cases, target, engine.data.features, settings.budget, settings.seed
        )
    if outcome is None:
        outcome = evade_black_box(
            engine.model,
            cap,
            cases,
            target,
            engine.data.features,
            engine.data.labels,
            settings.budget,
            settings.seed,
        )
    return outcome


def _evasion_records(
    model: DeviceModel,
    engine: _Engine,
    points: list[FDIPoint],
    settings: AttackSettings,
    progress: Callable[[str], None],
) -> list[dict[str, Any]]:
    records: list[dict[str, Any]] = []
    done: dict[tuple[Any, ...], EvasionOutcome] = {}
    entries = inference_entries(points, engine.component.id)
    for (element, kind), reached in entries.items():
        protections = sorted({p for point in reached for p in point.protections})
        cap = capability(
            model,
            engine.component,
            (element, kind),
            reached,
            engine.data.features,
            settings.reach,
            settings.budget,
            protections,
        )
        for actual, predicted, hazards in engine.directions():
            progress(f"evasion from {element}: {engine.name(actual)} -> {engine.name(predicted)}")
            key = (_capability_key(cap), actual, predicted)
            if key not in done:
                done[key] = _evade(
                    engine, cap, _cases(engine, actual, settings), predicted, settings
                )
            outcome = done[key]
            attack = "evasion_white_box" if outcome.white_box else "evasion_black_box"
            records.append(
                {
                    "attack": attack,
                    "method": outcome.method,
                    "element": element,
                    "fdi_points": cap.fdi_points,
                    "target": f"{engine.name(actual)} -> {engine.name(predicted)}",
                    "hazards": hazards,
                    "constraints": cap.constraints,
                    "status": "run",
                    "examples": outcome.examples,
                    "successes": outcome.successes,
                    "success_rate": _rate(outcome.successes, outcome.examples),
                    "violations": int(outcome.violated.sum()),
                    "perturbation": _round(outcome.perturbation),
                    "features_changed": outcome.features_changed,
                    "queries": outcome.queries,
                }
            )
    return records


def _update_senders(model: DeviceModel, engine: Component) -> dict[str, str]:
    """Update links into the engine -> the component sending each."""
    return {
        link.id: link.source
        for link in model.links
        if link.target == engine.id and link.kind == LinkKind.update
    }


def _poisoning_records(
    model: DeviceModel,
    engine: _Engine,
    points: list[FDIPoint],
    settings: AttackSettings,
    progress: Callable[[str], None],
) -> list[dict[str, Any]]:
    ml = engine.component.ml
    assert ml is not None
    if not any(t.continuous for t in ml.training_data):
        return []
    if engine.model.estimator is None or not engine.data.trained_on.any():
        return [
            {
                "attack": attack,
                "method": "retraining",
                "element": engine.component.id,
                "fdi_points": [],
                "target": "",
                "status": "not_applicable",
                "reason": "poisoning needs a scikit-learn model (skops) and evaluation rows "
                "marked as training rows (evaluation.split)",
            }
            for attack in ("label_flipping", "backdoor")
        ]
    senders = _update_senders(model, engine.component)
    update_elements = set(senders) | set(senders.values())
    grouped: dict[str, list[FDIPoint]] = {}
    for point in points:
        if (
            point.ml_engine == engine.component.id
            and point.target == "model_update"
            and point.element not in update_elements
        ):
            grouped.setdefault(point.element, []).append(point)
    entries = inference_entries(points, engine.component.id)
    trigger_cap = None
    if entries:
        caps = [
            capability(
                model, engine.component, key, reached, engine.data.features, settings.reach, 0
            )
            for key, reached in entries.items()
        ]
        trigger_cap = min(caps, key=lambda c: (int(c.controlled.sum()), c.element))
    records: list[dict[str, Any]] = []
    done: dict[tuple[int, int, bool], Any] = {}
    for element, reached in grouped.items():
        for actual, predicted, hazards in engine.directions():
            for backdoor in (False, True) if trigger_cap is not None else (False,):
                progress(f"poisoning from {element}")
                key = (actual, predicted, backdoor)
                if key not in done:
                    done[key] = poison(
                        engine.model.estimator,
                        engine.data,
                        actual,
                        predicted,
                        settings.poison_share,
                        settings.seed,
                        trigger_cap if backdoor else None,
                    )
                outcome = done[key]
                reason = f"{outcome.poisoned_rows} records contributed to the retraining set"
                if backdoor and trigger_cap is not None:
                    reason += f"; trigger written at {trigger_cap.element}"
                records.append(
                    {
                        "attack": "backdoor" if backdoor else "label_flipping",
                        "method": outcome.method,
                        "element": element,
                        "fdi_points": sorted(p.id for p in reached),
                        "target": f"{engine.name(actual)} -> {engine.name(predicted)}",
                        "hazards": hazards,
                        "constraints": trigger_cap.constraints
                        if backdoor and trigger_cap
                        else None,
                        "status": "run",
                        "reason": reason,
                        "examples": outcome.examples,
                        "successes": outcome.successes,
                        "success_rate": _rate(outcome.successes, outcome.examples),
                        "violations": outcome.violations,
                        "clean_accuracy": _round(outcome.clean_accuracy),
                        "attacked_accuracy": _round(outcome.attacked_accuracy),
                    }
                )
    return records


def _substitution_records(
    model: DeviceModel, engine: _Engine, points: list[FDIPoint], progress: Callable[[str], None]
) -> list[dict[str, Any]]:
    records: list[dict[str, Any]] = []
    links = {link.id: link for link in model.links}
    for link_id in _update_senders(model, engine.component):
        progress(f"model substitution through {link_id}")
        shield = links[link_id].channel.protections
        fdi = sorted(
            p.id for p in points if p.element == link_id and p.ml_engine == engine.component.id
        )
        for actual, predicted, hazards in engine.directions():
            base = {
                "attack": "model_substitution",
                "method": "decision threshold moved within the accuracy a site would check",
                "element": link_id,
                "fdi_points": fdi,
                "target": f"{engine.name(actual)} -> {engine.name(predicted)}",
                "hazards": hazards,
            }
            if shield.integrity and shield.authentication:
                records.append(
                    {
                        **base,
                        "status": "blocked",
                        "reason": "the update path is authenticated and integrity-protected",
                    }
                )
                continue
            outcome = tamper(engine.model, engine.data, actual, predicted)
            records.append(
                {
                    **base,
                    "status": "run",
                    "reason": f"unsigned update path; tampered threshold {outcome.threshold:.4f}",
                    "examples": outcome.examples,
                    "successes": outcome.successes,
                    "success_rate": _rate(outcome.successes, outcome.examples),
                    "queries": outcome.queries,
                    "clean_accuracy": _round(outcome.clean_accuracy),
                    "attacked_accuracy": _round(outcome.attacked_accuracy),
                }
            )
    return records


def api_clients(model: DeviceModel, engine: Component) -> list[str]:
    """Components that both send the engine inputs and receive its outputs over a channel
    (not a function call): an inference API exposed to whoever holds their place."""
    assert engine.ml is not None
    senders = {
        link.source
        for link in model.links
        if link.target == engine.id and link.kind != LinkKind.update and not link.channel.in_process
    }
    outputs = set(engine.ml.outputs)
    receivers = {
        link.target
        for link in model.links
        if link.source == engine.id
        and not link.channel.in_process
        and any(s.name in outputs for s in link.carries)
    }
    return sorted(senders & receivers)


def _privacy_records(
    model: DeviceModel,
    engine: _Engine,
    points: list[FDIPoint],
    settings: AttackSettings,
    progress: Callable[[str], None],
) -> list[dict[str, Any]]:
    records: list[dict[str, Any]] = []
    for client in api_clients(model, engine.component):
        fdi = sorted(
            p.id for p in points if p.element == client and p.ml_engine == engine.component.id
        )
        progress(f"extraction through {client}")
        stolen = extract(engine.model, engine.data, settings.budget, settings.seed)
        records.append(
            {
                "attack": "extraction",
                "method": stolen.method,
                "element": client,
                "fdi_points": fdi,
                "target": "a copy of the model that agrees with it",
                "status": "run",
                "reason": "success: held-out cases on which the copy agrees with the model",
                "examples": stolen.examples,
                "successes": stolen.successes,
                "success_rate": _rate(stolen.successes, stolen.examples),
                "queries": stolen.queries,
                "attacked_accuracy": _round(stolen.accuracy),
            }
        )
        progress(f"membership inference through {client}")
        member = infer_membership(engine.model, engine.data, settings.seed)
        if member is None:
            records.append(
                {
                    "attack": "membership_inference",
                    "method": "MembershipInferenceBlackBox",
                    "element": client,
                    "fdi_points": fdi,
                    "target": "which cases the model was trained on",
                    "status": "not_applicable",
                    "reason": "the evaluation data marks no training rows (evaluation.split)",
                }
            )
            continue
        records.append(
            {
                "attack": "membership_inference",
                "method": member.method,
                "element": client,
                "fdi_points": fdi,
                "target": "which cases the model was trained on",
                "status": "run",
                "reason": "success: right member / non-member guesses on balanced halves "
                "(0.5 is chance)",
                "examples": member.examples,
                "successes": member.successes,
                "success_rate": _rate(member.successes, member.examples),
                "queries": member.queries,
            }
        )
    return records


def run_ml_attacks(
    model: DeviceModel,
    points: list[FDIPoint],
    base: Path,
    settings: AttackSettings | None = None,
    engine_id: str | None = None,
    progress: Callable[[str], None] | None = None,
) -> list[MLAttack]:
    """Every attack on the engines (or ``engine_id``) that name a model file; ``base``: the
    folder of the device model file (artifact paths are relative to it)."""
    settings = settings or AttackSettings()
    tell = progress or (lambda _text: None)
    rows: list[dict[str, Any]] = []
    for component in engines_with_artifacts(model, engine_id):
        assert component.ml is not None and component.ml.artifact is not None
        tell(f"loading the model of {component.id}")
        loaded = load_artifact(component.ml.artifact, base)
        if component.ml.artifact.evaluation is None:
            rows.append(
                {
                    "attack": "evasion_black_box",
                    "method": "",
                    "ml_engine": component.id,
                    "element": component.id,
                    "fdi_points": [],
                    "target": "",
                    "status": "not_applicable",
                    "reason": "the artifact names no evaluation data to attack cases of",
                }
            )
            continue
        data = load_evaluation(component.ml.artifact, base)
        engine = _Engine(component, loaded, data, _class_names(component, loaded, data))
        found = (
            _evasion_records(model, engine, points, settings, tell)
            + _poisoning_records(model, engine, points, settings, tell)
            + _substitution_records(model, engine, points, tell)
            + _privacy_records(model, engine, points, settings, tell)
        )
        rows += [{**row, "ml_engine": component.id} for row in found]
    keys = [(r["attack"], r["ml_engine"], r["element"], r["target"]) for r in rows]
    ids = stable_ids("MLA", keys)
    library = library_version()
    return [
        MLAttack(
            id=ids[key],
            atlas=ATLAS[row["attack"]],
            library=library,
            seed=settings.seed,
            **row,
        )
        for key, row in zip(keys, rows, strict=True)
    ]


def with_reach(settings: AttackSettings, reach: Reach) -> AttackSettings:
    return replace(settings, reach=reach)
