"""Adverse events and recalls of AI-enabled devices: which devices, how soon after the
decision, and which records involve software, cybersecurity or the ML function (pure).

Time after the decision is counted to the date FDA *received* a report (always given, and
what Babic et al. count by; the event date is missing in about a third of reports) and to
the date a recall was *initiated* (else posted). A record counts for a device when it names
the device's submission number, or when its maker and product code point at exactly one AI
device; a maker with several AI devices in the product code gets the record listed with all
of them as candidates but counted for none.

Recalls are classified by their reason and root cause only: the product description names
the software of every software device and would say nothing about what went wrong.
"""

from __future__ import annotations

import statistics
from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import date

from mdrisk.landscape.analysis.results import ClassifiedRecord, DeviceOutcome, TimingRow
from mdrisk.landscape.keywords import Classifier
from mdrisk.landscape.linking import MAKER_CODE, SUBMISSION, DeviceIndex, DeviceLink
from mdrisk.landscape.records import AdverseEvent, AIDevice, Recall

WINDOWS: tuple[tuple[int, str], ...] = (
    (90, "≤ 3 months"),
    (182, "≤ 6 months"),
    (365, "≤ 1 year"),
    (730, "≤ 2 years"),
    (1826, "≤ 5 years"),
)
LATER = "later"
BEFORE = "before the decision"
EVENT = "adverse event"
RECALL = "recall"


@dataclass(frozen=True)
class LinkedRecord:
    kind: str  # EVENT | RECALL
    id: str
    when: date | None
    link: DeviceLink | None
    text: str
    event_type: str = ""
    source: str = ""
    record: str = ""

    @property
    def device(self) -> str | None:
        """The one AI device the record counts for, or None."""
        if self.link is None:
            return None
        if self.link.kind == SUBMISSION or len(self.link.submissions) == 1:
            return self.link.submissions[0]
        return None


def link_events(events: list[AdverseEvent], index: DeviceIndex) -> list[LinkedRecord]:
    return [
        LinkedRecord(
            EVENT,
            event.report_key,
            event.date_received,
            index.link(event.submissions, event.product_codes, event.makers),
            event.text,
            event.event_type,
            event.source,
            event.record,
        )
        for event in events
    ]


def link_recalls(recalls: list[Recall], index: DeviceIndex) -> list[LinkedRecord]:
    return [
        LinkedRecord(
            RECALL,
            recall.recall_id,
            recall.date_initiated or recall.date_posted,
            index.link(
                recall.submissions,
                [recall.product_code] if recall.product_code else [],
                [recall.firm],
            ),
            " ".join(part for part in (recall.reason, recall.root_cause) if part),
            source=recall.source,
            record=recall.record,
        )
        for recall in recalls
    ]


def days_after(decision: date, when: date) -> int:
    return (when - decision).days


def classify_records(records: list[LinkedRecord], classifier: Classifier) -> list[ClassifiedRecord]:
    """Every linked record with text, with its categories and the words that decided them."""
    found = []
    for record in records:
        if record.link is None or not record.text.strip():
            continue
        result = classifier.classify(record.text)
        negated: dict[str, str] = {}
        for hit in result.hits:
            if hit.negated and hit.category not in result.categories:
                negated.setdefault(hit.category, f"{hit.cue} … {hit.term}")
        found.append(
            ClassifiedRecord(
                kind=record.kind,
                id=record.id,
                date=record.when,
                devices=list(record.link.submissions),
                link=record.link.kind,
                categories=list(result.categories),
                evidence={
                    category: result.evidence(record.text, category)
                    for category in result.categories
                },
                negated=negated,
                source=record.source,
                record=record.record,
            )
        )
    return sorted(found, key=lambda row: (row.kind, row.date or date.min, row.id))


def device_outcomes(
    devices: list[AIDevice], records: list[LinkedRecord], classified: list[ClassifiedRecord]
) -> list[DeviceOutcome]:
    """One row per AI device that some record counts for, most reports first."""
    by_submission = {device.submission: device for device in devices}
    grouped: dict[str, list[LinkedRecord]] = defaultdict(list)
    for record in records:
        if record.device is not None:
            grouped[record.device].append(record)
    categories_of = {(row.kind, row.id): row.categories for row in classified}
    rows = []
    for submission, listed in grouped.items():
        device = by_submission[submission]
        events = [r for r in listed if r.kind == EVENT and r.when is not None]
        recalls = [r for r in listed if r.kind == RECALL]
        event_days = sorted(
            days_after(device.decision_date, r.when) for r in events if r.when is not None
        )
        recall_days = sorted(
            days_after(device.decision_date, r.when) for r in recalls if r.when is not None
        )
        categories = Counter(
            category for r in listed for category in categories_of.get((r.kind, r.id), [])
        )
        rows.append(
            DeviceOutcome(
                submission=submission,
                device=device.device,
                company=device.company,
                panel=device.panel,
                product_code=device.product_code,
                decision_date=device.decision_date,
                reports=len(events),
                reports_by_type=dict(sorted(Counter(r.event_type for r in events).items())),
                first_report_days=event_days[0] if event_days else None,
                median_report_days=statistics.median(event_days) if event_days else None,
                reports_within={
                    limit: sum(1 for d in event_days if d <= limit) for limit, _ in WINDOWS
                },
                recalls=len(recalls),
                first_recall_days=recall_days[0] if recall_days else None,
                link=SUBMISSION
                if any(r.link is not None and r.link.kind == SUBMISSION for r in listed)
                else MAKER_CODE,
                categories=dict(sorted(categories.items())),
            )
        )
    return sorted(rows, key=lambda row: (-row.reports, -row.recalls, row.submission))


def timing(days_by_device: dict[str, list[int]]) -> list[TimingRow]:
    """Records by time after the decision, in windows, with cumulative counts and the
    devices whose first record falls in each window."""
    every = [day for days in days_by_device.values() for day in days]
    if not every:
        return []
    firsts = [min(days) for days in days_by_device.values() if days]
    bins: list[tuple[str, int | None, int, int]] = []
    if any(day < 0 for day in every):
        bins.append((BEFORE, -1, sum(1 for d in every if d < 0), sum(1 for d in firsts if d < 0)))
    low = 0
    for limit, label in WINDOWS:
        bins.append(
            (
                label,
                limit,
                sum(1 for d in every if low <= d <= limit),
                sum(1 for d in firsts if low <= d <= limit),
            )
        )
        low = limit + 1
    bins.append(
        (LATER, None, sum(1 for d in every if d >= low), sum(1 for d in firsts if d >= low))
    )
    rows, running = [], 0
    for label, max_days, records, devices in bins:
        running += records
        rows.append(
            TimingRow(
                window=label,
                max_days=max_days,
                records=records,
                cumulative=running,
                cumulative_share=running / len(every),
                devices_first=devices,
            )
        )
    return rows


def days_by_device(
    devices: list[AIDevice], records: list[LinkedRecord], kind: str
) -> dict[str, list[int]]:
    decision = {device.submission: device.decision_date for device in devices}
    found: dict[str, list[int]] = defaultdict(list)
    for record in records:
        if record.kind == kind and record.device is not None and record.when is not None:
            found[record.device].append(days_after(decision[record.device], record.when))
    return {submission: sorted(days) for submission, days in sorted(found.items())}
