"""CVSS 3.0, 3.1 and 4.0 vectors scored with the ``cvss`` package (RedHat's reference code).

In: a vector string, where it came from and optional context metrics (temporal, threat,
environmental) with the reason for each. Out: a :class:`CvssResult` holding the base score
computed from the base metrics alone, and the score with the context metrics added. A vector
the package refuses raises :class:`CvssError` with its message.

CVSS 4.0 names its scores after the metric groups that went in: CVSS-B (base), CVSS-BT
(+ threat), CVSS-BE (+ environmental), CVSS-BTE. Supplemental metrics (S, AU, R, V, RE, U)
never change a 4.0 score.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Sequence
from decimal import Decimal

from cvss import CVSS3, CVSS4
from cvss.exceptions import CVSSError

from mdrisk.assessment.risk import ContextMetric, CvssResult, MetricDecision

BASE_3 = ("AV", "AC", "PR", "UI", "S", "C", "I", "A")
TEMPORAL_3 = ("E", "RL", "RC")
BASE_4 = ("AV", "AC", "AT", "PR", "UI", "VC", "VI", "VA", "SC", "SI", "SA")
THREAT_4 = ("E",)
SUPPLEMENTAL_4 = ("S", "AU", "R", "V", "RE", "U")


class CvssError(ValueError):
    """A vector the scoring package cannot read."""


def version_of(vector: str) -> str:
    """ "3.0", "3.1" or "4.0" from the prefix; CvssError for anything else (CVSS 2 included)."""
    text = vector.strip()
    for version in ("3.0", "3.1", "4.0"):
        if text.startswith(f"CVSS:{version}/"):
            return version
    raise CvssError(
        f"not a CVSS 3.x or 4.0 vector: {vector!r} (it must start with "
        "CVSS:3.0/, CVSS:3.1/ or CVSS:4.0/)"
    )


def _metrics(vector: str) -> list[tuple[str, str]]:
    pairs = []
    for part in vector.strip().split("/")[1:]:
        key, _, value = part.partition(":")
        pairs.append((key, value))
    return pairs


@functools.lru_cache(maxsize=4096)
def _parse(vector: str) -> CVSS3 | CVSS4:
    """The parsed vector (cached: callers only read it)."""
    version = version_of(vector)
    try:
        return CVSS4(vector.strip()) if version == "4.0" else CVSS3(vector.strip())
    except CVSSError as error:
        raise CvssError(f"{vector!r}: {error}") from None


@functools.lru_cache(maxsize=4096)
def base_vector(vector: str) -> str:
    """The vector with its base metrics only, in the specification's order."""
    parsed = _parse(vector)
    version = version_of(vector)
    keep = BASE_4 if version == "4.0" else BASE_3
    metrics = dict(_metrics(parsed.clean_vector()))
    return f"CVSS:{version}/" + "/".join(f"{k}:{metrics[k]}" for k in keep)


def metric_values(vector: str) -> dict[str, str]:
    """Every metric written in the vector (after validation), by abbreviation."""
    return dict(_metrics(_parse(vector).clean_vector()))


def _number(value: Decimal | float) -> float:
    return float(round(Decimal(str(value)), 1))


def exploitability_3(vector: str) -> float:
    """The CVSS 3.x exploitability sub-score of the base metrics, to one decimal
    (as NVD shows it)."""
    parsed = _parse(base_vector(vector))
    if not isinstance(parsed, CVSS3):
        raise CvssError(f"{vector!r}: the exploitability sub-score is defined for CVSS 3.x")
    return _number(parsed.esc)


def exploitability_in_context(vector: str) -> float:
    """The CVSS 3.x exploitability with the vector's environmental modifications (MAV,
    MAC, MPR, MUI) applied, to one decimal; the base one when the vector has none."""
    parsed = _parse(vector)
    if not isinstance(parsed, CVSS3):
        raise CvssError(f"{vector!r}: the exploitability sub-score is defined for CVSS 3.x")
    return _number(parsed.modified_esc)


