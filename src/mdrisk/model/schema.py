"""The device model: an AI/ML-enabled medical device described as a control structure.

Field names are what an analyst writes in YAML. Every object forbids unknown keys so that a
typo (``protection:`` for ``protections:``) is an error rather than a silently ignored line.
"""

from __future__ import annotations

import unicodedata
from enum import StrEnum
from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    field_validator,
    model_validator,
)

from mdrisk.model.absent_keys import OmitsAbsent

ID_PATTERN = r"^[A-Za-z][A-Za-z0-9_.\-]*$"
Identifier = Annotated[str, Field(pattern=ID_PATTERN, min_length=1, max_length=80)]


def _printable(value: str, allowed: str) -> str:
    """``value`` when it holds no control character outside ``allowed``: a NUL or escape in
    a name breaks every writer downstream (DOT, terminals) and is never what was meant."""
    for position, char in enumerate(value):
        if char not in allowed and unicodedata.category(char) == "Cc":
            raise ValueError(
                f"holds the control character U+{ord(char):04X} at position {position + 1} "
                "(fix: remove it)"
            )
    return value


def _printable_line(value: str) -> str:
    return _printable(value, "")


def _printable_text(value: str) -> str:
    return _printable(value, "\n\t")


Text = Annotated[str, Field(max_length=4000), AfterValidator(_printable_text)]
# A name shown in diagrams and reports: one line, no control characters.
Name = Annotated[str, Field(min_length=1, max_length=200), AfterValidator(_printable_line)]


class _Strict(BaseModel):
    # NaN and infinity are refused where they enter (a range of [nan, inf] means nothing).
    model_config = ConfigDict(
        extra="forbid", frozen=True, populate_by_name=True, allow_inf_nan=False
    )


class ComponentKind(StrEnum):
    sensor = "sensor"
    actuator = "actuator"
    ml_engine = "ml_engine"
    controller = "controller"
    app = "app"
    gateway = "gateway"
    cloud = "cloud"
    ehr = "ehr"
    human = "human"
    controlled_process = "controlled_process"
    imaging_device = "imaging_device"
    storage = "storage"
    display = "display"
    external = "external"


# Kinds that can decide and issue control actions (STPA "controllers").
CONTROLLER_KINDS = frozenset(
    {
        ComponentKind.controller,
        ComponentKind.app,
        ComponentKind.human,
        ComponentKind.ml_engine,
        ComponentKind.cloud,
        ComponentKind.gateway,
        ComponentKind.imaging_device,
        ComponentKind.ehr,
    }
)
# An actuator carries out a controller's action on the process; it does not decide, so it
# may be the source of a control_action link but gets no unsafe control actions of its own.
ACTUATING_KINDS = frozenset({ComponentKind.actuator})
# Kinds that turn a physical quantity into data: where a measured signal originates.
MEASURING_KINDS = frozenset({ComponentKind.sensor, ComponentKind.imaging_device})


class LinkKind(StrEnum):
    control_action = "control_action"
    feedback = "feedback"
    data = "data"
    update = "update"


class UCAType(StrEnum):
    """The four ways a control action can be unsafe (STPA handbook, step 2)."""

    not_provided = "not_provided"
    provided_unsafe = "provided_unsafe"
    wrong_timing = "wrong_timing"
    wrong_duration = "wrong_duration"


class Effect(StrEnum):
    """How a higher value of one quantity moves another (signed influence)."""

    increases = "increases"
    decreases = "decreases"
    non_monotonic = "non_monotonic"
    unknown = "unknown"
    none = "none"  # declared to have no influence


class SignalNature(StrEnum):
    """What a signal is, which decides how it can be falsified (``stpa.truth_tables``)."""

    measurement = "measurement"  # a periodic sensor stream
    reading = "reading"  # a sporadic manual measurement, e.g. a fingerstick
    event = "event"  # something announced or occurring, e.g. a carbohydrate entry
    setting = "setting"  # configuration a controller decides with, e.g. therapy settings
    image = "image"
    video = "video"
    record = "record"  # structured clinical data, reports, results
    identifier = "identifier"  # patient, study or sample identity
    model = "model"  # a model file or firmware image
    discrete = "discrete"  # a one-shot control action: an alert, a recommendation, a bolus
    continuous = "continuous"  # a control action that lasts: an infusion, a suspension


