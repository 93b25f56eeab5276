"""The landscape as one self-contained HTML page a person reads in a minute: headline
numbers, the plots (SVG inlined as data URIs), the top rows of the main tables, sources and
caveats. Jinja2 with autoescaping; no script, no external resource."""

from __future__ import annotations

import base64
from typing import NotRequired, TypedDict

from jinja2 import Environment, PackageLoader, select_autoescape

from mdrisk import __version__
from mdrisk.landscape.analysis.results import Headline, Landscape
from mdrisk.landscape.plots import TITLES

TEMPLATE = "landscape.html.j2"
SECTIONS = {
    "devices": ("ai-devices-by-year", "ai-devices-by-panel"),
    "events": ("report-timing",),
    "advisories": ("advisories-by-year", "advisories-by-cwe", "advisories-by-device-class"),
}
CAVEATS = (
    "FDA's list counts marketing decisions: one product can appear under several "
    "submissions, and the list names only devices FDA has identified as AI-enabled.",
    "A MAUDE report records that someone reported a problem, not that the device caused "
    "harm; how many reports a device gets depends on who uses it and who reports.",
    "Adverse events are linked to devices by submission number. A report that names no "
    "submission counts for a device only when its maker and product code point at exactly "
    "one AI-enabled device.",
    "Device classes and technologies of advisories, and the software / cybersecurity / ML "
    "classification of reports and recalls, come from keyword rules with negation handling "
    "(mdrisk/data/landscape-keywords.yaml); the CSV tables show the words behind each call.",
    "Makers and advisory vendors are compared after normalising their names with mdrisk's "
    "vendor alias table; a company the table does not know matches only its own spelling.",
)


def _environment() -> Environment:
    return Environment(
        loader=PackageLoader("mdrisk", "templates"),
        autoescape=select_autoescape(["html", "j2"], default=True),
        trim_blocks=True,
        lstrip_blocks=True,
    )


def _data_uri(svg: bytes) -> str:
    return "data:image/svg+xml;base64," + base64.b64encode(svg).decode("ascii")


def _pct(value: float | None, digits: int = 0) -> str:
    return "–" if value is None else f"{value * 100:.{digits}f}%"


class _Card(TypedDict):
    number: str
    what: str
    warm: NotRequired[bool]


def _cards(h: Headline) -> list[_Card]:
    cards: list[_Card] = (
        []
        if not h.ai_devices
        else [
            {
                "number": f"{h.ai_devices:,}",
                "what": f"AI-enabled devices on FDA's list (decisions to {h.last_decision})",
            },
            {
                "number": f"{h.devices_last_full_year:,}",
                "what": f"of them authorised in {h.last_full_year}",
            },
            {"number": _pct(h.top_panel_share), "what": f"reviewed by the {h.top_panel} panel"},
        ]
    )
    if h.devices_covered:
        cards.append(
            {
                "number": f"{h.devices_with_reports} of {h.devices_covered}",
                "warm": True,
                "what": "searched devices with a MAUDE adverse-event report "
                f"({_pct(h.devices_with_reports / h.devices_covered, 1)})",
            }
        )
    if h.median_days_to_first_report is not None:
        cards.append(
            {
                "number": f"{h.median_days_to_first_report:,.0f} days",
                "what": "median time from decision to a device's first report",
            }
        )
    if h.advisories:
        cards.append(
            {
                "number": f"{h.advisories}",
                "what": f"CISA medical advisories ({h.advisory_years}), {h.cves:,} CVEs",
            }
        )
        cards.append(
            {
                "number": f"{h.kev_cves} of {h.cves}",
                "warm": True,
                "what": f"advisory CVEs known to be exploited (CISA KEV, {_pct(h.kev_share, 1)})",
            }
        )
        cards.append(
            {
                "number": f"{h.overlap_same}",
                "what": "AI-device makers also named in advisories"
                + (f" (+{h.overlap_related} through an owner)" if h.overlap_related else ""),
            }
        )
    return cards