def _with_context(vector: str, context: Sequence[ContextMetric]) -> str:
    written = dict(_metrics(vector))
    added = [f"{c.metric}:{c.value}" for c in context if c.metric not in written]
    return vector.strip() + "".join(f"/{part}" for part in added)


def _score_kind(version: str, metrics: Iterable[str]) -> str:
    keys = set(metrics)
    if version == "4.0":
        threat = bool(keys & set(THREAT_4))
        environmental = bool(keys - set(BASE_4) - set(THREAT_4) - set(SUPPLEMENTAL_4))
        return "CVSS-B" + ("T" if threat else "") + ("E" if environmental else "")
    if keys - set(BASE_3) - set(TEMPORAL_3):
        return "environmental"
    return "temporal" if keys & set(TEMPORAL_3) else "base"


def score(
    vector: str,
    origin: str,
    source: str = "",
    published_score: float | None = None,
    context: Sequence[ContextMetric] = (),
    metrics: Sequence[MetricDecision] = (),
    notes: Sequence[str] = (),
) -> CvssResult:
    """Score ``vector`` (base) and ``vector`` + ``context`` (the device's view of it)."""
    version = version_of(vector)
    base = _parse(base_vector(vector))
    full_vector = _with_context(vector, context)
    full = _parse(full_vector)
    if isinstance(full, CVSS4):
        full_score, full_severity = _number(full.base_score), full.severity
        base_score, base_severity = _number(base.base_score), base.severity
        exploitability = None
    else:
        scores, severities = full.scores(), full.severities()
        # scores(): (base, temporal, environmental); the last group present is the answer.
        kind = _score_kind(version, dict(_metrics(full.clean_vector())))
        index = {"base": 0, "temporal": 1, "environmental": 2}[kind]
        full_score, full_severity = _number(scores[index]), severities[index]
        base_score, base_severity = _number(base.base_score), base.severities()[0]
        exploitability = _number(base.esc)
    agrees = None if published_score is None else abs(published_score - base_score) < 0.05
    clean = full.clean_vector()
    return CvssResult(
        version=version,
        origin=origin,
        source=source,
        base_vector=base_vector(vector),
        base_score=base_score,
        base_severity=base_severity,
        published_score=published_score,
        agrees=agrees,
        exploitability=exploitability,
        vector=clean,
        score=full_score,
        severity=full_severity,
        score_kind=_score_kind(version, dict(_metrics(clean))),
        context=list(context),
        metrics=list(metrics),
        notes=list(notes),
    )


def map_3_to_4(vector: str) -> tuple[str, list[str]]:
    """A CVSS 4.0 base vector read off a 3.x one, and the assumptions that took.

    FIRST publishes no conversion; this one keeps every metric that means the same and
    states the rest: AT:N (3.x folds attack requirements into AC), UI:R read as passive
    (UI:P), and the subsequent-system impacts equal to the 3.x impacts when the scope
    changes, none otherwise.
    """
    metrics = dict(_metrics(base_vector(vector)))
    changed = metrics["S"] == "C"
    ui = {"N": "N", "R": "P"}[metrics["UI"]]
    mapped = {
        "AV": metrics["AV"],
        "AC": metrics["AC"],
        "AT": "N",
        "PR": metrics["PR"],
        "UI": ui,
        "VC": metrics["C"],
        "VI": metrics["I"],
        "VA": metrics["A"],
        "SC": metrics["C"] if changed else "N",
        "SI": metrics["I"] if changed else "N",
        "SA": metrics["A"] if changed else "N",
    }
    notes = [
        "mapped from the CVSS 3.x vector; no one published this 4.0 vector",
        "AT:N assumed: CVSS 3.x folds attack requirements into AC",
    ]
    if ui == "P":
        notes.append("UI:R read as UI:P (passive); UI:A (active) would score lower")
    notes.append(
        "scope changed: subsequent-system impacts set equal to the 3.x impacts"
        if changed
        else "scope unchanged: no subsequent-system impact"
    )
    return "CVSS:4.0/" + "/".join(f"{k}:{mapped[k]}" for k in BASE_4), notes