class Technology(_Strict):
    """A technology a component or channel is built from, as precise as the maker knows it."""

    name: Name
    vendor: str | None = None
    product: str | None = None
    version: str | None = None
    cpe: Annotated[str, Field(pattern=r"^cpe:2\.3:[aho\*\-]:")] | None = None
    purl: Annotated[str, Field(pattern=r"^pkg:[a-zA-Z][a-zA-Z0-9.+\-]*/")] | None = None
    # Configuration that changes which threats apply, e.g. {"pairing": "just_works"}.
    config: dict[str, str] = Field(default_factory=dict)

    @field_validator("version", mode="before")
    @classmethod
    def _version_as_text(cls, value: Any) -> Any:
        # YAML reads `version: 1.10` as 1.1 and `version: 010` as 8; refuse rather than
        # silently match vulnerabilities against a version nobody wrote.
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            raise ValueError(
                f'version {value!r} was read as a number; quote it (version: "{value}")'
            )
        return value


class Protections(_Strict):
    """What protects a channel. Absent means not provided."""

    authentication: bool = False
    encryption: bool = False
    integrity: bool = False
    replay_protection: bool = False
    notes: Text = ""


class UnsafeContext(_Strict):
    """When one type of UCA is unsafe, in the analyst's words, and the hazards it leads to;
    or why that type cannot occur (``not_applicable``, e.g. a one-off action has no duration).
    """

    context: Annotated[str, Field(min_length=1, max_length=4000)] | None = None
    hazards: list[Identifier] = Field(default_factory=list)
    not_applicable: Annotated[str, Field(min_length=1, max_length=4000)] | None = None

    @model_validator(mode="before")
    @classmethod
    def _from_text(cls, value: Any) -> Any:
        if isinstance(value, str):
            return {"context": value}
        return value

    @model_validator(mode="after")
    def _context_or_reason(self) -> UnsafeContext:
        if (self.context is None) == (self.not_applicable is None):
            raise ValueError(
                "give either context (when it is unsafe) or not_applicable "
                "(why this type cannot occur), not both or neither "
                "(fix: keep exactly one of context: and not_applicable:)"
            )
        if self.not_applicable is not None and self.hazards:
            raise ValueError(
                "a type that is not applicable has no hazards "
                "(fix: remove hazards: or the not_applicable: reason)"
            )
        return self


class UnsafeContexts(_Strict):
    """Process-model contexts in which a control action is unsafe, one per UCA type.

    Written by the analyst in plain words ("glucose is below 70 mg/dL or falling"), optionally
    with the hazards of that type alone. Missing entries are derived from the controller's
    process model and take the control action's hazards.
    """

    not_provided: UnsafeContext | None = None
    provided_unsafe: UnsafeContext | None = None
    wrong_timing: UnsafeContext | None = None
    wrong_duration: UnsafeContext | None = None


class Signal(_Strict):
    """Something a link carries: a measurement, a result, a command, a model file."""

    name: Identifier
    description: Text = ""
    unit: str | None = None
    range: tuple[float, float] | None = None
    # Only meaningful for control actions: the hazards this action can lead to.
    hazards: list[Identifier] = Field(default_factory=list)
    unsafe_when: UnsafeContexts | None = None
    nature: SignalNature | None = None
    # Only for control actions: how a higher belief in each of the controller's process
    # variables drives the need for this action. Absent: every variable, direction unknown;
    # {} : the action is not decided from the process model (it relays a person's decision).
    demand: dict[Identifier, Effect] | None = None

    @model_validator(mode="before")
    @classmethod
    def _from_name(cls, value: Any) -> Any:
        if isinstance(value, str):
            return {"name": value}
        return value

    @field_validator("range")
    @classmethod
    def _ordered_range(cls, value: tuple[float, float] | None) -> tuple[float, float] | None:
        if value is not None and value[0] > value[1]:
            raise ValueError(f"range [{value[0]}, {value[1]}] has its minimum above its maximum")
        return value


class ProcessVariable(_Strict):
    """A variable in a controller's process model (what it believes about the process)."""

    name: Identifier
    values: list[str] = Field(default_factory=list)
    # Signals that update this belief (feedback, ML outputs).
    from_signals: list[Identifier] = Field(default_factory=list)
    # How a higher value of each of those signals moves the belief; unlisted: unknown.
    effects: dict[Identifier, Effect] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _effects_of_known_signals(self) -> ProcessVariable:
        unknown = sorted(set(self.effects) - set(self.from_signals))
        if unknown:
            raise ValueError(
                f"effects names {', '.join(unknown)}, not in from_signals "
                "(fix: add it to from_signals or remove it from effects)"
            )
        return self


