"""Which attack scenarios each measured attack stands for: the scenario stage names the
AI-specific ways in (evasion, poisoning, model update, extraction) per engine and entry
point; an attack run from the same entry on the same engine measures them."""

from __future__ import annotations

from mdrisk.assessment.ml_attacks import MLAttack
from mdrisk.assessment.scenarios import AttackScenario

# Attack -> the scenario categories it measures.
CATEGORIES: dict[str, tuple[str, ...]] = {
    "evasion_white_box": ("evasion", "fdi"),
    "evasion_black_box": ("evasion", "fdi"),
    "label_flipping": ("poisoning",),
    "backdoor": ("poisoning",),
    "model_substitution": ("model_update",),
    "extraction": ("extraction",),
    "membership_inference": ("extraction", "inversion"),
}


def with_scenarios(attacks: list[MLAttack], scenarios: list[AttackScenario]) -> list[MLAttack]:
    """``attacks``, each naming the scenarios of its engine, entry and category."""
    by_place: dict[tuple[str, str, str], list[str]] = {}
    for scenario in scenarios:
        key = (scenario.ml_engine, scenario.element, scenario.category)
        by_place.setdefault(key, []).append(scenario.id)
    linked = []
    for attack in attacks:
        found = {
            scenario_id
            for category in CATEGORIES.get(attack.attack, ())
            for scenario_id in by_place.get((attack.ml_engine, attack.element, category), [])
        }
        linked.append(attack.model_copy(update={"scenarios": sorted(found)}))
    return linked
