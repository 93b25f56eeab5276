"""The data files built into mdrisk (``mdrisk/data/*.yaml``), each read at most once per process.

One reader for all of them: the file is parsed by ``mdrisk.parsing`` (line of every value,
no aliases, size and nesting bounded) and validated by its stage's schema, whose problems are
located by ``mdrisk.parsing.validation``; a broken built-in file is an InputError naming
``mdrisk/data/<file>``, its line and field, like any user file.

Stages never read these files: the edge (pipeline, CLI, benchmarks) calls the functions here
and passes what they return. A user's file given on the command line (``--matrix``,
``--answers``, a pack, keyword rules) replaces the built-in one and is read by the stage
module's own ``load_*``; it is not cached.
"""

from __future__ import annotations

from functools import cache
from importlib import resources
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # the loaders import their stages; each is imported when first needed
    from mdrisk.impact.bridge import ImpactMapping
    from mdrisk.intake.lexicon import Lexicon
    from mdrisk.kb.matching.aliases import AliasTable
    from mdrisk.kb.pack import LoadedPack
    from mdrisk.landscape.keywords import LoadedRules
    from mdrisk.parsing.source import SourceDocument
    from mdrisk.risk.answers import LoadedAnswers
    from mdrisk.risk.controls import MitigationLookup
    from mdrisk.risk.engine import AttackerReach, RiskInputs
    from mdrisk.risk.matrix import LoadedMatrix
    from mdrisk.risk.rubric import LoadedRubric
    from mdrisk.scenarios.data import ProfileSet, ScenarioRules

TECHNOLOGY_PACK = "technology-pack.yaml"
ATTACKER_PROFILES = "attacker-profiles.yaml"
SCENARIO_RULES = "scenario-rules.yaml"
RUBRIC = "medical-cvss-rubric.yaml"
RISK_MATRIX = "risk-matrix.yaml"
GLUCOSE_IMPACT = "glucose-impact.yaml"
LANDSCAPE_KEYWORDS = "landscape-keywords.yaml"
TECHNOLOGY_LEXICON = "technology-lexicon.yaml"
VENDOR_ALIASES = "vendor-aliases.yaml"


@cache
def document(name: str) -> SourceDocument:
    """The parsed built-in file ``mdrisk/data/<name>`` (parsed once per process)."""
    from mdrisk.parsing.source import parse_document

    text = resources.files("mdrisk").joinpath("data", name).read_text("utf-8")
    return parse_document(text, f"mdrisk/data/{name}")


@cache
def technology_pack() -> LoadedPack:
    from mdrisk.kb.pack import BUILTIN_LABEL, LoadedPack, pack_from_document

    source = document(TECHNOLOGY_PACK)
    return LoadedPack(pack_from_document(source), BUILTIN_LABEL, source.sha256)


@cache
def attacker_profiles() -> ProfileSet:
    from mdrisk.scenarios.data import profiles_from_document

    return profiles_from_document(document(ATTACKER_PROFILES))


@cache
def scenario_rules() -> ScenarioRules:
    from mdrisk.scenarios.data import rules_from_document

    return rules_from_document(document(SCENARIO_RULES), attacker_profiles())


@cache
def attacker_reach() -> AttackerReach:
    """Attacker id -> (CVSS access vector, reach score), for the risk stage."""
    return {p.id: (p.access_vector, float(p.reach_score)) for p in attacker_profiles().profiles}


@cache
def rubric() -> LoadedRubric:
    from mdrisk.risk.rubric import loaded_rubric

    return loaded_rubric(document(RUBRIC), "builtin")


@cache
def risk_matrix() -> LoadedMatrix:
    from mdrisk.risk.matrix import loaded_matrix

    return loaded_matrix(document(RISK_MATRIX), "builtin")


def risk_inputs(
    rubric_: LoadedRubric | None = None,
    matrix: LoadedMatrix | None = None,
    answers: LoadedAnswers | None = None,
    pack: LoadedPack | None = None,
    mitigations_for: MitigationLookup | None = None,
) -> RiskInputs:
    """The risk stage's inputs: what the user gave, the built-in files for the rest."""
    from mdrisk.risk.answers import NO_ANSWERS
    from mdrisk.risk.engine import RiskInputs

    return RiskInputs(
        rubric=rubric_ or rubric(),
        matrix=matrix or risk_matrix(),
        pack=(pack or technology_pack()).pack,
        attackers=attacker_reach(),
        answers=answers or NO_ANSWERS,
        mitigations_for=mitigations_for,
    )


@cache
def glucose_impact() -> ImpactMapping:
    from mdrisk.impact.bridge import ImpactMapping

    return ImpactMapping.from_document(document(GLUCOSE_IMPACT))


@cache
def landscape_keywords() -> LoadedRules:
    from mdrisk.landscape.keywords import loaded_rules

    return loaded_rules(document(LANDSCAPE_KEYWORDS))


@cache
def technology_lexicon() -> Lexicon:
    from mdrisk.intake.lexicon import lexicon_from_document

    return lexicon_from_document(document(TECHNOLOGY_LEXICON), TECHNOLOGY_LEXICON)


@cache
def vendor_aliases() -> AliasTable:
    from mdrisk.kb.matching.aliases import AliasTable

    return AliasTable.from_document(document(VENDOR_ALIASES))
