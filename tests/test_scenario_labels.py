"""The physics labels of benchmarks/scenario_labels (issue 11) are well formed.

Every label file parses, uses only the pattern keys and the vocabulary of the loss-scenario
classes (families, manipulations, UCA types), and names only signals, control actions,
components and links that exist in its device model, so a typo cannot silently match nothing.
The names are read from the raw model YAML, so a model using schema fields that have not
landed yet is still checked. The matcher itself is checked on a hand-made result.
"""

from __future__ import annotations

import sys
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "benchmarks"))

import scenario_quality as sq  # noqa: E402

EXAMPLES = ROOT / "src" / "mdrisk" / "examples"
LABEL_FILES = sorted(sq.LABELS_DIR.glob("*.yaml"))
NAME_KEYS = ("through", "signal", "action", "controller")


def _values(value: Any) -> list[Any]:
    return list(value) if isinstance(value, list) else [value]


def _signal_name(carried: Any) -> str:
    return carried if isinstance(carried, str) else carried["name"]


def model_names(model: dict[str, Any]) -> dict[str, set[str]]:
    """Component and link ids, signal names and control-action names of a raw model."""
    components = model.get("components") or []
    links = model.get("links") or []
    signals: set[str] = set()
    actions: set[str] = set()
    for link in links:
        carried = {_signal_name(c) for c in link.get("carries") or []}
        signals |= carried
        if link.get("kind") == "control_action":
            actions |= carried
    for component in components:
        ml = component.get("ml") or {}
        signals |= {item["signal"] for item in ml.get("inputs") or []}
        signals |= set(ml.get("outputs") or [])
        for derived, sources in (component.get("derives") or {}).items():
            signals |= {derived, *sources}
        for variable in component.get("process_model") or []:
            signals |= set(variable.get("from_signals") or [])
    component_ids = {c["id"] for c in components}
    return {
        "through": component_ids | {link["id"] for link in links},
        "signal": signals | actions,
        "action": actions,
        "controller": component_ids,
    }


def test_there_are_labels_for_the_five_reference_devices():
    devices = {path.stem for path in LABEL_FILES}
    assert {"bgms", "bone-density", "embryo", "retinopathy", "vital-signs"} <= devices


@pytest.mark.parametrize("path", LABEL_FILES, ids=lambda p: p.stem)
def test_label_file_uses_only_the_class_vocabulary(path: Path):
    labels = sq.load_labels(path)
    assert labels["device"] == path.stem
    assert isinstance(labels.get("rules"), str) and len(labels["rules"]) > 200
    assert labels["expected"], "no expected pattern"
    vocabulary = {
        "family": sq.FAMILIES,
        "manipulation": sq.MANIPULATIONS,
        "uca": sq.UCA_TYPES,
    }
    for section in sq.SECTIONS:
        for pattern in labels[section]:
            assert isinstance(pattern, dict), f"{section}: {pattern!r} is not a mapping"
            assert set(pattern) <= sq.PATTERN_KEYS, f"{section}: unknown keys in {pattern}"
            assert set(pattern) - {"why"}, f"{section}: {pattern} matches every class"
            for key, allowed in vocabulary.items():
                for value in _values(pattern.get(key, [])):
                    assert value in allowed, f"{section}: {key}={value!r} in {pattern}"
            for key in NAME_KEYS:
                for value in _values(pattern.get(key, [])):
                    assert isinstance(value, str) and value, f"{section}: {key} in {pattern}"


@pytest.mark.parametrize("path", LABEL_FILES, ids=lambda p: p.stem)
def test_label_file_names_only_what_its_model_has(path: Path):
    labels = sq.load_labels(path)
    model_path = EXAMPLES / f"{labels['device']}.yaml"
    if not model_path.exists():
        pytest.skip(f"no model {model_path.name} yet")
    names = model_names(yaml.safe_load(model_path.read_text(encoding="utf-8")))
    unknown = [
        (section, key, value)
        for section in sq.SECTIONS
        for pattern in labels[section]
        for key in NAME_KEYS
        for value in _values(pattern.get(key, []))
        if value not in names[key]
    ]
    assert not unknown, f"names not in {model_path.name}: {unknown}"


def _result(*scenarios: dict[str, Any]) -> SimpleNamespace:
    actions = [SimpleNamespace(id="CA-1", name="bolus_recommendation", controller="advisor")]
    ucas = [
        SimpleNamespace(id="UCA-1", control_action="CA-1", type="provided_unsafe"),
        SimpleNamespace(id="UCA-2", control_action="CA-1", type="not_provided"),
    ]
    return SimpleNamespace(control_actions=actions, ucas=ucas, loss_scenarios=list(scenarios))


def test_matcher_reads_uca_ids_and_members_and_lets_forbidden_win():
    raised = {"family": "feedback", "element": "meter_to_app", "members": ["phone_app"]}
    raised |= {"signal": "fingerstick_glucose", "manipulation": "raise", "uca": "UCA-1"}
    wrong_sign = raised | {"uca": "UCA-2"}
    result = _result(raised, wrong_sign)
    views = [sq.class_view(s, result) for s in result.loss_scenarios]
    assert views[0].action == "bolus_recommendation" and views[0].controller == "advisor"
    labels = {
        "device": "toy",
        "expected": [{"through": "phone_app", "manipulation": ["raise"], "uca": "provided_unsafe"}],
        "acceptable": [{"signal": "fingerstick_glucose"}],
        "forbidden": [{"manipulation": "raise", "uca": "not_provided"}],
    }
    judgement = sq.judge(labels, views)
    assert (judgement.correct, len(judgement.forbidden), judgement.missed) == (1, 1, [])
    assert judgement.precision == 0.5 and judgement.recall == 1.0


def _witnesses(pattern: dict[str, Any]) -> list[sq.ClassView]:
    """Concrete classes meeting a pattern: its listed values crossed with the vocabulary;
    keys it leaves open that name model elements take a value no other pattern lists."""
    choices: dict[str, list[Any]] = {
        "family": sorted(sq.FAMILIES),
        "manipulation": sorted(sq.MANIPULATIONS),
        "uca": sorted(sq.UCA_TYPES),
    }
    for key in ("family", "manipulation", "uca", *NAME_KEYS):
        if key in pattern:
            choices[key] = _values(pattern[key])
        elif key not in choices:
            choices[key] = [None]
    views = [{}]
    for key, options in choices.items():
        views = [view | {key: option} for view in views for option in options]
    return [
        sq.ClassView(
            family=v["family"],
            element=v["through"],
            through=frozenset({v["through"]} - {None}),
            signal=v["signal"],
            manipulation=v["manipulation"],
            action=v["action"],
            uca=v["uca"],
            controller=v["controller"],
        )
        for v in views
    ]


@pytest.mark.parametrize("path", LABEL_FILES, ids=lambda p: p.stem)
def test_every_expected_pattern_can_be_met_without_a_forbidden_one(path: Path):
    labels = sq.load_labels(path)
    impossible = [
        pattern
        for pattern in labels["expected"]
        if all(sq.first_match(labels["forbidden"], v) for v in _witnesses(pattern))
    ]
    assert not impossible, f"expected patterns every witness of which is forbidden: {impossible}"
