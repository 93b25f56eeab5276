"""Which attack scenarios each measured attack stands for: the scenario stage names the
AI-specific ways in (evasion, poisoning, model update, extraction) per engine and entry
point; an attack run from the same entry on the same engine measures them."""

from __future__ import annotations

from mdrisk.assessment.ml_attacks import MLAttack
from mdrisk.assessment.risk import RiskItem
from mdrisk.assessment.scenarios import AttackScenario

# Attack -> the scenario categories it measures.
CATEGORIES: dict[str, tuple[str, ...]] = {
    "evasion_white_box": ("evasion", "fdi"),
    "evasion_black_box": ("evasion", "fdi"),
    "evasion_closed_loop": ("evasion", "fdi"),
    "label_flipping": ("poisoning",),
    "backdoor": ("poisoning",),
    "model_substitution": ("model_update",),
    "extraction": ("extraction",),
    "membership_inference": ("extraction", "inversion"),
    "prompt_injection_direct": ("prompt_injection",),
    "prompt_injection_indirect": ("prompt_injection",),
}


def with_scenarios(attacks: list[MLAttack], scenarios: list[AttackScenario]) -> list[MLAttack]:
    """``attacks``, each naming the scenarios of its engine, entry and category that end in
    one of the hazards it aims at (an attack that names no hazard: in any): a malignant case
    read as benign measures the missed-cancer scenarios, not the needless-biopsy ones."""
    by_place: dict[tuple[str, str, str], list[AttackScenario]] = {}
    for scenario in scenarios:
        key = (scenario.ml_engine, scenario.element, scenario.category)
        by_place.setdefault(key, []).append(scenario)
    linked = []
    for attack in attacks:
        aims = set(attack.hazards)
        found = {
            scenario.id
            for category in CATEGORIES.get(attack.attack, ())
            for scenario in by_place.get((attack.ml_engine, attack.element, category), [])
            if not aims or aims & set(scenario.hazards)
        }
        linked.append(attack.model_copy(update={"scenarios": sorted(found)}))
    return linked


def with_attacks(risks: list[RiskItem], attacks: list[MLAttack]) -> list[RiskItem]:
    """``risks``, each naming the attacks that were run for it: an attack that measures one
    of its attack scenarios, or one run from its entry towards one of its hazards."""
    linked = []
    for risk in risks:
        found = {
            attack.id
            for attack in attacks
            if attack.status == "run"
            and (
                set(attack.scenarios) & set(risk.scenarios)
                or (attack.element == risk.element and set(attack.hazards) & set(risk.hazards))
            )
        }
        linked.append(risk.model_copy(update={"ml_attacks": sorted(found)}) if found else risk)
    return linked
