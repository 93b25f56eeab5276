"""Attack runs and search results as plain data: for JSON output, tables and CSV.

Everything is rounded (3 decimals) and ordered, so the same inputs give the same bytes.
"""

from __future__ import annotations

import csv
import io
from typing import Any

import numpy as np

from mdrisk.impact.experiment import AttackRuns
from mdrisk.impact.harm import REPORTED_METRICS, PatientHarm
from mdrisk.impact.search import Outcome, SearchResult
from mdrisk.impact.selection import meals_text
from mdrisk.impact.stealth import StealthReport


def _rounded(values: dict[str, float]) -> dict[str, float]:
    return {k: round(float(values[k]), 3) for k in REPORTED_METRICS}


def patient_record(harm: PatientHarm, stealthy: bool, alarms: list[str]) -> dict[str, Any]:
    induced = harm.induced_severity
    return {
        "patient": harm.patient,
        "clean": _rounded(harm.clean),
        "attacked": _rounded(harm.attacked),
        "delta": {k: round(float(v), 3) for k, v in harm.delta.items() if k in REPORTED_METRICS},
        "clean_severity": harm.clean_severity.severity.label,
        "attacked_severity": harm.attacked_severity.severity.label,
        "induced_severity": induced.label if induced else None,
        "new_criteria": list(harm.new_criteria),
        "stealthy": stealthy,
        "alarms": alarms,
    }


def plan_summary(records: list[dict[str, Any]]) -> dict[str, Any]:
    order = ["negligible", "minor", "serious", "critical", "catastrophic"]
    induced = [r["induced_severity"] for r in records if r["induced_severity"]]
    deltas = {
        k: round(float(np.mean([r["delta"][k] for r in records])), 3)
        for k in ("minutes_below_54", "minutes_below_70", "minutes_above_250", "lbgi", "hbgi")
    }
    return {
        "patients": len(records),
        "patients_harmed": len(induced),
        "worst_induced_severity": max(induced, key=order.index) if induced else None,
        "stealthy_patients": sum(r["stealthy"] for r in records),
        "mean_delta": deltas,
    }


def _clean_records(runs: AttackRuns) -> list[dict[str, Any]]:
    metrics = runs.result.metrics
    stealth: StealthReport = runs.clean_stealth()
    severities = runs.result.severity()
    records = []
    for index, row in enumerate(runs.rows(0)):
        records.append(
            {
                "patient": runs.setup.patients[index],
                "metrics": _rounded(metrics.row(int(row))),
                "severity": severities[int(row)].severity.label,
                "criteria": list(severities[int(row)].criteria),
                "false_alarms": stealth.tripped(index),
            }
        )
    return records


def runs_record(runs: AttackRuns) -> dict[str, Any]:
    """Setup, clean runs and every attack plan's per-patient comparison."""
    setup = runs.setup
    attacks = []
    for index, plan in enumerate(runs.plans):
        stealth = runs.plan_stealth(index)
        records = [
            patient_record(h, bool(stealth.stealthy[i]), stealth.tripped(i))
            for i, h in enumerate(runs.harm(index))
        ]
        attacks.append(
            {
                "name": plan.name,
                "attack": plan.text,
                "patients": records,
                "summary": plan_summary(records),
            }
        )
    limits = setup.limits
    return {
        "setup": {
            "patients": list(setup.patients),
            "controller": setup.controller,
            "meals": meals_text(setup.scenario),
            "days": setup.days,
            "sensor": setup.sensor,
            "pump": setup.pump,
            "noise": setup.noise,
            "seed": setup.seed,
            "stealth_limits": {
                "range_mg_dl": [limits.range_low, limits.range_high],
                "max_rate_mg_dl_per_min": limits.max_rate,
                "residual_allowance": limits.residual_allowance,
                "residual_threshold": limits.residual_threshold,
            },
        },
        "clean": _clean_records(runs),
        "attacks": attacks,
    }


def outcome_record(outcome: Outcome | None) -> dict[str, Any] | None:
    if outcome is None:
        return None
    primary, secondary = outcome.score
    return {
        "attack": outcome.candidate.text,
        "stealthy": outcome.stealthy,
        "stealthy_patients": sum(outcome.stealthy_patients),
        "objective_mean_delta": round(primary, 3),
        "tie_breaker_mean_delta": round(secondary, 3),
        "mean_delta_minutes_below_54": round(outcome.mean_delta("minutes_below_54"), 3),
        "mean_delta_minutes_below_70": round(outcome.mean_delta("minutes_below_70"), 3),
        "patients_harmed": sum(1 for h in outcome.harm if h.induced_severity),
        "alarms": sorted({a for alarms in outcome.alarms for a in alarms}),
    }


def search_record(result: SearchResult) -> dict[str, Any]:
    return {
        "budget": result.budget.text,
        "evaluated": result.evaluated,
        "best": outcome_record(result.best),
        "naive": outcome_record(result.naive),
        "naive_full": outcome_record(result.naive_full),
        "ranked": [outcome_record(o) for o in result.ranked],
    }


def metrics_csv(record: dict[str, Any]) -> bytes:
    """One row per patient and run (clean, then each attack)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(
        [
            "run",
            "attack",
            "patient",
            *REPORTED_METRICS,
            "severity",
            "induced_severity",
            "stealthy",
            "alarms",
        ]
    )
    for clean in record["clean"]:
        writer.writerow(
            [
                "clean",
                "",
                clean["patient"],
                *[clean["metrics"][k] for k in REPORTED_METRICS],
                clean["severity"],
                "",
                "",
                ";".join(clean["false_alarms"]),
            ]
        )
    for number, attack in enumerate(record["attacks"], start=1):
        for row in attack["patients"]:
            writer.writerow(
                [
                    f"attack {number}",
                    attack["attack"],
                    row["patient"],
                    *[row["attacked"][k] for k in REPORTED_METRICS],
                    row["attacked_severity"],
                    row["induced_severity"] or "",
                    row["stealthy"],
                    ";".join(row["alarms"]),
                ]
            )
    return out.getvalue().encode("utf-8")
