"""Runtime detectors the device declares, evaluated with the glucose simulator
(mdrisk.impact.detectors): how often and how fast each catches an attack, how often it
alarms on a clean day, and the harm left once the device responds."""

from __future__ import annotations

from pydantic import Field

from mdrisk.assessment.base import Record


class DetectorPatientHarm(Record):
    """One patient's days under the attack: the worst ISO 14971 severity over the days and
    the mean minutes per day below 54 and above 250 mg/dL, on the clean days, the attacked
    days, and the attacked days with the detector's response (the same as attacked for an
    alarm, or on days it did not detect)."""

    patient: str
    days: int
    days_detected: int
    clean_severity: str
    attacked_severity: str
    responded_severity: str
    clean_minutes_below_54: float
    attacked_minutes_below_54: float
    responded_minutes_below_54: float
    clean_minutes_above_250: float
    attacked_minutes_above_250: float
    responded_minutes_above_250: float


class DetectorEvaluation(Record):
    """One declared detector against one attack (status "simulated"), or why it cannot be
    simulated (status "not_simulated", with the reason)."""

    id: str
    status: str  # "simulated" | "not_simulated"
    reason: str = ""
    detector: str  # the detector's id in the device model
    kind: str
    signal: str  # the device signal it watches
    response: str  # alarm | safe_mode | suspend
    declared_as: str  # implemented | proposed
    settings: dict[str, float] = Field(default_factory=dict)
    attack: str | None = None  # attack spec (mdrisk simulate glucose --attack)
    attack_name: str | None = None
    simulator_signal: str | None = None
    controller: str | None = None
    patients: list[str] = Field(default_factory=list)
    patient_days: int = 0
    detected_days: int = 0
    # Of those, the days detected while the attack still acted (not once it had stopped).
    detected_during_attack_days: int = 0
    detection_rate: float | None = None  # share of attacked patient-days detected
    time_to_detect_median_min: float | None = None  # from the attack's onset
    time_to_detect_max_min: float | None = None
    false_alarms_per_patient_day: float | None = None  # clean days, sensor noise on
    clean_days_with_false_alarm: int = 0
    # Clean days whose severity class the response to a false alarm made worse.
    clean_days_harmed_by_response: int = 0
    patients_harmed_attacked: int = 0  # patients whose worst class the attack raised
    patients_harmed_responded: int = 0  # the same, with the response acting
    harm: list[DetectorPatientHarm] = Field(default_factory=list)
    # Learned detector: patient -> the patients its model was trained on (never itself).
    training_patients: dict[str, list[str]] = Field(default_factory=dict)
    method: str = ""  # how it was measured, in words
