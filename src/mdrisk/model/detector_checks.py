"""Structural rules of the runtime detectors a device model declares: each watches a signal
the model has, a forecast residual watches a forecast, and ids are unique."""

from __future__ import annotations

from mdrisk.errors import Problem
from mdrisk.model.schema import DetectorKind, DetectorResponse, DeviceModel

Located = tuple[Problem, tuple[str | int, ...]]


def detector_problems(model: DeviceModel) -> list[Located]:
    """Every structural error of ``model.detectors``, with the path of the offending value."""
    found: list[Located] = []
    carried = {signal.name for link in model.links for signal in link.carries}
    outputs = {name for engine in model.ml_engines if engine.ml for name in engine.ml.outputs}
    known = carried | outputs
    seen: set[str] = set()
    for i, detector in enumerate(model.detectors):
        if detector.id in seen:
            found.append(
                (
                    Problem(
                        f"detector id '{detector.id}' is used more than once",
                        fix="give every detector its own id",
                    ),
                    ("detectors", i, "id"),
                )
            )
        seen.add(detector.id)
        if detector.signal not in known:
            found.append(
                (
                    Problem(
                        f"detector {detector.id} watches '{detector.signal}', which no link "
                        "carries and no ML engine outputs",
                        fix=f"use one of: {', '.join(sorted(known)[:20]) or '(no signals)'}",
                    ),
                    ("detectors", i, "signal"),
                )
            )
        elif detector.kind == DetectorKind.forecast_residual and detector.signal not in outputs:
            found.append(
                (
                    Problem(
                        f"detector {detector.id} is a forecast_residual on "
                        f"'{detector.signal}', which is not an ML engine's output: the "
                        "residual compares a forecast with the glucose measured later",
                        fix=f"use an ML output: {', '.join(sorted(outputs)) or '(none)'}; "
                        "or kind cusum for a measured signal",
                    ),
                    ("detectors", i, "signal"),
                )
            )
        if (detector.response == DetectorResponse.reject_reading) != (
            detector.kind == DetectorKind.agreement
        ):
            found.append(
                (
                    Problem(
                        f"detector {detector.id}: reject_reading is the response of an "
                        "agreement check (it refuses the disagreeing reading), and an agreement "
                        "check's response",
                        fix="use kind agreement with response reject_reading, or another "
                        "response (alarm, safe_mode, suspend) for other kinds",
                    ),
                    ("detectors", i, "response"),
                )
            )
    return found
