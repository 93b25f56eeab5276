"""What the landscape analyses return: typed rows, one model per table of the output."""

from __future__ import annotations

from datetime import date

from pydantic import BaseModel, ConfigDict, Field


class _Row(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class CountRow(_Row):
    key: str
    label: str
    count: int
    share: float  # of the whole the table counts (0..1)


class YearRow(_Row):
    year: int
    devices: int
    by_pathway: dict[str, int] = Field(default_factory=dict)
    by_panel: dict[str, int] = Field(default_factory=dict)  # the top panels, then "Other"


class ProductCodeRow(_Row):
    product_code: str
    devices: int
    panels: list[str]
    first_year: int
    last_year: int
    example: str  # the latest device's name


class DeviceOutcome(_Row):
    """An AI-enabled device with adverse-event reports or recalls linked to it."""

    submission: str
    device: str
    company: str
    panel: str
    product_code: str
    decision_date: date
    reports: int = 0
    reports_by_type: dict[str, int] = Field(default_factory=dict)
    first_report_days: int | None = None
    median_report_days: float | None = None
    reports_within: dict[int, int] = Field(default_factory=dict)
    recalls: int = 0
    first_recall_days: int | None = None
    link: str = ""  # strongest link kind of its records
    categories: dict[str, int] = Field(default_factory=dict)  # records per category


class TimingRow(_Row):
    """Reports (or recalls) by time from the device's decision to the record."""

    window: str  # "≤ 3 months"
    max_days: int | None  # None: later than the last window
    records: int
    cumulative: int
    cumulative_share: float
    devices_first: int  # devices whose first record falls in this window


class ClassifiedRecord(_Row):
    kind: str  # "adverse event" | "recall"
    id: str
    date: date | None
    devices: list[str]
    link: str
    categories: list[str]
    evidence: dict[str, str] = Field(default_factory=dict)
    negated: dict[str, str] = Field(default_factory=dict)  # category -> cue, when only negated
    source: str
    record: str


class AdvisoryRow(_Row):
    id: str
    title: str
    published: date | None
    year: int
    vendors: list[str]
    companies: list[str]  # company ids
    cves: list[str]
    kev_cves: list[str]
    cwes: list[str]
    device_classes: list[str]
    platforms: list[str]
    cvss_max: float | None
    source: str  # "csaf" | "ics-table" | "csaf+ics-table"


class VendorRow(_Row):
    company: str  # company id
    name: str
    advisories: int
    cves: int
    kev_cves: int
    first_year: int
    last_year: int
    written_as: list[str]


class CweRow(_Row):
    cwe: str
    name: str
    advisories: int
    share: float


class OverlapRow(_Row):
    """A maker of AI-enabled devices that also appears in medical advisories."""

    company: str
    name: str
    relation: str  # "same company" | "related"
    advisory_company: str
    advisory_name: str
    ai_devices: int
    advisories: int
    ai_names: list[str]
    advisory_names: list[str]
    advisory_ids: list[str]


class KevRow(_Row):
    cve: str
    advisories: list[str]
    vendor: str
    product: str
    date_added: str
    ransomware: str


class SourceRow(_Row):
    name: str
    file: str
    records: int
    present: bool


class NoteRow(_Row):
    file: str
    record: str
    message: str


class Headline(_Row):
    ai_devices: int
    first_year: int | None
    last_decision: date | None
    devices_last_full_year: int  # in the last calendar year with decisions all year
    last_full_year: int | None
    top_panel: str
    top_panel_share: float
    pathways: dict[str, int]
    median_review_days: float | None  # FDA's received date -> decision, where known
    review_days_known: int
    devices_covered: int  # AI-list devices whose MAUDE reports were searched
    coverage_years: str  # decision years of the searched devices ("2010–2023")
    reports_years: str  # years FDA received the linked reports
    devices_with_reports: int  # of the searched devices
    devices_with_reports_other: int  # outside the search (reports from openFDA files)
    reports_linked: int
    reports_by_type: dict[str, int]
    median_days_to_first_report: float | None
    share_reports_within_year: float | None
    devices_with_recalls: int
    recalls_linked: int
    records_with_text: int
    records_by_category: dict[str, int]
    advisories: int
    advisories_csaf: int
    advisories_table_only: int
    advisory_years: str
    advisory_vendors: int
    top_vendor: str
    top_vendor_advisories: int
    top_cwe: str
    top_cwe_advisories: int
    cves: int
    kev_cves: int
    kev_share: float
    cves_csaf: int
    kev_cves_csaf: int
    kev_catalog: int  # CVEs in the KEV catalog read
    kev_vendors: dict[str, int]  # KEV vendorProject of the advisory CVEs in KEV
    overlap_same: int
    overlap_related: int
    ai_makers: int


class Landscape(_Row):
    headline: Headline
    devices_by_year: list[YearRow]
    devices_by_panel: list[CountRow]
    devices_by_product_code: list[ProductCodeRow]
    outcomes: list[DeviceOutcome]
    report_timing: list[TimingRow]
    recall_timing: list[TimingRow]
    classified: list[ClassifiedRecord]
    advisories: list[AdvisoryRow]
    advisories_by_year: list[CountRow]
    advisories_by_vendor: list[VendorRow]
    advisories_by_cwe: list[CweRow]
    advisories_by_device_class: list[CountRow]
    advisories_by_platform: list[CountRow]
    maker_overlap: list[OverlapRow]
    kev: list[KevRow]
    sources: list[SourceRow]
    notes: list[NoteRow]
    category_labels: dict[str, str]