def _texts(landscape: Landscape) -> dict[str, str]:
    h = landscape.headline
    pathways = ", ".join(f"{n:,} {name}" for name, n in h.pathways.items())
    texts = {
        "devices": (
            f"FDA's list holds {h.ai_devices:,} AI-enabled devices ({pathways}), decided from "
            f"{h.first_year} to {h.last_decision}. {h.last_full_year} alone brought "
            f"{h.devices_last_full_year}; the {h.top_panel} panel reviewed {_pct(h.top_panel_share)} "
            f"of all. {h.ai_makers:,} makers are listed (names normalised)."
            + (
                f" Half of the {h.review_days_known:,} submissions with a known received date were "
                f"decided within {h.median_review_days:,.0f} days."
                if h.median_review_days
                else ""
            )
        )
    }
    if not h.ai_devices:
        texts["devices"] = "No list of AI-enabled devices was found in the inputs."
    if h.devices_covered:
        types = h.reports_by_type
        texts["events"] = (
            f"MAUDE was searched for the {h.devices_covered} listed devices decided "
            f"{h.coverage_years} (Babic et al. 2025): {h.devices_with_reports} of them "
            f"({_pct(h.devices_with_reports / h.devices_covered, 1)}) have at least one report. "
            f"{h.reports_linked:,} reports are linked in all ({types.get('malfunction', 0):,} "
            f"malfunctions, {types.get('injury', 0)} injuries, {types.get('death', 0)} deaths; "
            f"received {h.reports_years})."
        )
        if h.share_reports_within_year is not None and h.median_days_to_first_report is not None:
            late = "Reports come late: only " if h.share_reports_within_year < 0.5 else ""
            texts["events"] += (
                f" {late}{_pct(h.share_reports_within_year)} reached FDA within a year of the "
                "decision, and half the devices had their first report within "
                f"{h.median_days_to_first_report:,.0f} days."
            )
        if h.devices_with_reports_other:
            other = h.devices_with_reports_other
            texts["events"] += (
                f" openFDA records add reports on {other} more "
                f"device{'s' if other > 1 else ''}, outside that search."
            )
    else:
        texts["events"] = "No adverse-event data was found in the inputs."
    if h.recalls_linked:
        texts["events"] += (
            f" {h.recalls_linked} recalls are linked to "
            f"{h.devices_with_recalls} AI-enabled devices."
        )
    else:
        texts["events"] += (
            " No recall is linked: the inputs hold no openFDA recall records "
            "(add them with 'mdrisk landscape sync' or as files in "
            "<data>/openfda)."
        )
    if h.records_with_text:
        found = (
            ", ".join(
                f"{landscape.category_labels.get(c, c).lower()} {n}"
                for c, n in h.records_by_category.items()
            )
            or "none of the categories"
        )
        texts["classification"] = (
            f"{h.records_with_text} linked reports and recalls carry text; keyword rules with "
            f"negation handling find: {found}. The evidence column quotes the words behind "
            "each call (all in tables/classified-records.csv)."
        )
    else:
        texts["classification"] = (
            "None of the linked records carries narrative text (the MAUDE rows of Babic et al. "
            "hold dates and event types only), so none could be classified. openFDA "
            "adverse-event and recall JSON ('mdrisk landscape sync', or files in "
            "<data>/openfda) brings the narratives, reasons and root causes the keyword "
            "rules read."
        )
    if h.advisories:
        top_cwe = next((row for row in landscape.advisories_by_cwe if row.cwe == h.top_cwe), None)
        cwe_name = f" ({top_cwe.name})" if top_cwe and top_cwe.name else ""
        texts["advisories"] = (
            f"{h.advisories} CISA medical advisories ({h.advisories_csaf} with a CSAF "
            f"document, {h.advisories_table_only} from the ICS Advisory Project table only) "
            f"name {h.advisory_vendors} vendors and {h.cves:,} CVEs. {h.top_vendor} leads with "
            f"{h.top_vendor_advisories} advisories; the most frequent weakness is "
            f"{h.top_cwe}{cwe_name}, in {h.top_cwe_advisories} advisories."
        )
        vendors = ", ".join(
            f"{name} ({n})" for name, n in sorted(h.kev_vendors.items(), key=lambda item: -item[1])
        )
        texts["kev"] = (
            f"{h.kev_cves} of the {h.cves:,} advisory CVEs ({_pct(h.kev_share, 1)}) are in the "
            f"KEV catalog of {h.kev_catalog:,} CVEs (the CSAF documents alone: "
            f"{h.kev_cves_csaf} of {h.cves_csaf}). "
            + (
                f"KEV lists them under {vendors}: general-purpose components inside medical "
                "products rather than medical-device code."
                if vendors
                else ""
            )
        )
        texts["overlap"] = (
            f"{h.overlap_same} of the {h.ai_makers:,} companies on the AI list are also named "
            f"as vendors in medical advisories, and {h.overlap_related} more through an owner "
            "or an acquisition. Their AI-enabled devices are not necessarily the products the "
            "advisories are about."
        )
    else:
        texts.update(advisories="No advisory data was found in the inputs.", kev="", overlap="")
    return texts


def scope_line(h: Headline) -> str:
    return (
        (f"Devices decided {h.first_year} to {h.last_decision}; advisories {h.advisory_years}.")
        if h.first_year
        else ""
    )


def render_html(
    landscape: Landscape, svgs: dict[str, bytes], files: list[str], rules_source: str
) -> bytes:
    """The page; ``svgs`` maps plot names to SVG bytes (missing plots are left out)."""
    plots = {
        section: [
            {"title": TITLES[name], "uri": _data_uri(svgs[name])} for name in names if name in svgs
        ]
        for section, names in SECTIONS.items()
    }
    labels = landscape.category_labels
    classified = [
        {
            "kind": row.kind,
            "id": row.id,
            "date": row.date,
            "devices": row.devices[:3]
            + ([f"and {len(row.devices) - 3} more"] if len(row.devices) > 3 else []),
            "labels": [labels.get(c, c) for c in row.categories] or ["none"],
            "evidence": " | ".join(row.evidence.values())
            or " | ".join(f"negated: {t}" for t in row.negated.values()),
        }
        for row in landscape.classified
        if row.categories or row.negated
    ][:15]
    tables = {
        "product_codes": landscape.devices_by_product_code[:10],
        "outcomes": landscape.outcomes[:10],
        "classified": classified,
        "vendors": landscape.advisories_by_vendor[:12],
        "platforms": landscape.advisories_by_platform,
        "kev": landscape.kev,
        "overlap": landscape.maker_overlap,
    }
    html = (
        _environment()
        .get_template(TEMPLATE)
        .render(
            scope=scope_line(landscape.headline),
            cards=_cards(landscape.headline),
            text=_texts(landscape),
            plots=plots,
            tables=tables,
            sources=landscape.sources,
            notes=landscape.notes,
            caveats=CAVEATS,
            files=files,
            version=__version__,
            rules_source=rules_source,
        )
    )
    return html.encode("utf-8")
