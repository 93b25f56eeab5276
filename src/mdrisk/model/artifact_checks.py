"""Structural rules of an ML engine's ``artifact:``: every feature is made from one of the
engine's inputs, feature names are unique, and misclassifications name its classes and
hazards the model defines."""

from __future__ import annotations

from mdrisk.errors import Problem
from mdrisk.model.schema import DeviceModel

Located = tuple[Problem, tuple[str | int, ...]]


def artifact_problems(model: DeviceModel) -> list[Located]:
    """Every structural error of the engines' artifacts, with the path of the value."""
    found: list[Located] = []
    hazard_ids = {hazard.id for hazard in model.hazards}
    for i, component in enumerate(model.components):
        if component.ml is None or component.ml.artifact is None:
            continue
        artifact = component.ml.artifact
        at: tuple[str | int, ...] = ("components", i, "ml", "artifact")
        inputs = [ml_input.signal for ml_input in component.ml.inputs]
        seen: set[str] = set()
        for j, feature in enumerate(artifact.features):
            if feature.name in seen:
                found.append(
                    (
                        Problem(
                            f"feature '{feature.name}' is listed twice",
                            fix="list each column of the model's input once, in its order",
                        ),
                        (*at, "features", j, "name"),
                    )
                )
            seen.add(feature.name)
            if feature.signal not in inputs:
                found.append(
                    (
                        Problem(
                            f"feature {feature.name} is made from '{feature.signal}', not an "
                            f"input of {component.id}",
                            fix=f"use one of: {', '.join(inputs)}",
                        ),
                        (*at, "features", j, "signal"),
                    )
                )
        if len(set(artifact.classes)) != len(artifact.classes):
            found.append(
                (
                    Problem("a class is named twice", fix="name each class once"),
                    (*at, "classes"),
                )
            )
        for j, wrong in enumerate(artifact.misclassifications):
            for field in ("actual", "predicted"):
                name = getattr(wrong, field)
                if name not in artifact.classes:
                    found.append(
                        (
                            Problem(
                                f"'{name}' is not one of the classes",
                                fix=f"use one of: {', '.join(artifact.classes) or '(give classes:)'}",
                            ),
                            (*at, "misclassifications", j, field),
                        )
                    )
            for k, hazard_id in enumerate(wrong.hazards):
                if hazard_id not in hazard_ids:
                    found.append(
                        (
                            Problem(
                                f"hazard '{hazard_id}' is not defined",
                                fix="define it under hazards: or correct the id",
                            ),
                            (*at, "misclassifications", j, "hazards", k),
                        )
                    )
    return found
