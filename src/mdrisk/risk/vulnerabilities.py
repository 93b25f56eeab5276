"""Published vulnerabilities scored in the device's context.

For each known vulnerability on a threat: every published CVSS 3.x and 4.0 vector is
recomputed (and compared with the score the source states), then scored again with the
metrics the device model settles:

* security requirements (CR, IR, AR) from what the device's data is used for;
* a modified attack vector (MAV) when every way into the element is less remote than the
  published vector assumes (a flaw scored AV:N in a component reachable only over Bluetooth);
* exploit maturity (3.x E:H, 4.0 E:A) when the vulnerability is in CISA's KEV catalogue;
* for CVSS 4.0, the safety values MSI:S and MSA:S when the element is the entry of an attack
  whose harm is serious or worse.

A vulnerability with 3.x vectors only also gets a CVSS 4.0 vector mapped from its 3.x one,
marked as such (origin "mapped").
"""

from __future__ import annotations

from mdrisk.assessment.risk import ContextMetric, CvssResult, VulnerabilityRating
from mdrisk.assessment.threats import ElementThreat, KnownVulnerability
from mdrisk.risk import channels
from mdrisk.risk.cvss_scores import CvssError, map_3_to_4, metric_values, score, version_of
from mdrisk.risk.derive import DeviceFacts

_AV_OF_REACH = {
    channels.NETWORK: "N",
    channels.ADJACENT: "A",
    channels.NEAR: "L",
    channels.WIRED: "L",
    channels.LOCAL: "L",
    channels.CONTACT: "P",
}
_AV_RANK = {"P": 0, "L": 1, "A": 2, "N": 3}


def requirements(device: DeviceFacts) -> list[ContextMetric]:
    """CR, IR and AR from ``device.data_use`` (High where the use makes it matter most)."""
    uses = device.data_use
    found: list[ContextMetric] = []
    if "personal_health_data" in uses:
        found.append(
            ContextMetric(
                metric="CR",
                value="H",
                reason="device.data_use: "
                "personal_health_data (disclosure is a breach of health data)",
            )
        )
    integrity = [u for u in ("therapy", "diagnosis", "monitoring") if u in uses]
    if integrity:
        found.append(
            ContextMetric(
                metric="IR",
                value="H",
                reason=f"device.data_use: {', '.join(integrity)} (false data reaches patient care)",
            )
        )
    availability = [u for u in ("therapy", "monitoring") if u in uses]
    if availability:
        found.append(
            ContextMetric(
                metric="AR",
                value="H",
                reason=f"device.data_use: {', '.join(availability)} (interruption delays care)",
            )
        )
    return found


def _modified_vector(device: DeviceFacts, element: str, published_av: str) -> ContextMetric | None:
    channel = device.channel(element)
    if channel is None:
        return None
    reachable = _AV_OF_REACH[channel.reach]
    if _AV_RANK[reachable] >= _AV_RANK[published_av]:
        return None
    return ContextMetric(
        metric="MAV",
        value=reachable,
        reason=f"the most remote way into "
        f"{element} is {channel.describe()}, less remote than AV:{published_av}",
    )


def _context(
    device: DeviceFacts, element: str, vector: str, kev: bool | None, safety: tuple[bool, bool]
) -> list[ContextMetric]:
    version = version_of(vector)
    found = []
    if kev:
        found.append(
            ContextMetric(
                metric="E",
                value="A" if version == "4.0" else "H",
                reason="listed in CISA KEV: exploited in the wild",
            )
        )
    found += requirements(device)
    modified = _modified_vector(device, element, metric_values(vector)["AV"])
    if modified is not None:
        found.append(modified)
    if version == "4.0":
        integrity, availability = safety
        if integrity:
            found.append(
                ContextMetric(
                    metric="MSI",
                    value="S",
                    reason="the element is the entry of an attack whose harm is serious or worse",
                )
            )
        if availability:
            found.append(
                ContextMetric(
                    metric="MSA",
                    value="S",
                    reason="the device delivers "
                    "therapy or monitoring and the harm is serious or "
                    "worse",
                )
            )
    return found


def rate_vulnerability(
    vulnerability: KnownVulnerability,
    threat: ElementThreat,
    device: DeviceFacts,
    safety: tuple[bool, bool],
) -> VulnerabilityRating:
    """Every published vector recomputed and put in context; a mapped 4.0 when none is."""
    results: list[CvssResult] = []
    unscored: list[str] = []
    for published in vulnerability.cvss:
        try:
            version_of(published.vector)
            results.append(
                score(
                    published.vector,
                    origin="published",
                    source=vulnerability.source,
                    published_score=published.base_score,
                    context=_context(
                        device, threat.element, published.vector, vulnerability.kev, safety
                    ),
                )
            )
        except CvssError as error:
            unscored.append(f"{published.vector}: {error}")
    threes = [r for r in results if r.version.startswith("3")]
    if threes and not any(r.version == "4.0" for r in results):
        newest = max(threes, key=lambda r: r.version)
        mapped, notes = map_3_to_4(newest.base_vector)
        results.append(
            score(
                mapped,
                origin="mapped",
                source=newest.base_vector,
                context=_context(device, threat.element, mapped, vulnerability.kev, safety),
                notes=notes,
            )
        )
    return VulnerabilityRating(
        id=vulnerability.id,
        threat=threat.id,
        element=threat.element,
        technology=threat.technology,
        kev=vulnerability.kev,
        epss=vulnerability.epss,
        cvss=results,
        unscored=unscored,
    )
