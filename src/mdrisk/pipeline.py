"""The chain of stages, from a loaded device model to an Assessment; and the one place that
opens the knowledge (technology pack, knowledge-base store) the stages read."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Literal, cast

from mdrisk import __version__, bundled
from mdrisk.assessment import Assessment
from mdrisk.assessment.detectors import DetectorEvaluation
from mdrisk.assessment.impact import ImpactFinding
from mdrisk.assessment.provenance import Provenance, SnapshotRef
from mdrisk.assessment.stpa import CheckFinding, FDIPoint
from mdrisk.assessment.support import ComponentSupport
from mdrisk.assessment.threats import ElementThreat, KbHoldings, VulnerabilityCoverage
from mdrisk.collector import collector_paused
from mdrisk.errors import InputError, Problem
from mdrisk.kb.attach import (
    Enricher,
    VulnerabilityMatcher,
    attach_threats,
    component_coverage,
)
from mdrisk.kb.pack import LoadedPack
from mdrisk.model import DeviceModel, LoadedModel, load_model
from mdrisk.model.lines import element_lines
from mdrisk.risk.controls import mitigations_from_enricher
from mdrisk.risk.engine import RiskInputs, assess_risks, policy_view
from mdrisk.scenarios.generate import with_scenarios
from mdrisk.stable_ids import stable_id
from mdrisk.stpa import StpaResult, analyze_stpa

if TYPE_CHECKING:
    from mdrisk.assessment.ml_attacks import MLAttack
    from mdrisk.kb.support import SbomEntry
    from mdrisk.llm.config import EndpointConfig
    from mdrisk.mlattack.prompt_injection import Complete
    from mdrisk.mlattack.run import AttackSettings


def utc_now() -> str:
    return dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


@dataclass(frozen=True)
class KnowledgeInputs:
    """What ``--kb`` adds: the technology pack and, when a store is at hand, its matcher,
    its enricher and the snapshots it was built from (for provenance)."""

    pack: LoadedPack
    matcher: VulnerabilityMatcher | None = None
    enricher: Enricher | None = None
    snapshots: tuple[SnapshotRef, ...] = ()
    # SBOM components with a support status (kb.support.sbom_entries of the store's records).
    sbom: tuple[SbomEntry, ...] = ()
    # what the store holds (sources, dates, counts); None without a store
    holdings: KbHoldings | None = None

    def provenance(self) -> list[SnapshotRef]:
        pack = SnapshotRef(source=f"technology-pack/{self.pack.source}", sha256=self.pack.sha256)
        return sorted([pack, *self.snapshots], key=lambda s: (s.source, s.sha256))


def open_knowledge(
    stack: ExitStack, store_path: Path | None = None
) -> tuple[KnowledgeInputs, list[str]]:
    """The technology pack, and the matcher, enricher, snapshots and SBOM entries of the
    knowledge-base store at ``store_path`` (default: the user's default store, else the
    snapshot bundled with mdrisk, see :mod:`mdrisk.kb.store_location`) when it exists. The store
    stays open until ``stack`` closes, read-only; the notes say what was missing.
    Raises :class:`mdrisk.kb.store.StoreError` when ``store_path`` names no file or the file
    is not a usable store."""
    from mdrisk.kb.enrich import enrich_vulnerability
    from mdrisk.kb.holdings import holdings_of
    from mdrisk.kb.matching.matcher import Matcher
    from mdrisk.kb.store import Store
    from mdrisk.kb.store_location import store_to_read
    from mdrisk.kb.support import sbom_entries

    pack = bundled.technology_pack()
    path = store_to_read(store_path)
    if not path.is_file():
        return KnowledgeInputs(pack), [
            f"no knowledge base at {path}: technology-pack rules "
            "only (add data with 'mdrisk kb import')"
        ]
    store = stack.enter_context(Store.open(path, read_only=True))
    notes: list[str] = []
    snapshots = tuple(
        SnapshotRef(source=f"{s.importer}/{s.file}", sha256=s.sha256, imported=s.imported)
        for s in store.snapshots()
    )
    if not snapshots:
        notes.append(f"the knowledge base at {path} is empty: technology-pack rules only")
    matcher = Matcher.from_store(store, bundled.vendor_aliases())

    def enricher(cve_id: str) -> dict:
        return enrich_vulnerability(store, cve_id).model_dump(mode="json")

    sbom = tuple(sbom_entries(store.records("sbom_component")))
    return KnowledgeInputs(pack, matcher, enricher, snapshots, sbom, holdings_of(store)), notes


def run(
    model_path: Path,
    *,
    use_kb: bool = False,
    store_path: Path | None = None,
    risk: RiskInputs | None = None,
    simulate: bool = False,
    created: str | None = None,
    on_step: Callable[[str], None] | None = None,
    ml_attacks: AttackSettings | None = None,
    campaign: Path | None = None,
    llm_endpoint: EndpointConfig | None = None,
) -> tuple[Assessment, list[str]]:
    """Load the device model at ``model_path``, open the knowledge when asked (``use_kb``, or
    a ``store_path``) and run every stage (:func:`assess`). Returns the assessment and the
    notes on what the knowledge lacked. ``on_step`` hears the name of each step as it
    starts (for a progress bar). ``ml_attacks``: run the attacks on the engines' own model
    files with these settings (the ``ml_attacks`` section; needs the ``ml`` extra), and the
    prompt-injection probes on its language models through ``llm_endpoint`` (without one,
    their records say so)."""
    step = on_step or (lambda _name: None)
    step("loading the model")
    loaded = load_model(model_path)
    measured = None
    if campaign is not None:
        step("reading the campaign's measured harm")
        measured = campaign_findings(campaign, loaded)
    measured_checks: list[CheckFinding] = []
    if ml_attacks is not None:
        step("measuring each ML input's influence on its model file")
        loaded, measured_checks = _measured_influence(loaded)
    with ExitStack() as stack:
        knowledge: KnowledgeInputs | None = None
        notes: list[str] = []
        if use_kb or store_path is not None:
            step("opening the knowledge base")
            knowledge, notes = open_knowledge(stack, store_path)
        step("analysing and simulating" if simulate else "analysing")
        assessment = assess(
            loaded,
            created=created,
            knowledge=knowledge,
            risk=risk,
            simulate=simulate,
            measured=measured,
        )
    if ml_attacks is not None:
        step("attacking the ML models")
        from mdrisk.mlattack.scenario_links import with_attacks, with_scenarios

        attacks = attack_models(
            loaded, assessment.fdi_points, ml_attacks, progress=step, llm_endpoint=llm_endpoint
        )
        if simulate:
            step("attacking the simulated forecaster in the closed loop")
            from mdrisk.mlattack.closed_loop import closed_loop_attacks, stand_in_influence_checks

            inputs = bundled.glucose_impact().inputs
            attacks += closed_loop_attacks(
                loaded.model, assessment.fdi_points, assessment.loss_scenarios, inputs
            )
            measured_checks += _as_checks(stand_in_influence_checks(loaded.model, inputs))
        attacks = with_scenarios(attacks, assessment.scenarios)
        risks = with_attacks(assessment.risks, attacks)
        checks = [*assessment.checks, *measured_checks]
        assessment = assessment.model_copy(
            update={"ml_attacks": attacks, "risks": risks, "checks": checks}
        )
    return assessment, notes


def attack_models(
    loaded: LoadedModel,
    fdi_points: list[FDIPoint],
    settings: AttackSettings,
    engine_id: str | None = None,
    progress: Callable[[str], None] | None = None,
    llm_endpoint: EndpointConfig | None = None,
) -> list[MLAttack]:
    """The attacks of :mod:`mdrisk.mlattack` on every engine that names its model file
    (or ``engine_id``), and the prompt-injection probes on every language model (an engine
    with ``task_type: generation``) through ``llm_endpoint``; a model or data file refused is
    an InputError that also names the line of the device model that points to it, an
    endpoint that fails one naming the endpoint."""
    from mdrisk.mlattack.run import run_ml_attacks

    base = Path(loaded.source.file).parent
    try:
        attacks = run_ml_attacks(
            loaded.model, fdi_points, base, settings, engine_id=engine_id, progress=progress
        )
    except InputError as bad:
        raise _pointed(loaded, base, bad) from None
    return attacks + _prompt_injection(
        loaded.model, fdi_points, settings, engine_id, llm_endpoint, progress
    )


def _prompt_injection(
    model: DeviceModel,
    fdi_points: list[FDIPoint],
    settings: AttackSettings,
    engine_id: str | None,
    llm_endpoint: EndpointConfig | None,
    progress: Callable[[str], None] | None,
) -> list[MLAttack]:
    from mdrisk.llm.errors import LLMError
    from mdrisk.mlattack.prompt_injection import generation_engines, prompt_injection_attacks

    engines = {e.id for e in generation_engines(model) if engine_id in (None, e.id)}
    if not engines:
        return []
    points = [p for p in fdi_points if p.ml_engine in engines]
    complete = None if llm_endpoint is None else chat_completer(llm_endpoint)
    endpoint = "" if llm_endpoint is None else llm_endpoint.model
    seed = settings.seed if llm_endpoint is None else llm_endpoint.seed
    try:
        return prompt_injection_attacks(
            model,
            points,
            bundled.prompt_injection_probes(),
            complete,
            endpoint=endpoint,
            seed=seed,
            progress=progress,
        )
    except LLMError as error:
        assert llm_endpoint is not None
        raise InputError(
            llm_endpoint.display_url,
            [Problem(f"the prompt-injection probes could not be run: {error}")],
        ) from None


def chat_completer(config: EndpointConfig) -> Complete:
    """The product's chat client as the plain callable the probes take: messages in, the
    answer's text out (at the endpoint's temperature and seed, 0 unless set)."""
    from mdrisk.llm.client import ChatClient, Message

    Role = Literal["system", "user", "assistant"]

    client = ChatClient(config)

    def complete(messages: list[dict[str, str]]) -> str:
        chat = [Message(cast(Role, m["role"]), m["content"]) for m in messages]
        return client.complete(chat).content

    return complete


def _pointed(loaded: LoadedModel, base: Path, bad: InputError) -> InputError:
    """``bad`` (a model or data file refused), also naming the line of the device model that
    points to the file."""
    pointers = []
    for index, component in enumerate(loaded.model.components):
        if component.ml is None or component.ml.artifact is None:
            continue
        artifact = component.ml.artifact
        named: dict[str, tuple[str, ...]] = {str(base / artifact.file): ("file",)}
        if artifact.evaluation is not None:
            named[str(base / artifact.evaluation.file)] = ("evaluation", "file")
        if bad.file in named:
            where: tuple[str | int, ...] = ("components", index, "ml", "artifact", *named[bad.file])
            line = loaded.source.line_of(where)
            at = f"{loaded.source.file}:{line}" if line else loaded.source.file
            pointers.append(Problem(f"named by {at} {loaded.source.render_path(where)}"))
    return InputError(bad.file, [*bad.problems, *pointers])


def campaign_findings(folder: Path, loaded: LoadedModel) -> list[ImpactFinding]:
    """The measured harm of the campaign in ``folder`` (``mdrisk campaign run --out``) as
    impact findings; InputError when it was run on another model or holds nothing."""
    from mdrisk.campaign.measured import impact_findings
    from mdrisk.campaign.outputs import summary_of
    from mdrisk.campaign.store import ResultStore

    with ResultStore.read(folder) as store:
        summary = summary_of(store)
    where = str(folder / "results.sqlite")
    if summary.get("model_sha256") != loaded.source.sha256:
        raise InputError(
            where,
            [
                Problem(
                    f"the campaign was run on another version of the device model than "
                    f"{loaded.source.file}",
                    field="model_sha256",
                    fix="run the campaign again on this model (mdrisk campaign run FILE --out "
                    "DIR --restart)",
                )
            ],
        )
    findings = impact_findings(summary)
    if not findings:
        raise InputError(
            where,
            [Problem("the campaign holds no finished task", fix="run or resume the campaign")],
        )
    return findings


def _as_checks(found: list[tuple[str, str, str, list[str], str]]) -> list[CheckFinding]:
    """Checks from (rule, severity, message, elements, fix), with their stable ids."""
    return [
        CheckFinding(
            id=stable_id("CHK", rule, message),
            rule=rule,
            severity=severity,
            message=message,
            elements=elements,
            fix=fix,
        )
        for rule, severity, message, elements, fix in found
    ]


def _measured_influence(loaded: LoadedModel) -> tuple[LoadedModel, list[CheckFinding]]:
    """The model with the signed influence of each ML input measured on its engine's model
    file in place of the declared one, and a check for each that differs."""
    from mdrisk.mlattack.influence import (
        influence_checks,
        influence_of_device,
        with_measured_effects,
    )

    base = Path(loaded.source.file).parent
    try:
        measured = influence_of_device(loaded.model, base)
    except InputError as bad:
        raise _pointed(loaded, base, bad) from None
    checks = _as_checks(influence_checks(loaded.model, measured))
    if not measured:
        return loaded, checks
    return LoadedModel(with_measured_effects(loaded.model, measured), loaded.source), checks


def _threats(
    loaded: LoadedModel, fdi_points: list[FDIPoint], knowledge: KnowledgeInputs | None
) -> list[ElementThreat]:
    if knowledge is None:
        return []
    fdi: dict[str, list[tuple[str, str]]] = {}
    for point in fdi_points:
        fdi.setdefault(point.element, []).append((point.id, point.target))
    return attach_threats(
        loaded.model, knowledge.pack.pack, knowledge.matcher, knowledge.enricher, fdi
    )


def assess(
    loaded: LoadedModel,
    created: str | None = None,
    knowledge: KnowledgeInputs | None = None,
    risk: RiskInputs | None = None,
    simulate: bool = False,
    measured: list[ImpactFinding] | None = None,
) -> Assessment:
    """Run every stage on the model. ``created`` is the only time in the result (with the
    knowledge-base import times in ``provenance.kb_snapshots``). ``risk``: the rubric,
    matrix and analyst answers for the risk stage (``bundled.risk_inputs()`` when None; the
    knowledge's pack, when given, replaces its pack).
    ``simulate``: measure the patient harm of the loss scenarios the glucose simulator can
    stand for (the ``impact`` section; needs the ``sim`` extra).

    The cyclic garbage collector is paused meanwhile (not while simulating): the stages build
    objects that live until the end and make few cycles, so its scans are pure cost, half the
    time on a large model."""
    with collector_paused(when=not simulate):
        return _assess(loaded, created, knowledge, risk, simulate, measured)


def _assess(
    loaded: LoadedModel,
    created: str | None,
    knowledge: KnowledgeInputs | None,
    risk: RiskInputs | None,
    simulate: bool,
    measured: list[ImpactFinding] | None = None,
) -> Assessment:
    model = loaded.model
    stpa = analyze_stpa(model)
    impact = _impact(stpa) if simulate else []
    if measured:
        # A campaign's findings stand in for the impact stage's on the classes they cover.
        covered = {ls for finding in measured for ls in finding.loss_scenarios}
        impact = [f for f in impact if not set(f.loss_scenarios) & covered] + measured
    threats = _threats(loaded, stpa.fdi_points, knowledge)
    assessment = Assessment(
        device=model,
        control_actions=stpa.control_actions,
        ucas=stpa.ucas,
        fdi_points=stpa.fdi_points,
        loss_scenarios=stpa.loss_scenarios,
        checks=stpa.checks,
        threats=threats,
        vulnerability_coverage=_coverage(model, knowledge, threats),
        support=_support(model, knowledge),
        impact=impact,
        detectors=_detectors(model, impact) if simulate else [],
        model_lines=element_lines(loaded.source),
        provenance=Provenance(
            tool_version=__version__,
            model_file=loaded.source.file,
            model_sha256=loaded.source.sha256,
            created=created or utc_now(),
            kb_snapshots=knowledge.provenance() if knowledge else [],
        ),
    )
    assessment = with_scenarios(
        assessment,
        (knowledge.pack if knowledge else bundled.technology_pack()).pack,
        profiles=bundled.attacker_profiles(),
        rules=bundled.scenario_rules(),
    )
    return _with_risks(assessment, knowledge, risk)


def _coverage(
    model: DeviceModel, knowledge: KnowledgeInputs | None, threats: list[ElementThreat]
) -> VulnerabilityCoverage | None:
    if knowledge is None:
        return None
    holdings = knowledge.holdings or KbHoldings()
    return VulnerabilityCoverage(
        knowledge_base=holdings,
        components=component_coverage(
            model, knowledge.matcher, threats, comprehensive=holdings.comprehensive
        ),
    )


def _support(model: DeviceModel, knowledge: KnowledgeInputs | None) -> list[ComponentSupport]:
    if knowledge is None:
        return []
    from mdrisk.kb.support import support_status  # the SBOM matching: only with --kb

    return support_status(model, knowledge.sbom)


def _impact(stpa: StpaResult) -> list[ImpactFinding]:
    from mdrisk.impact.bridge import measure_impact

    return measure_impact(
        stpa.control_actions, stpa.ucas, stpa.loss_scenarios, bundled.glucose_impact()
    )


def rate_risks(assessment: Assessment, risk: RiskInputs) -> Assessment:
    """The assessment's risks rated again under other answers or another policy (for an
    assessment read back from its file; the earlier sections are kept as they are)."""
    return _with_risks(assessment, None, risk)


def _detectors(model: DeviceModel, impact: list[ImpactFinding]) -> list[DetectorEvaluation]:
    """The model's declared runtime detectors against every attack the impact stage ran."""
    if not model.detectors:
        return []
    from mdrisk.impact.attacks.spec import parse_plan
    from mdrisk.impact.detector_bridge import evaluate_model_detectors

    attacks = dict.fromkeys(f.attack for f in impact if f.status == "simulated" and f.attack)
    plans = [parse_plan(a, name=a) for a in attacks if a is not None]
    if not plans:
        return []
    # Three Monte Carlo days per patient: 90 patient-days per attack for the 30 patients,
    # enough for a detection rate; the harm itself is measured on the mapping's days.
    return evaluate_model_detectors(model, bundled.glucose_impact(), plans, days=3)


def _with_risks(
    assessment: Assessment, knowledge: KnowledgeInputs | None, risk: RiskInputs | None
) -> Assessment:
    """The risk stage runs last: it reads every earlier section (scenarios, impact)."""
    risk = risk or bundled.risk_inputs()
    if knowledge is not None:
        risk = dataclasses.replace(risk, pack=knowledge.pack.pack)
    if knowledge is not None and knowledge.enricher is not None and risk.mitigations_for is None:
        risk = dataclasses.replace(
            risk, mitigations_for=mitigations_from_enricher(knowledge.enricher)
        )
    return assessment.model_copy(
        update={"risks": assess_risks(assessment, risk), "risk_policy": policy_view(risk)}
    )
