"""All landscape analyses in one pure call: corpus in, ``Landscape`` (every table and the
headline numbers) out."""

from __future__ import annotations

import statistics
from collections import Counter
from collections.abc import Iterable

from mdrisk.kb.matching.aliases import AliasTable
from mdrisk.landscape.analysis import advisories as adv
from mdrisk.landscape.analysis import devices as dev
from mdrisk.landscape.analysis import events as ev
from mdrisk.landscape.analysis.makers import ai_makers, maker_overlap
from mdrisk.landscape.analysis.results import (
    AdvisoryRow,
    ClassifiedRecord,
    CweRow,
    DeviceOutcome,
    Headline,
    Landscape,
    NoteRow,
    OverlapRow,
    SourceRow,
    VendorRow,
)
from mdrisk.landscape.keywords import Classifier, KeywordRules
from mdrisk.landscape.linking import DeviceIndex
from mdrisk.landscape.records import AIDevice
from mdrisk.landscape.sources import Corpus


def analyse(corpus: Corpus, rules: KeywordRules, aliases: AliasTable) -> Landscape:
    devices = sorted(
        dev.with_received_dates(corpus.devices, corpus.clearances),
        key=lambda d: (d.decision_date, d.submission),
    )
    index = DeviceIndex(devices, aliases)
    classifier = Classifier(rules)

    records = ev.link_events(corpus.events, index) + ev.link_recalls(corpus.recalls, index)
    classified = ev.classify_records(records, classifier)
    outcomes = ev.device_outcomes(devices, records, classified)
    report_days = ev.days_by_device(devices, records, ev.EVENT)
    recall_days = ev.days_by_device(devices, records, ev.RECALL)

    kev_ids = {entry.cve for entry in corpus.kev}
    unified = adv.unify(corpus.csaf, corpus.ics_rows)
    advisory_rows = adv.advisory_rows(unified, aliases, rules, kev_ids)
    by_vendor = adv.by_vendor(advisory_rows, aliases)
    by_cwe = adv.by_cwe(advisory_rows, corpus.cwe_names)
    overlap = maker_overlap(devices, advisory_rows, aliases)

    covered = {row.submission for row in corpus.coverage} & {d.submission for d in devices}
    headline = _headline(
        corpus,
        devices,
        covered,
        records,
        outcomes,
        report_days,
        classified,
        advisory_rows,
        by_vendor,
        by_cwe,
        overlap,
        kev_ids,
        aliases,
    )
    return Landscape(
        headline=headline,
        devices_by_year=dev.devices_by_year(devices),
        devices_by_panel=dev.devices_by_panel(devices),
        devices_by_product_code=dev.devices_by_product_code(devices),
        outcomes=outcomes,
        report_timing=ev.timing(report_days),
        recall_timing=ev.timing(recall_days),
        classified=classified,
        advisories=advisory_rows,
        advisories_by_year=adv.by_year(advisory_rows),
        advisories_by_vendor=by_vendor,
        advisories_by_cwe=by_cwe,
        advisories_by_device_class=adv.by_rule(
            advisory_rows, rules.device_classes, "device_classes"
        ),
        advisories_by_platform=adv.by_rule(advisory_rows, rules.platforms, "platforms"),
        maker_overlap=overlap,
        kev=adv.kev_rows(advisory_rows, corpus.kev),
        sources=[
            SourceRow(name=s.name, file=s.file, records=s.records, present=s.present)
            for s in corpus.sources
        ],
        notes=[NoteRow(file=n.file, record=n.record, message=n.message) for n in corpus.notes],
        category_labels={category.id: category.label for category in rules.categories},
    )


