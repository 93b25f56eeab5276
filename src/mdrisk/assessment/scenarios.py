"""What the scenarios stage adds to an Assessment: attack scenarios SC-n, from an attacker's
entry to a loss, with their steps, references and exploitability."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from mdrisk.assessment.base import Record

ScenarioCategory = Literal[
    "fdi",
    "evasion",
    "poisoning",
    "model_update",
    "extraction",
    "inversion",
    "prompt_injection",
    "resource_exhaustion",
]
StepKind = Literal["access", "exploit", "injection", "ml_effect", "uca", "hazard", "loss"]
InjectionKind = Literal["spoof", "bias", "suppress", "delay", "replay", "freeze", "query"]

# The order every scenario's steps follow (a confidentiality scenario has no UCA step).
STEP_ORDER: tuple[StepKind, ...] = (
    "access",
    "exploit",
    "injection",
    "ml_effect",
    "uca",
    "hazard",
    "loss",
)
CATEGORIES: tuple[ScenarioCategory, ...] = (
    "fdi",
    "evasion",
    "poisoning",
    "model_update",
    "extraction",
    "inversion",
    "prompt_injection",
    "resource_exhaustion",
)


class ScenarioStep(Record):
    """One step of the attack, in words, with the ids it stands on."""

    kind: StepKind
    text: str
    ids: list[str] = Field(default_factory=list)


class ScenarioReferences(Record):
    """Everything the exploit cites: known vulnerabilities, pack rules and catalog ids."""

    cve: list[str] = Field(default_factory=list)
    pack_rules: list[str] = Field(default_factory=list)
    cwe: list[str] = Field(default_factory=list)
    capec: list[str] = Field(default_factory=list)
    attack_ics: list[str] = Field(default_factory=list)
    attack_enterprise: list[str] = Field(default_factory=list)
    atlas: list[str] = Field(default_factory=list)

    def catalog_ids(self) -> list[str]:
        return [*self.cwe, *self.capec, *self.attack_ics, *self.attack_enterprise, *self.atlas]

    def all_ids(self) -> list[str]:
        return [*self.cve, *self.pack_rules, *self.catalog_ids()]


class ExploitabilityParts(Record):
    """The parts of the exploitability score, each in [0, 1] (None: not known).

    ``ease`` is the CVSS exploitability subscore scaled to [0, 1] when a vector exists
    (``ease_source`` names it), otherwise the exploit family's judged ease.
    """

    reach: float
    skill: float
    ease: float
    ease_source: str
    known_exploited: bool | None = None
    epss: float | None = None
    protections_missing: float | None = None
    hops: int
    hop_factor: float


class Exploitability(Record):
    score: float
    parts: ExploitabilityParts


class AttackScenario(Record):
    """An attacker's way from an entry point to a loss, through an ML engine.

    ``path`` is the hops from the element the attacker acts on to the controller issuing the
    unsafe control action (the FDI path, then the loss scenario's path beyond the engine).
    """

    id: str
    category: ScenarioCategory
    title: str
    attacker: str
    exploit_family: str
    element: str
    element_type: str  # "component" | "link"
    ml_engine: str
    ml_inputs: list[str]
    injection: InjectionKind
    uca: str | None  # the representative UCA, of the shortest path
    hazards: list[str]  # one hazard per class (several only for a disclosure)
    ucas: list[str] = Field(default_factory=list)  # every UCA leading there: the members
    severity: str | None = None  # worst rated loss of the hazard: ranks with exploitability
    losses: list[str]
    fdi_points: list[str]
    loss_scenarios: list[str]
    threats: list[str]
    path: list[str]
    steps: list[ScenarioStep]
    prerequisites: list[str]
    references: ScenarioReferences
    exploitability: Exploitability
