"""The bridge from STPA-Sec loss scenarios to measured patient harm.

``data/glucose-impact.yaml`` says which ML inputs of a device map onto which simulator signals,
which control actions the simulated loop issues, how the ML output must err for each unsafe
control action, and which attack stands for each kind of error. :func:`measure_impact` takes
it (read once by ``mdrisk.bundled``), groups the loss scenarios by the attack that stands for them (many scenarios share one:
the four FDI points on the CGM path all falsify the same reading), simulates every attack on
every patient of the mapping's run in one batch against the clean day, and returns one
:class:`~mdrisk.assessment.ImpactFinding` per attack, plus one per reason for the scenarios it
cannot simulate.

Pure apart from reading simglucose's parameter tables.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from mdrisk.assessment.impact import ImpactFinding, ImpactPatient
from mdrisk.assessment.stpa import ControlAction, LossScenario, UnsafeControlAction
from mdrisk.impact.attacks.spec import AttackPlan, parse_plan
from mdrisk.impact.experiment import AttackRuns, RunSetup, run_attacks
from mdrisk.impact.harm import REPORTED_METRICS, PatientHarm
from mdrisk.impact.params import patient_names
from mdrisk.impact.selection import parse_meals, select_patients
from mdrisk.parsing.source import SourceDocument, parse_document
from mdrisk.parsing.validation import StrictModel, validated

MAPPING_FILE = "glucose-impact.yaml"
ERROR_ORDER = ("too_high", "too_low", "delayed", "frozen")
NO_SIGNAL = (
    "not simulated: the device's ML engine does not take '{input}'; the simulator "
    "has signals for {known}"
)


class _MappingFile(StrictModel):
    simulator: str = "glucose"
    run: dict[str, Any]
    inputs: dict[str, dict[str, Any]]
    errors: dict[str, dict[str, str]]
    control_actions: dict[str, str]


@dataclass(frozen=True)
class ImpactMapping:
    """The contents of ``glucose-impact.yaml``."""

    run: dict[str, Any]
    inputs: dict[str, dict[str, Any]]
    errors: dict[str, dict[str, str]]
    control_actions: dict[str, str]

    @classmethod
    def from_text(cls, text: str, file: str = MAPPING_FILE) -> ImpactMapping:
        return cls.from_document(parse_document(text, file))

    @classmethod
    def from_document(cls, source: SourceDocument) -> ImpactMapping:
        """The mapping of a parsed document; InputError naming the line of a wrong field."""
        checked = validated(
            _MappingFile,
            source,
            "the mapping must be a mapping with run, inputs, errors and control_actions",
        )
        return cls(
            run=checked.run,
            inputs=checked.inputs,
            errors=checked.errors,
            control_actions=checked.control_actions,
        )

    def setup(self) -> RunSetup:
        run = self.run
        patients = select_patients(str(run["patients"]), patient_names())
        return RunSetup(
            patients=patients,
            scenario=parse_meals(str(run["meals"])),
            controller=str(run["controller"]),
            days=int(run.get("days", 1)),
        )

    def reason_not_simulated(self, action: str, ml_input: str, error: str | None) -> str:
        """Why a scenario cannot be simulated ("" when it can)."""
        status = self.control_actions.get(action)
        if status is None:
            return (
                f"not simulated: the simulated loop has no control action '{action}' "
                f"(it simulates {', '.join(self.simulated_actions())})"
            )
        if status != "simulated":
            return f"{action}: {status}"
        entry = self.inputs.get(ml_input)
        if entry is None:
            return NO_SIGNAL.format(input=ml_input, known=", ".join(self.inputs))
        if error is None:
            return f"not simulated: no kind of forecast error is mapped for {action}"
        if error not in entry.get("attacks", {}):
            why = entry.get("not_simulated", {}).get(error, "no attack is mapped")
            return f"{ml_input} {error}: not simulated: {why}"
        return ""

    def simulated_actions(self) -> list[str]:
        return [a for a, status in self.control_actions.items() if status == "simulated"]


def _patient(harm: PatientHarm, stealthy: bool, alarms: list[str]) -> ImpactPatient:
    def pick(values: dict[str, float]) -> dict[str, float]:
        return {k: round(float(values[k]), 2) for k in REPORTED_METRICS}

    induced = harm.induced_severity
    return ImpactPatient(
        patient=harm.patient,
        clean=pick(harm.clean),
        attacked=pick(harm.attacked),
        clean_severity=harm.clean_severity.severity.label,
        attacked_severity=harm.attacked_severity.severity.label,
        induced_severity=induced.label if induced else None,
        new_criteria=list(harm.new_criteria),
        stealthy=stealthy,
        alarms=alarms,
    )


def _finding(
    number: int,
    plan: AttackPlan,
    key: tuple[str, str],
    runs: AttackRuns,
    index: int,
    scenarios: list[LossScenario],
    mapping: ImpactMapping,
    meals: str,
) -> ImpactFinding:
    ml_input, error = key
    stealth = runs.plan_stealth(index)
    patients = [
        _patient(harm, bool(stealth.stealthy[row]), stealth.tripped(row))
        for row, harm in enumerate(runs.harm(index))
    ]
    induced = [p.induced_severity for p in patients if p.induced_severity]
    order = ["negligible", "minor", "serious", "critical", "catastrophic"]
    return ImpactFinding(
        id=f"IM-{number}",
        status="simulated",
        loss_scenarios=[s.id for s in scenarios],
        fdi_points=sorted({s.fdi_point for s in scenarios}, key=_id_key),
        reason=f"the forecast errs {error.replace('_', ' ')} because '{ml_input}' is falsified",
        ml_input=ml_input,
        forecast_error=error,
        attack=plan.text,
        signal=mapping.inputs[ml_input]["signal"],
        controller=runs.setup.controller,
        meals=meals,
        patients=patients,
        patients_harmed=len(induced),
        worst_induced_severity=max(induced, key=order.index) if induced else None,
        stealthy_patients=sum(p.stealthy for p in patients),
    )


def _id_key(identifier: str) -> tuple[str, int]:
    prefix, _, number = identifier.rpartition("-")
    return (prefix, int(number) if number.isdigit() else 0)


def measure_impact(
    control_actions: Sequence[ControlAction],
    ucas: Sequence[UnsafeControlAction],
    loss_scenarios: Sequence[LossScenario],
    mapping: ImpactMapping,
) -> list[ImpactFinding]:
    """Measured harm for every loss scenario the simulator can stand for; the rest listed
    with the reason. Finding ids: simulated attacks first (by input and kind of error), then
    the reasons, in order of first appearance."""
    action_of = {ca.id: ca.name for ca in control_actions}
    uca_of = {u.id: u for u in ucas}
    groups: dict[tuple[str, str], list[LossScenario]] = {}
    unsimulated: dict[str, list[LossScenario]] = {}
    for scenario in loss_scenarios:
        uca = uca_of[scenario.uca]
        action = action_of[uca.control_action]
        error = mapping.errors.get(action, {}).get(str(uca.type))
        reason = mapping.reason_not_simulated(action, scenario.ml_input, error)
        if reason:
            unsimulated.setdefault(reason, []).append(scenario)
        else:
            assert error is not None
            groups.setdefault((scenario.ml_input, error), []).append(scenario)

    input_order = list(mapping.inputs)
    keys = sorted(groups, key=lambda k: (input_order.index(k[0]), ERROR_ORDER.index(k[1])))
    findings: list[ImpactFinding] = []
    if keys:
        setup = mapping.setup()
        plans = [parse_plan(mapping.inputs[i]["attacks"][e], name=f"{i} {e}") for i, e in keys]
        runs = run_attacks(setup, plans)
        meals = str(mapping.run["meals"])
        for index, key in enumerate(keys):
            findings.append(
                _finding(index + 1, plans[index], key, runs, index, groups[key], mapping, meals)
            )
    for reason, scenarios in unsimulated.items():
        findings.append(
            ImpactFinding(
                id=f"IM-{len(findings) + 1}",
                status="not_simulated",
                loss_scenarios=[s.id for s in scenarios],
                fdi_points=sorted({s.fdi_point for s in scenarios}, key=_id_key),
                reason=reason,
            )
        )
    return findings


def findings_by_scenario(findings: Sequence[ImpactFinding]) -> dict[str, ImpactFinding]:
    """Loss scenario id -> the impact finding that covers it (measured or not), for the
    risk stage and the report's traceability matrix."""
    return {scenario: finding for finding in findings for scenario in finding.loss_scenarios}