def _headline(
    corpus: Corpus,
    devices: list[AIDevice],
    covered: set[str],
    records: list[ev.LinkedRecord],
    outcomes: list[DeviceOutcome],
    report_days: dict[str, list[int]],
    classified: list[ClassifiedRecord],
    advisory_rows: list[AdvisoryRow],
    by_vendor: list[VendorRow],
    by_cwe: list[CweRow],
    overlap: list[OverlapRow],
    kev_ids: set[str],
    aliases: AliasTable,
) -> Headline:
    panels = Counter(device.panel for device in devices)
    top_panel, top_count = (
        min(panels.items(), key=lambda item: (-item[1], item[0])) if panels else ("", 0)
    )
    full_year = dev.last_full_year(devices)
    reviews = dev.review_days(devices)
    counted = [record for record in records if record.device is not None]
    reports = [record for record in counted if record.kind == ev.EVENT]
    firsts = [min(days) for days in report_days.values() if days]
    every_day = [day for days in report_days.values() for day in days]
    cves = {cve for row in advisory_rows for cve in row.cves}
    csaf_cves = {cve for advisory in corpus.csaf for cve in advisory.cves}
    table_only = sum(1 for row in advisory_rows if row.source == "ics-table")
    years = [row.year for row in advisory_rows]
    return Headline(
        ai_devices=len(devices),
        first_year=min((d.decision_date.year for d in devices), default=None),
        last_decision=max((d.decision_date for d in devices), default=None),
        devices_last_full_year=sum(1 for d in devices if d.decision_date.year == full_year),
        last_full_year=full_year,
        top_panel=top_panel,
        top_panel_share=top_count / len(devices) if devices else 0.0,
        pathways=dict(sorted(Counter(d.pathway for d in devices).items())),
        median_review_days=statistics.median(reviews) if reviews else None,
        review_days_known=len(reviews),
        devices_covered=len(covered),
        coverage_years=_span(
            row.decision_date.year for row in corpus.coverage if row.submission in covered
        ),
        reports_years=_span(record.when.year for record in reports if record.when),
        devices_with_reports=sum(
            1 for row in outcomes if row.reports and row.submission in covered
        ),
        devices_with_reports_other=sum(
            1 for row in outcomes if row.reports and row.submission not in covered
        ),
        reports_linked=len(reports),
        reports_by_type=dict(sorted(Counter(r.event_type for r in reports).items())),
        median_days_to_first_report=statistics.median(firsts) if firsts else None,
        share_reports_within_year=(
            sum(1 for d in every_day if d <= 365) / len(every_day) if every_day else None
        ),
        devices_with_recalls=sum(1 for row in outcomes if row.recalls),
        recalls_linked=sum(1 for record in counted if record.kind == ev.RECALL),
        records_with_text=len(classified),
        records_by_category=dict(
            sorted(Counter(category for row in classified for category in row.categories).items())
        ),
        advisories=len(advisory_rows),
        advisories_csaf=len(advisory_rows) - table_only,
        advisories_table_only=table_only,
        advisory_years=_span(years),
        advisory_vendors=len(by_vendor),
        top_vendor=by_vendor[0].name if by_vendor else "",
        top_vendor_advisories=by_vendor[0].advisories if by_vendor else 0,
        top_cwe=by_cwe[0].cwe if by_cwe else "",
        top_cwe_advisories=by_cwe[0].advisories if by_cwe else 0,
        cves=len(cves),
        kev_cves=len(cves & kev_ids),
        kev_share=len(cves & kev_ids) / len(cves) if cves else 0.0,
        cves_csaf=len(csaf_cves),
        kev_cves_csaf=len(csaf_cves & kev_ids),
        kev_catalog=len(kev_ids),
        kev_vendors=dict(
            sorted(Counter(entry.vendor for entry in corpus.kev if entry.cve in cves).items())
        ),
        overlap_same=len({row.company for row in overlap if row.relation == "same company"}),
        overlap_related=len(
            {row.company for row in overlap if row.relation == "related"}
            - {row.company for row in overlap if row.relation == "same company"}
        ),
        ai_makers=len(ai_makers(devices, aliases)[0]),
    )


def _span(years: Iterable[int]) -> str:
    found = list(years)
    if not found:
        return ""
    return str(min(found)) if min(found) == max(found) else f"{min(found)}–{max(found)}"
