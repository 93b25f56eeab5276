"""The bridge from STPA-Sec loss scenarios to measured patient harm.

``data/glucose-impact.yaml`` says which falsified signals of a device map onto which simulator
signals, which attack stands for each manipulation of them, how the forecast errs for a class
of the ML model itself, and which control actions the simulated loop issues.
:func:`measure_impact` takes it (read once by ``mdrisk.bundled``), groups the loss-scenario
classes by the attack that stands for them (a raised CGM reading stands for every class that
raises it, whichever UCA it leads to), simulates every attack on
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
from mdrisk.stable_ids import stable_id

MAPPING_FILE = "glucose-impact.yaml"
NO_SIGNAL = "not simulated: the simulator has no counterpart of '{input}'; it stands for {known}"
MODEL = "model"


class _MappingFile(StrictModel):
    simulator: str = "glucose"
    run: dict[str, Any]
    inputs: dict[str, dict[str, Any]]
    model: dict[str, Any] | None = None
    control_actions: dict[str, str]


@dataclass(frozen=True)
class ImpactMapping:
    """The contents of ``glucose-impact.yaml``."""

    run: dict[str, Any]
    inputs: dict[str, dict[str, Any]]
    model: dict[str, Any] | None
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
            "the mapping must be a mapping with run, inputs, model and control_actions",
        )
        return cls(
            run=checked.run,
            inputs=checked.inputs,
            model=checked.model,
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

    def attack_for(self, scenario: LossScenario, action: str) -> tuple[str, str] | str:
        """The (signal, manipulation) key of the attack standing for ``scenario``, or why
        there is none."""
        status = self.control_actions.get(action)
        if status is None:
            return (
                f"not simulated: the simulated loop has no control action '{action}' "
                f"(it simulates {', '.join(self.simulated_actions())})"
            )
        if status != "simulated":
            return f"{action}: {status}"
        if scenario.family == "ml_model":
            direction = scenario.effect.direction if scenario.effect else "either"
            if self.model is None or direction not in self.model.get("attacks", {}):
                return "not simulated: no forecast error is mapped for the model itself"
            return (MODEL, direction)
        entry = self.inputs.get(scenario.signal)
        if entry is None:
            return NO_SIGNAL.format(input=scenario.signal, known=", ".join(self.inputs))
        if scenario.manipulation not in entry.get("attacks", {}):
            why = entry.get("not_simulated", {}).get(scenario.manipulation, "no attack is mapped")
            return f"{scenario.signal} {scenario.manipulation}: not simulated: {why}"
        return (scenario.signal, scenario.manipulation)

    def entry(self, signal: str) -> dict[str, Any]:
        if signal == MODEL:
            assert self.model is not None
            return self.model
        return self.inputs[signal]

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
    plan: AttackPlan,
    key: tuple[str, str],
    runs: AttackRuns,
    index: int,
    scenarios: list[LossScenario],
    mapping: ImpactMapping,
    meals: str,
) -> ImpactFinding:
    signal, manipulation = key
    stealth = runs.plan_stealth(index)
    patients = [
        _patient(harm, bool(stealth.stealthy[row]), stealth.tripped(row))
        for row, harm in enumerate(runs.harm(index))
    ]
    induced = [p.induced_severity for p in patients if p.induced_severity]
    order = ["negligible", "minor", "serious", "critical", "catastrophic"]
    return ImpactFinding(
        id=stable_id("IM", *key),
        status="simulated",
        loss_scenarios=[s.id for s in scenarios],
        fdi_points=sorted({p for s in scenarios for p in s.fdi_points}),
        reason=(
            f"the model's forecast errs {manipulation}"
            if signal == MODEL
            else f"'{signal}' is falsified: {manipulation}"
        ),
        ml_input=signal if any(s.ml_input == signal for s in scenarios) else None,
        forecast_error=manipulation,
        attack=plan.text,
        signal=mapping.entry(signal)["signal"],
        controller=runs.setup.controller,
        meals=meals,
        patients=patients,
        patients_harmed=len(induced),
        worst_induced_severity=max(induced, key=order.index) if induced else None,
        stealthy_patients=sum(p.stealthy for p in patients),
    )


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
    groups: dict[tuple[str, str], list[LossScenario]] = {}
    unsimulated: dict[str, list[LossScenario]] = {}
    for scenario in loss_scenarios:
        found = mapping.attack_for(scenario, action_of[scenario.control_action])
        if isinstance(found, str):
            unsimulated.setdefault(found, []).append(scenario)
        else:
            groups.setdefault(found, []).append(scenario)

    order = [*mapping.inputs, MODEL]
    keys = sorted(groups, key=lambda k: (order.index(k[0]), k[1]))
    findings: list[ImpactFinding] = []
    if keys:
        setup = mapping.setup()
        plans = [parse_plan(mapping.entry(i)["attacks"][e], name=f"{i} {e}") for i, e in keys]
        runs = run_attacks(setup, plans)
        meals = str(mapping.run["meals"])
        for index, key in enumerate(keys):
            findings.append(_finding(plans[index], key, runs, index, groups[key], mapping, meals))
    for reason, scenarios in unsimulated.items():
        findings.append(
            ImpactFinding(
                id=stable_id("IM", reason),
                status="not_simulated",
                loss_scenarios=[s.id for s in scenarios],
                fdi_points=sorted({p for s in scenarios for p in s.fdi_points}),
                reason=reason,
            )
        )
    return findings


def findings_by_scenario(findings: Sequence[ImpactFinding]) -> dict[str, ImpactFinding]:
    """Loss scenario id -> the impact finding that covers it (measured or not), for the
    risk stage and the report's traceability matrix."""
    return {scenario: finding for finding in findings for scenario in finding.loss_scenarios}
