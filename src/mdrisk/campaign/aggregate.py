"""From task rows to harm distributions: per scenario class, attack and control.

For each (class, attack, control), over every patient-day of the campaign:

* ``attacked`` and ``delta`` (attacked minus the same day clean, without any response):
  median, 95th percentile and worst of each harm metric (for ``min_bg`` the 5th percentile
  and the lowest, lower being worse);
* ``severity_share``: the share of patient-days whose attacked run reaches each ISO 14971
  class (at least it); ``induced_share``: the same for the attack-induced class (the attacked
  run's class when worse than the clean day's, else none: see :mod:`mdrisk.impact.harm`);
* per patient: days, harmed days, worst classes and mean metrics;
* for the uncontrolled runs, each declared detector's detection rate (an attacked day is
  detected when the detector alarms after the onset and the clean twin has not by then),
  median time to detect and share of clean days with an alarm; for a control, the clean
  days its false alarms made worse in class.

Control ``none`` is the device as declared: detectors alarm, nothing changes in the loop.
Everything is computed from the rows in task order, so the result is the same whatever ran
the tasks, and rounded so its JSON is byte-identical run to run.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np

from mdrisk.campaign.batch import METRICS
from mdrisk.campaign.store import StoredTask
from mdrisk.impact.metrics import Severity

NO_CONTROL = "none"
LOWER_IS_WORSE = frozenset({"min_bg"})
SEVERITIES = tuple(s.label for s in Severity)


def _spread(name: str, values: np.ndarray) -> dict[str, float]:
    lower = name in LOWER_IS_WORSE
    return {
        "median": round(float(np.median(values)), 2),
        "p95": round(float(np.percentile(values, 5 if lower else 95)), 2),
        "worst": round(float(values.min() if lower else values.max()), 2),
    }


def _shares(levels: np.ndarray) -> dict[str, float]:
    """Share of rows at or above each class (levels 1-5; 0: none)."""
    n = len(levels)
    return {s.label: round(float((levels >= int(s)).sum() / n), 4) for s in Severity}


def _label(level: int) -> str | None:
    return Severity(level).label if level > 0 else None


class _Group:
    """The rows of one (class, attack, control), gathered column by column."""

    def __init__(self) -> None:
        self.patient: list[str] = []
        self.clean: dict[str, list[float]] = {m: [] for m in (*METRICS, "severity")}
        self.attacked: dict[str, list[float]] = {m: [] for m in (*METRICS, "severity")}
        self.detected: dict[str, list[bool]] = {}
        self.delay: dict[str, list[float]] = {}
        self.clean_alarm: dict[str, list[bool]] = {}
        self.response_clean_severity: list[float] = []

    def add(self, payload: dict[str, Any], control: str) -> None:
        self.patient += payload["patient"]
        attacked = (
            payload["attacked"]
            if control == NO_CONTROL
            else (payload["controls"][control]["attacked"])
        )
        for name in self.clean:
            self.clean[name] += payload["clean"][name]
            self.attacked[name] += attacked[name]
        if control == NO_CONTROL:
            for name, verdict in payload["detectors"].items():
                self.detected.setdefault(name, []).extend(verdict["detected"])
                self.clean_alarm.setdefault(name, []).extend(verdict["clean_alarm"])
                first = verdict["first_alarm_min"]
                self.delay.setdefault(name, []).extend(
                    t for t, hit in zip(first, verdict["detected"], strict=True) if hit
                )
        else:
            self.response_clean_severity += payload["controls"][control]["clean"]["severity"]


def _patients(group: _Group, induced: np.ndarray) -> list[dict[str, Any]]:
    names = np.asarray(group.patient)
    records = []
    for name in dict.fromkeys(group.patient):
        rows = names == name
        worst = int(induced[rows].max())
        records.append(
            {
                "patient": name,
                "days": int(rows.sum()),
                "harmed_days": int((induced[rows] > 0).sum()),
                "clean_severity": Severity(
                    int(np.max(np.asarray(group.clean["severity"])[rows]))
                ).label,
                "attacked_severity": Severity(
                    int(np.max(np.asarray(group.attacked["severity"])[rows]))
                ).label,
                "induced_severity": _label(worst),
                "clean": {
                    m: round(float(np.mean(np.asarray(group.clean[m])[rows])), 2) for m in METRICS
                },
                "attacked": {
                    m: round(float(np.mean(np.asarray(group.attacked[m])[rows])), 2)
                    for m in METRICS
                },
            }
        )
    return records


def _detection(group: _Group, onset_delays: dict[str, list[float]]) -> dict[str, Any]:
    out = {}
    for name, detected in group.detected.items():
        delays = onset_delays[name]
        out[name] = {
            "detection_rate": round(float(np.mean(detected)), 4),
            "detected_days": int(np.sum(detected)),
            "first_alarm_median_min": round(float(np.median(delays)), 1) if delays else None,
            "clean_days_with_alarm_share": round(float(np.mean(group.clean_alarm[name])), 4),
        }
    return out


def _record(key: tuple[str, str, str], group: _Group, loss_scenarios: Sequence[str]) -> dict:
    class_key, attack, control = key
    clean_level = np.asarray(group.clean["severity"], dtype=int)
    attacked_level = np.asarray(group.attacked["severity"], dtype=int)
    induced = np.where(attacked_level > clean_level, attacked_level, 0)
    patients = _patients(group, induced)
    record: dict[str, Any] = {
        "class": class_key,
        "loss_scenarios": list(loss_scenarios),
        "attack": attack,
        "control": control,
        "patients": len(patients),
        "patients_harmed": sum(p["harmed_days"] > 0 for p in patients),
        "patient_days": len(group.patient),
        "patient_days_harmed": int((induced > 0).sum()),
        "worst_induced_severity": _label(int(induced.max(initial=0))),
        "severity_share": _shares(attacked_level),
        "induced_share": _shares(induced),
        "attacked": {m: _spread(m, np.asarray(group.attacked[m], dtype=float)) for m in METRICS},
        "delta": {
            m: _spread(
                m,
                np.asarray(group.attacked[m], dtype=float)
                - np.asarray(group.clean[m], dtype=float),
            )
            for m in METRICS
        },
        "per_patient": patients,
    }
    if control == NO_CONTROL:
        record["detection"] = _detection(group, group.delay)
    else:
        after = np.asarray(group.response_clean_severity, dtype=int)
        record["clean_days_harmed_by_response"] = int((after > clean_level).sum())
    return record


def summarise(
    definition: Mapping[str, Any], fingerprint: str, rows: Iterable[StoredTask]
) -> dict[str, Any]:
    """The campaign's summary (JSON-ready) from its definition
    (:meth:`Campaign.definition`, as the results store keeps it) and its rows: one record
    per class, attack and control, in campaign order; the failed tasks with their errors;
    the per-class worst."""
    controls = [NO_CONTROL, *definition["controls"]]
    classes = definition["classes"]
    groups: dict[tuple[str, str, str], _Group] = {}
    failed = []
    for row in rows:
        if row.payload is None:
            failed.append({"task": row.key, "error": row.error})
            continue
        for control in controls:
            groups.setdefault((row.class_key, row.attack, control), _Group()).add(
                row.payload, control
            )
    loss_of = {c["key"]: c["loss_scenarios"] for c in classes}
    order = [(c["key"], a, ctl) for c in classes for a in c["attacks"] for ctl in controls]
    records = [_record(k, groups[k], loss_of[k[0]]) for k in order if k in groups]
    runs = sum(len(c["attacks"]) for c in classes)
    planned = runs * len(definition["patients"]) * definition["days"]
    return {
        "campaign": definition["name"],
        "fingerprint": fingerprint,
        "model_sha256": definition["model_sha256"],
        "patients": list(definition["patients"]),
        "days": definition["days"],
        "seed": definition["seed"],
        "controls": controls,
        "detectors": [d["id"] for d in definition["detectors"]],
        "patient_days_planned": planned,
        "patient_days_measured": sum(
            r["patient_days"] for r in records if r["control"] == NO_CONTROL
        ),
        "failed_tasks": failed,
        "results": records,
        "by_class": by_class(records),
    }


def _rank(record: dict[str, Any]) -> tuple[int, float]:
    worst = record["worst_induced_severity"]
    level = SEVERITIES.index(worst) + 1 if worst else 0
    return level, record["induced_share"]["negligible"]


def by_class(records: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """Per class and control, the attack of the worst measured harm (worst class, then the
    largest share of harmed patient-days)."""
    best: dict[tuple[str, str], dict[str, Any]] = {}
    for record in records:
        key = (record["class"], record["control"])
        if key not in best or _rank(record) > _rank(best[key]):
            best[key] = record
    return [
        {
            "class": r["class"],
            "control": r["control"],
            "loss_scenarios": r["loss_scenarios"],
            "worst_attack": r["attack"],
            "worst_induced_severity": r["worst_induced_severity"],
            "patient_days": r["patient_days"],
            "patient_days_harmed": r["patient_days_harmed"],
            "patients": r["patients"],
            "patients_harmed": r["patients_harmed"],
            "induced_share": r["induced_share"],
        }
        for r in best.values()
    ]
