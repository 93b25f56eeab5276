"""The evasion results as flat records, for the assessment's ``ml_attacks`` section.

One :class:`EvasionRecord` per attack and constraint set: what the section asks of every
attack (attack, FDI point, constraints, success rate, perturbation, queries, library and
version, seed, ATLAS technique), plus, for the closed loop, the harm per cohort. Plain values
only, so the assessment's own record type can take them field by field.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from importlib import metadata
from typing import Any

import numpy as np

from mdrisk.impact.evasion.capability import CGM_LINK, CGM_SIGNAL, CgmCapability
from mdrisk.impact.evasion.closed_loop import CLEAN, EvasionRuns
from mdrisk.impact.evasion.offline import OfflineResult

ENGINE = "forecaster"  # bgms.yaml's ML engine
EVADE = "AML.T0015"  # Evade AI Model
WHITE_BOX = "AML.T0043.000"  # Craft Adversarial Data: White-Box Optimization
BLACK_BOX = "AML.T0043.001"  # Craft Adversarial Data: Black-Box Optimization


def _version(package: str) -> str:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return "absent"


@dataclass(frozen=True)
class EvasionRecord:
    attack: str
    engine: str
    fdi_point: str  # the link the attacker sits on
    signal: str
    constraints: str
    success_rate: float
    samples: int
    perturbation_linf: float  # mg/dL of CGM history, median over successes
    perturbation_l2: float | None
    queries: int
    library: str
    library_version: str
    seed: int
    atlas: tuple[str, ...]
    model: str  # the model attacked, and how it was trained
    harm: dict[str, dict[str, float]] = field(default_factory=dict)  # cohort -> metric -> value

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def _finite(value: float) -> float:
    return round(value, 3) if math.isfinite(value) else 0.0


def offline_record(
    result: OfflineResult, capability: CgmCapability, model: str, seed: int = 0
) -> EvasionRecord:
    """A record of one offline solver run (:mod:`.offline`)."""
    art = result.solver == "hopskipjump"
    return EvasionRecord(
        attack=f"evasion at decision points ({result.solver}, {result.features_free} free)",
        engine=ENGINE,
        fdi_point=CGM_LINK,
        signal=CGM_SIGNAL,
        constraints=capability.describe(),
        success_rate=round(result.success_rate, 4),
        samples=result.samples,
        perturbation_linf=_finite(result.linf_median),
        perturbation_l2=_finite(result.l2_median),
        queries=result.queries,
        library="adversarial-robustness-toolbox" if art else "mdrisk exhaustive search",
        library_version=_version("adversarial-robustness-toolbox") if art else _version("mdrisk"),
        seed=seed,
        atlas=(EVADE, BLACK_BOX if art else WHITE_BOX),
        model=model,
    )


def cohort_harm(runs: EvasionRuns, block: str) -> dict[str, dict[str, float]]:
    """Per cohort (and ``all``): mean minutes below 54 and LBGI, attacked and clean, and the
    patients with an induced ISO 14971 severity."""
    out: dict[str, dict[str, float]] = {}
    harm = runs.blocks[block].harm
    groups: dict[str, list] = {"all": list(harm)}
    for h in harm:
        groups.setdefault(h.patient.partition("#")[0], []).append(h)
    for group, members in groups.items():
        out[group] = {
            "patient_days": float(len(members)),
            "minutes_below_54": round(
                float(np.mean([h.attacked["minutes_below_54"] for h in members])), 2
            ),
            "minutes_below_54_clean": round(
                float(np.mean([h.clean["minutes_below_54"] for h in members])), 2
            ),
            "lbgi": round(float(np.mean([h.attacked["lbgi"] for h in members])), 3),
            "lbgi_clean": round(float(np.mean([h.clean["lbgi"] for h in members])), 3),
            "patients_harmed": float(
                len({h.patient for h in members if h.induced_severity is not None})
            ),
        }
    return out


def closed_loop_records(
    runs: EvasionRuns, capabilities: dict[str, CgmCapability], model: str
) -> list[EvasionRecord]:
    """One record per attacked block of a closed-loop run (:mod:`.closed_loop`)."""
    records = []
    for name, block in runs.blocks.items():
        if name == CLEAN:
            continue
        capability = capabilities.get(name)
        evasion = capability is not None
        records.append(
            EvasionRecord(
                attack="evasion in the closed loop (forged CGM readings, smallest push past "
                f"{runs.setup.goal.threshold:g} mg/dL)"
                if evasion
                else f"output bias ({runs.setup.output_bias}), the former model of the attack",
                engine=ENGINE,
                fdi_point=CGM_LINK if evasion else "forecaster_to_advisor",
                signal=CGM_SIGNAL if evasion else "glucose_forecast",
                constraints=capability.describe() if capability is not None else "none",
                success_rate=round(block.success_rate, 4) if evasion else 0.0,
                samples=block.decisions,
                perturbation_linf=_finite(float(np.median(block.window_offsets)))
                if len(block.window_offsets)
                else 0.0,
                perturbation_l2=None,
                queries=block.queries,
                library="mdrisk exhaustive search" if evasion else "none",
                library_version=_version("mdrisk"),
                seed=runs.setup.seed,
                atlas=(EVADE, WHITE_BOX) if evasion else (EVADE,),
                model=model,
                harm=cohort_harm(runs, name),
            )
        )
    return records