class MLInput(_Strict):
    signal: Identifier
    description: Text = ""
    unit: str | None = None
    range: tuple[float, float] | None = None
    nature: SignalNature | None = None
    # How a higher input moves the outputs: one effect for all, or one per output name.
    effect: Effect | dict[Identifier, Effect] = Effect.unknown

    def effect_on(self, output: str) -> Effect:
        if isinstance(self.effect, Effect):
            return self.effect
        return self.effect.get(output, Effect.unknown)


class TrainingData(_Strict):
    source: str
    description: Text = ""
    # Whether the deployed model is retrained from field data after release.
    continuous: bool = False


class ModelFormat(StrEnum):
    """How a model file is stored; each is read without running code from the file."""

    onnx = "onnx"  # read by onnxruntime
    skops = "skops"  # scikit-learn through skops, its types checked against an allow-list


class ArtifactFeature(_Strict):
    """One column of the model's input, in the model's order, and the ML input it is made
    from: an attacker who controls that input controls this feature and no other."""

    name: Identifier
    signal: Identifier
    # What the feature can hold; absent: the ML input's range.
    range: tuple[float, float] | None = None
    # For a feature that is one reading of a series (a CGM history): minutes before the
    # prediction time. A rate detector on the signal bounds consecutive readings.
    lag_min: Annotated[float, Field(ge=0, le=10_080)] | None = None

    @field_validator("range")
    @classmethod
    def _ordered_range(cls, value: tuple[float, float] | None) -> tuple[float, float] | None:
        if value is not None and value[0] > value[1]:
            raise ValueError(f"range [{value[0]}, {value[1]}] has its minimum above its maximum")
        return value


class EvaluationData(_Strict):
    """Labelled data to measure the model with: a CSV with a column per feature (by name)
    and a label column, or an NPZ with an ``X`` matrix in feature order and a label array."""

    file: Annotated[str, Field(min_length=1, max_length=4096)]
    label: Identifier = "label"
    # Column (CSV) or array (NPZ) saying, per row, "train" when the model was trained on it,
    # else "test"; absent: no row was used in training.
    split: Identifier | None = None


class Misclassification(_Strict):
    """A wrong class and the hazards it leads to (a malignant case read as benign)."""

    actual: Identifier
    predicted: Identifier
    hazards: list[Identifier] = Field(default_factory=list)


class ModelArtifact(_Strict):
    """The engine's model file, relative to the device model file."""

    file: Annotated[str, Field(min_length=1, max_length=4096)]
    format: ModelFormat
    features: list[ArtifactFeature] = Field(min_length=1, max_length=10_000)
    # Class names in the order of the model's class indices (classification).
    classes: list[Identifier] = Field(default_factory=list)
    # The class a higher output means (a finding: "malignant"), so that the signed influence
    # of each input can be measured on the model (``mlattack.influence``).
    positive_class: Identifier | None = None
    misclassifications: list[Misclassification] = Field(default_factory=list)
    evaluation: EvaluationData | None = None

    @model_validator(mode="after")
    def _positive_class_is_a_class(self) -> ModelArtifact:
        if self.positive_class is not None and self.positive_class not in self.classes:
            raise ValueError(
                f"positive_class '{self.positive_class}' is not one of classes "
                f"(fix: name one of {', '.join(self.classes) or 'the classes, listed first'})"
            )
        return self


class MLSpec(_Strict, OmitsAbsent):
    """What an ML engine does, from what, and how it is trained and updated."""

    absent_keys = ("artifact",)  # only an engine that names its model file carries the key

    task: Annotated[str, Field(min_length=1)]
    task_type: str = Field(
        default="regression",
        pattern=r"^(classification|regression|forecasting|ranking|detection|segmentation|generation)$",
    )
    model_type: str | None = None
    inputs: list[MLInput] = Field(min_length=1)
    outputs: list[Identifier] = Field(min_length=1)
    training_data: list[TrainingData] = Field(default_factory=list)
    update_path: list[Identifier] = Field(default_factory=list)
    locked: bool = True
    # The model file itself, for the attacks run on it (mdrisk.mlattack).
    artifact: ModelArtifact | None = None

    @model_validator(mode="after")
    def _effects_on_known_outputs(self) -> MLSpec:
        for ml_input in self.inputs:
            if isinstance(ml_input.effect, dict):
                unknown = sorted(set(ml_input.effect) - set(self.outputs))
                if unknown:
                    raise ValueError(
                        f"input {ml_input.signal}: effect names {', '.join(unknown)}, not an "
                        "output of this engine (fix: use a name from outputs)"
                    )
        return self


