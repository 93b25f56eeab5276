"""Loss scenarios: FDI point -> ML input -> ML misbehaviour -> UCA -> hazard -> loss."""

from __future__ import annotations

from dataclasses import dataclass

from mdrisk.assessment.stpa import ControlAction, FDIPoint, LossScenario, UnsafeControlAction
from mdrisk.model.schema import Hazard, UCAType
from mdrisk.stpa.fdi import MODEL_UPDATE_INPUT
from mdrisk.stpa.graph import ControlStructure
from mdrisk.stpa.influence import Influence

# How false input turns into each type of unsafe control action, by what the ML engine does.
_MISBEHAVIOUR = {
    UCAType.provided_unsafe: {
        "classification": "returns a false positive that calls for {action}",
        "detection": "reports a finding that is not there, calling for {action}",
        "ranking": "ranks an unsuitable option first, calling for {action}",
        "default": "returns an estimate that errs in the direction calling for {action}",
    },
    UCAType.not_provided: {
        "classification": "returns a false negative, so {action} seems unneeded",
        "detection": "misses a real finding, so {action} seems unneeded",
        "ranking": "ranks the suitable option low, so {action} is withheld",
        "default": "returns an estimate that errs in the direction making {action} seem unneeded",
    },
    UCAType.wrong_timing: {
        "default": "acts on delayed, replayed or reordered input, so its output for {action} "
        "comes at the wrong time",
    },
    UCAType.wrong_duration: {
        "default": "acts on frozen input, so its output keeps {action} going too long or ends "
        "it too soon",
    },
}


def misbehaviour(uca_type: UCAType, task_type: str, action: str, target: str) -> str:
    table = _MISBEHAVIOUR[uca_type]
    text = table.get(task_type, table["default"]).format(action=action)
    if target == MODEL_UPDATE_INPUT:
        return f"runs a poisoned or substituted model, which {text}"
    return text


def fair_quotas(totals: dict[str, int], limit: int) -> dict[str, int]:
    """Share ``limit`` among engines so that none is crowded out: engines needing less than
    an equal share keep all theirs, the rest split what remains equally (water-filling)."""
    quotas: dict[str, int] = {}
    remaining = limit
    pending = sorted(totals, key=lambda engine: (totals[engine], engine))
    while pending:
        share = remaining // len(pending)
        engine = pending.pop(0)
        quotas[engine] = min(totals[engine], share)
        remaining -= quotas[engine]
    return quotas


@dataclass(frozen=True)
class ScenarioLimit:
    """Loss scenarios grow as FDI points x UCAs; past this many the rest are counted, not kept.

    The limit is shared fairly among ML engines, so every engine keeps scenarios."""

    max_scenarios: int = 20_000


def derive_loss_scenarios(
    structure: ControlStructure,
    fdi_points: list[FDIPoint],
    control_actions: list[ControlAction],
    ucas: list[UnsafeControlAction],
    influences: dict[str, list[Influence]],
    limit: ScenarioLimit,
) -> tuple[list[LossScenario], int]:
    """Scenarios for every UCA with hazards that an FDI point's engine reaches.

    Returns the scenarios kept and how many more there were past the limit.
    """
    hazards: dict[str, Hazard] = {h.id: h for h in structure.model.hazards}
    ucas_by_action: dict[str, list[UnsafeControlAction]] = {}
    for uca in ucas:
        if uca.hazards:
            ucas_by_action.setdefault(uca.control_action, []).append(uca)
    action_names = {action.id: action.name for action in control_actions}
    # Every (influence, UCA) pair an engine's FDI points lead to, in output order. Past the
    # limit a point's pairs are only counted, so the count is taken once per engine rather
    # than walked pair by pair (FDI points x pairs can run to millions on large models).
    pairs_by_engine: dict[str, list[tuple[Influence, UnsafeControlAction]]] = {}
    for engine_id, engine_influences in influences.items():
        pairs_by_engine[engine_id] = [
            (influence, uca)
            for influence in engine_influences
            for uca in ucas_by_action.get(influence.control_action, [])
        ]
    points_per_engine: dict[str, int] = {}
    for point in fdi_points:
        points_per_engine[point.ml_engine] = points_per_engine.get(point.ml_engine, 0) + 1
    totals = {
        engine_id: count * len(pairs_by_engine.get(engine_id, []))
        for engine_id, count in points_per_engine.items()
    }
    quotas = fair_quotas(totals, limit.max_scenarios)
    kept_per_engine: dict[str, int] = dict.fromkeys(totals, 0)
    scenarios: list[LossScenario] = []
    for point in fdi_points:
        engine = structure.components[point.ml_engine]
        assert engine.ml is not None
        pairs = pairs_by_engine.get(engine.id, [])
        room = quotas[engine.id] - kept_per_engine[engine.id]
        if room <= 0:
            continue
        kept_per_engine[engine.id] += min(room, len(pairs))
        pairs = pairs[:room]
        upstream = [step.element for step in point.path]
        for influence, uca in pairs:
            losses = sorted({loss for h in uca.hazards for loss in hazards[h].losses})
            action = action_names[influence.control_action]
            behaviour = misbehaviour(uca.type, engine.ml.task_type, action, point.ml_input)
            where = "component" if point.element_type == "component" else "channel"
            text = (
                f"False data injected at {where} {point.element} reaches {engine.id} "
                f"input '{point.ml_input}' via {' -> '.join(upstream)}; {engine.id} "
                f"{behaviour}; then {uca.text} ({uca.id}), leading to "
                f"{', '.join(uca.hazards)} and {', '.join(losses) or 'no named loss'}."
            )
            scenarios.append(
                LossScenario(
                    id=f"LS-{len(scenarios) + 1}",
                    fdi_point=point.id,
                    ml_engine=engine.id,
                    ml_input=point.ml_input,
                    ml_output=influence.ml_output,
                    ml_misbehaviour=behaviour,
                    uca=uca.id,
                    hazards=list(uca.hazards),
                    losses=losses,
                    path=upstream + list(influence.path[1:]),
                    text=text,
                )
            )
    return scenarios, sum(totals.values()) - len(scenarios)
