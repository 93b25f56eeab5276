"""The data files built into mdrisk (``mdrisk/data/*.yaml``), each read at most once per process.

One reader for all of them: the file is parsed by ``mdrisk.parsing`` (line of every value,
no aliases, size and nesting bounded) and validated by its stage's schema, whose problems are
located by ``mdrisk.parsing.validation``; a broken built-in file is an InputError naming
``mdrisk/data/<file>``, its line and field, like any user file.

Stages never read these files: the edge (pipeline, CLI, benchmarks) calls the functions here
and passes what they return. What the analysis always needs (pack, attacker profiles,
scenario rules, rubric, matrix) is also kept, validated, in the user's data cache
(``mdrisk.data_cache``), so a new process skips parsing and validating it. A user's file given on the command line (``--matrix``,
``--answers``, a pack, keyword rules) replaces the built-in one and is read by the stage
module's own ``load_*``; it is not cached.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache
from importlib import resources
from typing import TYPE_CHECKING, TypeVar

if TYPE_CHECKING:  # the loaders import their stages; each is imported when first needed
    from mdrisk.impact.bridge import ImpactMapping
    from mdrisk.intake.lexicon import Lexicon
    from mdrisk.kb.matching.aliases import AliasTable
    from mdrisk.kb.pack import LoadedPack
    from mdrisk.landscape.keywords import LoadedRules
    from mdrisk.mlattack.prompt_injection import ProbeSet
    from mdrisk.parsing.source import SourceDocument
    from mdrisk.risk.answers import LoadedAnswers
    from mdrisk.risk.controls import MitigationLookup
    from mdrisk.risk.engine import AttackerReach, RiskInputs
    from mdrisk.risk.matrix import LoadedMatrix
    from mdrisk.risk.rubric import LoadedRubric
    from mdrisk.scenarios.data import ProfileSet, ScenarioRules

T = TypeVar("T")

TECHNOLOGY_PACK = "technology-pack.yaml"
ATTACKER_PROFILES = "attacker-profiles.yaml"
SCENARIO_RULES = "scenario-rules.yaml"
RUBRIC = "medical-cvss-rubric.yaml"
RISK_MATRIX = "risk-matrix.yaml"
GLUCOSE_IMPACT = "glucose-impact.yaml"
LANDSCAPE_KEYWORDS = "landscape-keywords.yaml"
TECHNOLOGY_LEXICON = "technology-lexicon.yaml"
VENDOR_ALIASES = "vendor-aliases.yaml"
PROMPT_INJECTION_PROBES = "prompt-injection-probes.yaml"


@cache
def raw(name: str) -> bytes:
    """The bytes of the built-in file ``mdrisk/data/<name>``."""
    return resources.files("mdrisk").joinpath("data", name).read_bytes()


@cache
def document(name: str) -> SourceDocument:
    """The parsed built-in file ``mdrisk/data/<name>`` (parsed once per process)."""
    from mdrisk.parsing.source import parse_document

    return parse_document(raw(name).decode("utf-8"), f"mdrisk/data/{name}")


def _built(what: str, names: tuple[str, ...], build: Callable[[], T]) -> T:
    """``build()``, or its copy in the user's data cache made from the same files."""
    from mdrisk.data_cache import cached

    return cached(what, [raw(name) for name in names], build)


@cache
def technology_pack() -> LoadedPack:
    def build() -> LoadedPack:
        from mdrisk.kb.pack import BUILTIN_LABEL, LoadedPack, pack_from_document

        source = document(TECHNOLOGY_PACK)
        return LoadedPack(pack_from_document(source), BUILTIN_LABEL, source.sha256)

    return _built("technology_pack", (TECHNOLOGY_PACK,), build)


@cache
def attacker_profiles() -> ProfileSet:
    def build() -> ProfileSet:
        from mdrisk.scenarios.data import profiles_from_document

        return profiles_from_document(document(ATTACKER_PROFILES))

    return _built("attacker_profiles", (ATTACKER_PROFILES,), build)


@cache
def scenario_rules() -> ScenarioRules:
    def build() -> ScenarioRules:
        from mdrisk.scenarios.data import rules_from_document

        return rules_from_document(document(SCENARIO_RULES), attacker_profiles())

    return _built("scenario_rules", (ATTACKER_PROFILES, SCENARIO_RULES), build)


@cache
def attacker_reach() -> AttackerReach:
    """Attacker id -> (CVSS access vector, reach score), for the risk stage."""
    return {p.id: (p.access_vector, float(p.reach_score)) for p in attacker_profiles().profiles}


@cache
def rubric() -> LoadedRubric:
    def build() -> LoadedRubric:
        from mdrisk.risk.rubric import loaded_rubric

        return loaded_rubric(document(RUBRIC), "builtin")

    return _built("rubric", (RUBRIC,), build)


@cache
def risk_matrix() -> LoadedMatrix:
    def build() -> LoadedMatrix:
        from mdrisk.risk.matrix import loaded_matrix

        return loaded_matrix(document(RISK_MATRIX), "builtin")

    return _built("risk_matrix", (RISK_MATRIX,), build)


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
        profiles=attacker_profiles(),
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


@cache
def prompt_injection_probes() -> ProbeSet:
    from mdrisk.mlattack.prompt_injection import probe_set_from_document

    return probe_set_from_document(document(PROMPT_INJECTION_PROBES))
