"""The bridge from STPA-Sec loss scenarios to measured patient harm.

``data/glucose-impact.yaml`` says which falsified signals of a device map onto which simulator
signals, which attack stands for each manipulation of them, how the forecast errs for a class
of the ML model itself, and which control actions the simulated loop issues.
:func:`measure_impact` takes it (read once by ``mdrisk.bundled``), groups the loss-scenario
classes by the attack that stands for them (a raised CGM reading stands for every class that
raises it, whichever UCA it leads to), simulates every attack on
every patient of the mapping's run (on each of its Monte Carlo days) in one batch against the
clean day, and returns one :class:`~mdrisk.assessment.ImpactFinding` per attack (per patient
and per cohort, :mod:`mdrisk.impact.population`), plus one per reason for the scenarios it
cannot simulate.

Pure apart from reading simglucose's parameter tables.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Annotated, Any

from pydantic import Field, StringConstraints

from mdrisk.assessment.impact import ImpactFinding
from mdrisk.assessment.stpa import ControlAction, LossScenario, UnsafeControlAction
from mdrisk.errors import InputError
from mdrisk.impact.attacks.spec import AttackPlan, SpecError, parse_plan
from mdrisk.impact.experiment import AttackRuns, RunSetup, run_attacks
from mdrisk.impact.fingerstick import Fingerstick
from mdrisk.impact.mc_days import DayVariation
from mdrisk.impact.params import patient_names
from mdrisk.impact.population import DayOutcome, summarise
from mdrisk.impact.selection import parse_meals, select_patients
from mdrisk.parsing.source import SourceDocument, parse_document
from mdrisk.parsing.validation import StrictModel, validated
from mdrisk.stable_ids import stable_id

MAPPING_FILE = "glucose-impact.yaml"
NO_SIGNAL = "not simulated: the simulator has no counterpart of '{input}'; it stands for {known}"
MODEL = "model"


ClockTime = Annotated[str, StringConstraints(pattern=r"^([01]?[0-9]|2[0-3]):[0-5][0-9]$")]


def _minute_of_day(clock: str) -> int:
    hours, _, minutes = clock.partition(":")
    return int(hours) * 60 + int(minutes)


class _FingerstickSection(StrictModel):
    before_meals: bool = True
    lead_min: int = Field(0, ge=0, le=240)
    times: list[ClockTime] = Field(default_factory=list)  # every day
    meter_error: bool = False
    half_life_min: float | None = Field(None, gt=0)


class _VariationSection(StrictModel):
    time_sd_min: float = Field(30.0, ge=0, le=240)
    time_limit_min: float = Field(60.0, ge=0, le=360)
    carbs_cv: float = Field(0.2, ge=0, le=1)


class _RunSection(StrictModel):
    controller: str = "ml_advised"
    patients: str
    meals: str
    days: int = Field(1, ge=1, le=30)
    mc_days: int = Field(0, ge=0, le=1000)  # independent random days per patient; 0: none
    seed: int = Field(1, ge=0)
    variation: _VariationSection = Field(default_factory=_VariationSection)
    fingerstick: _FingerstickSection | None = None


class _MappingFile(StrictModel):
    simulator: str = "glucose"
    run: _RunSection
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
    file: str = MAPPING_FILE

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
            run=checked.run.model_dump(),
            inputs=checked.inputs,
            model=checked.model,
            control_actions=checked.control_actions,
            file=source.file,
        )

    def fingerstick(self) -> Fingerstick | None:
        """When the simulated user measures with a meter, or None."""
        section = self.run.get("fingerstick")
        if section is None:
            return None
        return Fingerstick(
            before_meals=bool(section["before_meals"]),
            lead_min=int(section["lead_min"]),
            times_min=tuple(_minute_of_day(t) for t in section["times"]),
            meter_error=bool(section["meter_error"]),
            half_life_min=section["half_life_min"],
        )

    def setup(self) -> RunSetup:
        """The run the mapping asks for; InputError naming the file and field of a patient
        selection or meal list that cannot be read."""
        run = self.run
        try:
            patients = select_patients(str(run["patients"]), patient_names())
        except SpecError as error:
            raise InputError(self.file, [error.problem("run.patients")]) from None
        try:
            scenario = parse_meals(str(run["meals"]), name="reference day")
        except SpecError as error:
            raise InputError(self.file, [error.problem("run.meals")]) from None
        variation = run.get("variation") or {}
        return RunSetup(
            patients=patients,
            scenario=scenario,
            controller=str(run["controller"]),
            days=int(run.get("days", 1)),
            mc_days=int(run.get("mc_days", 0)),
            seed=int(run.get("seed", 1)),
            variation=DayVariation(**variation),
            fingerstick=self.fingerstick(),
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
    outcomes = [
        DayOutcome(harm, bool(stealth.stealthy[row]), tuple(stealth.tripped(row)))
        for row, harm in enumerate(runs.harm(index))
    ]
    patients, population = summarise(outcomes)
    everyone = population[0]
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
        patients_harmed=everyone.patients_harmed,
        worst_induced_severity=everyone.worst_induced_severity,
        stealthy_patients=sum(p.stealthy for p in patients),
        days=runs.setup.days_per_patient,
        patient_days_harmed=everyone.patient_days_harmed,
        population=population,
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
        if setup.mc_days:
            meals += f"; {setup.mc_days} random days around it (seed {setup.seed})"
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
