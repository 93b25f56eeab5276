"""Reading an ``assessment.json`` back, with errors that name the file and the field."""

from __future__ import annotations

import json
from pathlib import Path

from pydantic import ValidationError

from mdrisk.assessment import Assessment
from mdrisk.errors import InputError, Problem
from mdrisk.parsing.bounded import read_limited

MAX_ASSESSMENT_BYTES = 256 * 1024 * 1024


def _with_whole_model(data: dict) -> dict:
    """``data`` in the current layout. Files written before the assessment carried the device
    model whole held ``device: {info, components, links}`` with ``losses`` and ``hazards``
    beside it; anything else is returned as it is."""
    device = data.get("device")
    if not (isinstance(device, dict) and "info" in device and "losses" in data):
        return data
    upgraded = {key: value for key, value in data.items() if key not in ("losses", "hazards")}
    upgraded["device"] = {
        "device": device["info"],
        **{key: value for key, value in device.items() if key != "info"},
        "losses": data["losses"],
        "hazards": data.get("hazards", []),
    }
    return upgraded


def _pairs_layout(data: dict) -> bool:
    """Whether the file holds loss scenarios as FDI point x UCA pairs (before the classes)."""
    scenarios = data.get("loss_scenarios")
    return (
        isinstance(scenarios, list)
        and bool(scenarios)
        and isinstance(scenarios[0], dict)
        and "fdi_point" in scenarios[0]
        and "family" not in scenarios[0]
    )


def load_assessment(path: Path) -> Assessment:
    """The assessment in ``path`` (as written by ``mdrisk analyze``).

    Raises InputError naming the file and, for schema problems, the field path.
    """
    name = str(path)
    if not path.exists():
        raise InputError(
            name,
            [Problem("no such file", fix="give the assessment.json that 'mdrisk analyze' wrote")],
        )
    raw = read_limited(path, MAX_ASSESSMENT_BYTES, "an assessment")
    try:
        data = json.loads(raw.decode("utf-8"))
    except UnicodeDecodeError:
        raise InputError(name, [Problem("the file is not UTF-8 text")]) from None
    except json.JSONDecodeError as error:
        raise InputError(
            name,
            [
                Problem(
                    f"not JSON: {error.msg}",
                    line=error.lineno,
                    fix="give the assessment.json that 'mdrisk analyze' wrote",
                )
            ],
        ) from None
    if not isinstance(data, dict):
        raise InputError(name, [Problem("an assessment is a JSON object")])
    if _pairs_layout(data):
        raise InputError(
            name,
            [
                Problem(
                    "the loss scenarios are FDI point x UCA pairs, written by an mdrisk before "
                    "loss-scenario classes (direction, both STPA families, stable ids); they "
                    "cannot be read as classes",
                    field="loss_scenarios",
                    fix="run 'mdrisk analyze' on the device model again",
                )
            ],
        )
    try:
        return Assessment.model_validate(_with_whole_model(data))
    except ValidationError as error:
        problems = [
            Problem(item["msg"], field=".".join(str(p) for p in item["loc"]))
            for item in error.errors(include_url=False)[:20]
        ]
        raise InputError(name, problems) from None