class Component(_Strict, OmitsAbsent):
    absent_keys = ("sbom",)  # only a component that names an SBOM carries the key

    id: Identifier
    name: Name
    kind: ComponentKind
    description: Text = ""
    zone: str | None = None
    technologies: list[Technology] = Field(default_factory=list)
    process_model: list[ProcessVariable] = Field(default_factory=list)
    ml: MLSpec | None = None
    # For a component that renames what it forwards: output signal -> signals it is made from.
    derives: dict[Identifier, list[Identifier]] = Field(default_factory=dict)
    # An SBOM (CycloneDX or SPDX) whose components are added to ``technologies`` when the
    # model is loaded; relative to the model file.
    sbom: Annotated[str, Field(min_length=1, max_length=4096)] | None = None


class Channel(_Strict):
    technology: Technology | None = None
    protections: Protections = Field(default_factory=Protections)
    # Both ends run in one process (a function call): there is no channel to protect apart
    # from the process itself, which stays an FDI point.
    in_process: bool = False


class Link(_Strict):
    id: Identifier
    source: Identifier = Field(alias="from")
    target: Identifier = Field(alias="to")
    kind: LinkKind
    carries: list[Signal] = Field(min_length=1)
    description: Text = ""
    channel: Channel = Field(default_factory=Channel)


class Loss(_Strict):
    id: Identifier
    description: Annotated[str, Field(min_length=1, max_length=4000)]
    severity: str | None = Field(
        default=None, pattern=r"^(negligible|minor|serious|critical|catastrophic)$"
    )


class Hazard(_Strict, OmitsAbsent):
    absent_keys = ("data",)  # models written before read back as they were

    id: Identifier
    description: Annotated[str, Field(min_length=1, max_length=4000)]
    losses: list[Identifier] = Field(default_factory=list)
    # "identity": the hazard is a result or action attributed to the wrong patient or sample,
    # which only falsified identity can bring about (not a wrong value or a model's error).
    # "disclosure": data reaching someone it should not (no control action brings it about,
    # so it is rated where the data can be read: unencrypted channels, stores of many
    # patients).
    concerns: str | None = Field(default=None, pattern=r"^(identity|disclosure)$")
    # For a disclosure hazard, the signals whose disclosure it is (e.g. the room video):
    # it is then rated only where they pass or are kept. Empty: any patients' data.
    data: list[Identifier] = Field(default_factory=list)
    # The severity of the harm this hazardous situation credibly leads to (ISO 14971), when
    # the analyst rates it more narrowly than the worst of its losses, with the reason.
    severity: str | None = Field(
        default=None, pattern=r"^(negligible|minor|serious|critical|catastrophic)$"
    )
    severity_rationale: Text = ""

    @model_validator(mode="after")
    def _severity_has_reason(self) -> Hazard:
        if self.severity is not None and not self.severity_rationale.strip():
            raise ValueError(
                f"hazard {self.id}: severity {self.severity} needs a severity_rationale "
                "(fix: say why the harm is rated so)"
            )
        return self


class DeviceInfo(_Strict):
    name: Name
    description: Text = ""
    manufacturer: str | None = None
    intended_use: Text = ""
    # Public references the model was written from (summaries, manuals), for the record.
    references: list[str] = Field(default_factory=list)
    # What the device's data is used for, e.g. therapy, diagnosis, personal_health_data.
    data_use: list[str] = Field(default_factory=list)


# --- Runtime detectors the device declares (anomaly detection on its own signals) -----------


class DetectorKind(StrEnum):
    """What a runtime detector checks."""

    range = "range"  # a value outside [low, high]
    rate = "rate"  # a change faster than max_per_min between consecutive values
    cusum = "cusum"  # persistent disagreement with an independent physiological forecast
    forecast_residual = "forecast_residual"  # persistent error of the device's own forecast
    isolation_forest = "isolation_forest"  # a learned model of normal signal windows
    # a reading that disagrees with an independent one taken at the same time by more than
    # max_difference mg/dL and max_difference_pct percent (a meter reading against the CGM)
    agreement = "agreement"


class DetectorResponse(StrEnum):
    """What the device does once a detector fires."""

    alarm = "alarm"  # the user is told; the loop itself is unchanged
    safe_mode = "safe_mode"  # dosing falls back to the standard calculator, without the ML
    suspend = "suspend"  # bolus advice and delivery stop
    reject_reading = "reject_reading"  # the reading is not used (the user is asked to retest)


class DetectorStatus(StrEnum):
    """Whether the detector is in the device as released or proposed as a control."""

    implemented = "implemented"
    proposed = "proposed"


