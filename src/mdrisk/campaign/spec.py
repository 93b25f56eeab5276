"""The campaign file: what to sweep, read with located errors, resolved against the model.

YAML (or JSON)::

    campaign: bgms-cgm-sweep          # a name for the results
    model: bgms                       # a device model file (relative to this file) or a
                                      # built-in example name
    classes: all                      # or a list: loss-scenario ids (LS-...) or attack keys
                                      # '<signal> <manipulation>' ('cgm_glucose raise')
    attacks:                          # parameter ranges replacing a class's mapped attack
      cgm_glucose raise:
        template: "bias:+{offset}@cgm,{start}-14:00"
        values:
          offset: {from: 30, to: 90, step: 30}    # or a list: [30, 60, 90]
          start: ["08:00", "10:00"]
    patients: all                     # the --patients language ('adult#001-010', 'child')
    days: 20                          # Monte Carlo days per patient
    seed: 1
    detectors: all                    # 'all', 'none' or ids of the model's detectors
    controls: [cgm_physiology_cusum]  # detectors whose response is applied (candidate
                                      # controls); the uncontrolled runs are always kept
    batch_patient_days: 600           # patient-days a task carries

A class is an attack key of the impact mapping (``data/glucose-impact.yaml``): the
loss-scenario classes that falsify the same signal the same way share one attack, so one
simulation stands for all of them. Anything wrong exits with status 2 naming the file, the
line and the field.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import math
import string
from dataclasses import asdict, dataclass, field
from importlib import resources
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import Field

from mdrisk.errors import InputError, Problem
from mdrisk.impact.attacks.spec import SpecError, parse_plan
from mdrisk.impact.bridge import ImpactMapping
from mdrisk.impact.detector_bridge import detector_spec
from mdrisk.impact.detectors import DetectorSpec
from mdrisk.impact.fingerstick import Fingerstick
from mdrisk.impact.params import patient_names
from mdrisk.impact.responses import CHANGES_THE_LOOP
from mdrisk.impact.selection import parse_meals, select_patients
from mdrisk.model import DeviceModel, load_model
from mdrisk.parsing.source import SourceDocument, parse_document, read_text
from mdrisk.parsing.validation import StrictModel, validated
from mdrisk.stpa import analyze_stpa

CONTROL_RESPONSES = (*CHANGES_THE_LOOP, "reject_reading")
Scalar = float | int | str


class _Range(StrictModel):
    start: float = Field(alias="from")
    to: float
    step: float = Field(gt=0)

    def values(self) -> list[float]:
        count = math.floor((self.to - self.start) / self.step + 1e-9) + 1
        if count < 1:
            raise ValueError(f"the range from {self.start:g} to {self.to:g} is empty")
        return [round(self.start + i * self.step, 9) for i in range(count)]


class _Sweep(StrictModel):
    template: Annotated[str, Field(min_length=1)]
    values: dict[str, Annotated[list[Scalar], Field(min_length=1)] | _Range] = Field(
        default_factory=dict
    )


class _Variability(StrictModel):
    time_sd_min: float = Field(30.0, ge=0, le=240)
    size_spread: float = Field(0.3, ge=0, lt=1)


class CampaignFile(StrictModel):
    """The schema of a campaign file."""

    campaign: Annotated[str, Field(min_length=1, max_length=100)]
    model: Annotated[str, Field(min_length=1)]
    classes: Literal["all"] | Annotated[list[str], Field(min_length=1)] = "all"
    attacks: dict[str, _Sweep] = Field(default_factory=dict)
    patients: str = "all"
    days: int = Field(ge=1, le=100_000)
    seed: int = Field(1, ge=0, lt=2**31)
    detectors: Literal["all", "none"] | list[str] = "none"
    controls: list[str] = Field(default_factory=list)
    variability: _Variability = Field(default_factory=_Variability)
    batch_patient_days: int = Field(600, ge=1, le=100_000)


@dataclass(frozen=True)
class ScenarioClass:
    """One attack key, the loss-scenario classes it stands for, and the attacks swept."""

    key: str
    loss_scenarios: tuple[str, ...]
    attacks: tuple[str, ...]


@dataclass(frozen=True)
class Campaign:
    """A campaign file resolved: every value the tasks need, nothing left to look up."""

    name: str
    file: str
    model_file: str
    model_sha256: str
    classes: tuple[ScenarioClass, ...]
    patients: tuple[str, ...]
    days: int
    seed: int
    controller: str
    meals: tuple[tuple[int, float], ...]
    variability: tuple[float, float]
    fingerstick: Fingerstick | None
    detectors: tuple[DetectorSpec, ...]
    controls: tuple[str, ...]
    batch_patient_days: int
    notes: tuple[str, ...] = field(default=(), compare=False)

    @property
    def patient_days(self) -> int:
        """Attacked patient-days over the whole campaign."""
        runs = sum(len(c.attacks) for c in self.classes)
        return runs * len(self.patients) * self.days

    def definition(self) -> dict[str, Any]:
        """What defines the results (not where the files lie): the fingerprint's input."""
        data = asdict(self)
        for key in ("file", "model_file", "notes"):
            data.pop(key)
        data["detectors"] = [
            {**asdict(d), "settings": dict(sorted(d.settings.items()))} for d in self.detectors
        ]
        return data

    def fingerprint(self) -> str:
        text = json.dumps(self.definition(), sort_keys=True, default=str)
        return hashlib.sha256(text.encode()).hexdigest()