# Kind -> every parameter it takes, with its default. The numbers are the stealth limits of
# mdrisk.impact.stealth (calibrated on adult virtual patients) and scikit-learn's defaults.
DETECTOR_DEFAULTS: dict[DetectorKind, dict[str, float]] = {
    DetectorKind.range: {"low": 40.0, "high": 400.0},  # mg/dL: a CGM's reportable range
    DetectorKind.rate: {"max_per_min": 4.0},  # mg/dL/min between consecutive values
    # mg/dL of residual tolerated every period, and accumulated beyond it before an alarm
    DetectorKind.cusum: {"allowance": 20.0, "threshold": 300.0},
    DetectorKind.forecast_residual: {"allowance": 20.0, "threshold": 300.0},
    # window of readings (minutes), share of training windows taken as anomalous,
    # consecutive anomalous windows before an alarm, trees of the forest
    DetectorKind.isolation_forest: {
        "window_min": 60.0,
        "contamination": 0.001,
        "persistence": 5.0,
        "trees": 100.0,
    },
    # mg/dL and percent: both exceeded before a reading is taken as disagreeing (ISO 15197
    # allows a meter 15 mg/dL / 15 %, a CGM is less accurate still)
    DetectorKind.agreement: {"max_difference": 30.0, "max_difference_pct": 25.0},
}


class DetectorParameters(_Strict):
    """Kind-specific settings; absent ones take :data:`DETECTOR_DEFAULTS`."""

    low: float | None = None
    high: float | None = None
    max_per_min: Annotated[float, Field(gt=0)] | None = None
    allowance: Annotated[float, Field(ge=0)] | None = None
    threshold: Annotated[float, Field(gt=0)] | None = None
    window_min: Annotated[int, Field(gt=0, le=1440)] | None = None
    contamination: Annotated[float, Field(gt=0, le=0.5)] | None = None
    persistence: Annotated[int, Field(ge=1, le=100)] | None = None
    trees: Annotated[int, Field(ge=1, le=1000)] | None = None
    max_difference: Annotated[float, Field(gt=0, le=1000)] | None = None
    max_difference_pct: Annotated[float, Field(gt=0, le=1000)] | None = None

    def given(self) -> dict[str, float]:
        return {name: float(value) for name, value in self if value is not None}


class Detector(_Strict):
    """A runtime anomaly detector on one of the device's signals, and the device's response."""

    id: Identifier
    kind: DetectorKind
    # A signal of the model: one a link carries, or an ML engine's output.
    signal: Identifier
    response: DetectorResponse = DetectorResponse.alarm
    status: DetectorStatus = DetectorStatus.implemented
    description: Text = ""
    parameters: DetectorParameters = Field(default_factory=DetectorParameters)

    @model_validator(mode="after")
    def _parameters_of_its_kind(self) -> Detector:
        defaults = DETECTOR_DEFAULTS[self.kind]
        foreign = sorted(set(self.parameters.given()) - set(defaults))
        if foreign:
            raise ValueError(
                f"parameters {', '.join(foreign)} do not apply to a {self.kind.value} detector "
                f"(fix: use {', '.join(defaults)})"
            )
        settings = self.settings()
        if self.kind == DetectorKind.range and settings["low"] >= settings["high"]:
            raise ValueError(
                f"parameters: low {settings['low']:g} is not below high {settings['high']:g} "
                "(fix: give low < high)"
            )
        return self

    def settings(self) -> dict[str, float]:
        """Every parameter of its kind: the given ones, else the defaults."""
        return {**DETECTOR_DEFAULTS[self.kind], **self.parameters.given()}


class DeviceModel(_Strict):
    """The whole device: what ``mdrisk validate`` and ``mdrisk analyze`` read."""

    schema_version: int = Field(default=1, ge=1, le=1)
    device: DeviceInfo
    components: list[Component] = Field(min_length=1)
    links: list[Link] = Field(default_factory=list)
    losses: list[Loss] = Field(default_factory=list)
    hazards: list[Hazard] = Field(default_factory=list)
    # Runtime anomaly detectors of the device (mdrisk.impact.detectors evaluates them).
    detectors: list[Detector] = Field(default_factory=list)

    def component(self, component_id: str) -> Component:
        for component in self.components:
            if component.id == component_id:
                return component
        raise KeyError(component_id)

    @property
    def ml_engines(self) -> list[Component]:
        return [c for c in self.components if c.ml is not None]

    def links_by_component(self) -> dict[str, list[Link]]:
        """Component id -> the links it sends or receives, in model order."""
        found: dict[str, list[Link]] = {}
        for link in self.links:
            found.setdefault(link.source, []).append(link)
            found.setdefault(link.target, []).append(link)
        return found