def _model_path(text: str, base: Path) -> Path | None:
    path = base / text
    if path.is_file():
        return path
    resource = resources.files("mdrisk") / "examples" / f"{text.removesuffix('.yaml')}.yaml"
    return Path(str(resource)) if resource.is_file() else None


class _Locator:
    """Problems located in the campaign file."""

    def __init__(self, source: SourceDocument) -> None:
        self.source = source
        self.problems: list[Problem] = []

    def add(self, path: tuple[str | int, ...], message: str, fix: str = "") -> None:
        self.problems.append(
            Problem(
                message,
                field=self.source.render_path(path),
                line=self.source.line_of(path),
                fix=fix,
            )
        )

    def raise_if_any(self) -> None:
        if self.problems:
            raise InputError(self.source.file, self.problems)


def _simulated_classes(model: DeviceModel, mapping: ImpactMapping) -> dict[str, list[str]]:
    """Attack key ('signal manipulation') -> loss-scenario ids, for every class the
    simulator stands for; and each simulated id's key."""
    stpa = analyze_stpa(model)
    action_of = {ca.id: ca.name for ca in stpa.control_actions}
    groups: dict[str, list[str]] = {}
    for scenario in stpa.loss_scenarios:
        found = mapping.attack_for(scenario, action_of[scenario.control_action])
        if not isinstance(found, str):
            groups.setdefault(f"{found[0]} {found[1]}", []).append(scenario.id)
    order = [*mapping.inputs, "model"]
    return dict(sorted(groups.items(), key=lambda kv: (order.index(kv[0].split()[0]), kv[0])))


def _reasons(model: DeviceModel, mapping: ImpactMapping) -> dict[str, str]:
    """Why each loss scenario the simulator does not stand for is not simulated."""
    stpa = analyze_stpa(model)
    action_of = {ca.id: ca.name for ca in stpa.control_actions}
    reasons = {}
    for scenario in stpa.loss_scenarios:
        found = mapping.attack_for(scenario, action_of[scenario.control_action])
        if isinstance(found, str):
            reasons[scenario.id] = found
    return reasons


def _selected(
    chosen: Any,
    known: dict[str, list[str]],
    model: DeviceModel,
    mapping: ImpactMapping,
    at: _Locator,
) -> list[str]:
    if chosen == "all":
        return list(known)
    key_of = {ls: key for key, ids in known.items() for ls in ids}
    reasons = _reasons(model, mapping) if any(c not in known for c in chosen) else {}
    keys: list[str] = []
    for index, item in enumerate(chosen):
        if item in known:
            keys.append(item)
        elif item in key_of:
            keys.append(key_of[item])
        elif item in reasons:
            at.add(("classes", index), f"{item} is not simulated: {reasons[item]}")
        else:
            at.add(
                ("classes", index),
                f"'{item}' is neither a simulated class nor a loss-scenario id of the model",
                f"use 'all', an LS- id, or one of: {', '.join(known)}",
            )
    return list(dict.fromkeys(keys))


def _text(value: Scalar) -> str:
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def _sweep(key: str, sweep: _Sweep, at: _Locator) -> tuple[str, ...]:
    where = ("attacks", key)
    names = [name for _, name, _, _ in string.Formatter().parse(sweep.template) if name]
    missing = sorted(set(names) - set(sweep.values))
    unused = sorted(set(sweep.values) - set(names))
    if missing:
        at.add((*where, "template"), f"no values for {', '.join(missing)}", "add them under values")
        return ()
    if unused:
        at.add((*where, "values"), f"{', '.join(unused)} not in the template", "remove them")
        return ()
    grids: list[list[Scalar]] = []
    for name, values in sweep.values.items():
        if isinstance(values, _Range):
            try:
                grids.append(list(values.values()))
            except ValueError as error:
                at.add((*where, "values", name), str(error))
                return ()
        else:
            grids.append(values)
    attacks = []
    for combo in itertools.product(*grids):
        text = sweep.template.format(
            **{n: _text(v) for n, v in zip(sweep.values, combo, strict=True)}
        )
        try:
            parse_plan(text)
        except SpecError as error:
            at.add((*where, "template"), f"{text!r}: {error.render()}", error.fix)
            return ()
        attacks.append(text)
    return tuple(dict.fromkeys(attacks))


def _detectors(
    checked: CampaignFile, model: DeviceModel, mapping: ImpactMapping, at: _Locator
) -> tuple[tuple[DetectorSpec, ...], tuple[str, ...], list[str]]:
    declared = {d.id: d for d in model.detectors}
    notes: list[str] = []
    wanted: list[tuple[str, tuple[str | int, ...]]] = []
    if checked.detectors == "all":
        wanted = [(d, ("detectors",)) for d in declared]
    elif checked.detectors != "none":
        wanted = [(d, ("detectors", i)) for i, d in enumerate(checked.detectors)]
    wanted += [(c, ("controls", i)) for i, c in enumerate(checked.controls)]
    specs: dict[str, DetectorSpec] = {}
    for name, path in wanted:
        explicit = path != ("detectors",)
        detector = declared.get(name)
        if detector is None:
            at.add(
                path,
                f"the model declares no detector '{name}'",
                f"use one of: {', '.join(declared) or '(none declared)'}",
            )
            continue
        spec = detector_spec(model, mapping, detector)
        reason = spec if isinstance(spec, str) else None
        if reason is None and detector.kind.value == "isolation_forest":
            reason = "the learned detector needs training runs; campaigns do not train it yet"
        if reason is not None:
            if explicit:
                at.add(path, f"{name}: {reason}")
            else:
                notes.append(f"detector {name} left out: {reason}")
            continue
        assert isinstance(spec, DetectorSpec)
        specs.setdefault(name, spec)
    controls = tuple(dict.fromkeys(checked.controls))
    for index, name in enumerate(checked.controls):
        control = specs.get(name)
        if control is not None and control.response not in CONTROL_RESPONSES:
            at.add(
                ("controls", index),
                f"{name} responds with '{control.response}', which changes nothing in the "
                "simulated loop",
                f"a control is a detector whose response is {' or '.join(CONTROL_RESPONSES)}",
            )
        rejects = control is not None and control.response == "reject_reading"
        if rejects and mapping.fingerstick() is None:
            at.add(("controls", index), f"{name}: the mapping's run has no fingerstick schedule")
    return tuple(specs.values()), controls, notes


def load_campaign(path: Path, mapping: ImpactMapping) -> Campaign:
    """Read and resolve the campaign at ``path`` against its model and ``mapping`` (the
    built-in ``glucose-impact.yaml``, passed in by the caller). InputError naming the file,
    line and field of anything wrong (the model's own errors name the model file)."""
    source = parse_document(read_text(path, what="a campaign file"), str(path))
    checked = validated(
        CampaignFile,
        source,
        "a campaign file is a mapping with campaign, model, classes, patients, days, seed ...",
    )
    at = _Locator(source)
    model_path = _model_path(checked.model, path.parent)
    if model_path is None:
        at.add(
            ("model",),
            f"no model file '{checked.model}' beside the campaign file and no "
            "built-in example of that name",
            "give a path relative to the campaign file",
        )
        at.raise_if_any()
    assert model_path is not None
    loaded = load_model(model_path)
    known = _simulated_classes(loaded.model, mapping)
    if not known:
        at.add(("model",), "the simulator stands for none of this model's loss scenarios")
        at.raise_if_any()
    keys = _selected(checked.classes, known, loaded.model, mapping, at)
    for key in checked.attacks:
        if key not in keys:
            at.add(
                ("attacks", key),
                f"'{key}' is not a class of this campaign",
                f"use one of: {', '.join(keys)}",
            )
    try:
        patients = select_patients(checked.patients, patient_names())
    except SpecError as error:
        at.problems.append(error.problem(field="patients", line=source.line_of(("patients",))))
        patients = ()
    detectors, controls, notes = _detectors(checked, loaded.model, mapping, at)
    classes = []
    for key in keys:
        if key in checked.attacks:
            attacks = _sweep(key, checked.attacks[key], at)
        else:
            signal, manipulation = key.split(" ", 1)
            attacks = (str(mapping.entry(signal)["attacks"][manipulation]),)
        classes.append(ScenarioClass(key, tuple(known[key]), attacks))
    at.raise_if_any()
    run = mapping.run
    reference = parse_meals(str(run["meals"]), name="reference day")
    return Campaign(
        name=checked.campaign,
        file=str(path),
        model_file=str(model_path),
        model_sha256=loaded.source.sha256,
        classes=tuple(classes),
        patients=patients,
        days=checked.days,
        seed=checked.seed,
        controller=str(run["controller"]),
        meals=tuple((m.time_min, m.carbs_g) for m in reference.meals),
        variability=(checked.variability.time_sd_min, checked.variability.size_spread),
        fingerstick=mapping.fingerstick(),
        detectors=detectors,
        controls=controls,
        batch_patient_days=checked.batch_patient_days,
        notes=tuple(notes),
    )
