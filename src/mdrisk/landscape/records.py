"""What the landscape importers produce: plain, frozen records, one kind per subject.

Every record says where it came from (``source`` file label and ``record``: the line or
index an analyst can look up), so any count in the landscape can be traced to raw rows.
"""

from __future__ import annotations

from datetime import date

from pydantic import BaseModel, ConfigDict, Field


class _Record(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class AIDevice(_Record):
    """One entry of FDA's list of AI-enabled medical devices."""

    submission: str  # normalised: K252054, DEN240068, P140011/S008
    link_key: str  # the number records about the device cite: K252054, P140011
    pathway: str  # "510(k)" | "De Novo" | "PMA"
    decision_date: date
    device: str
    company: str
    panel: str  # lead review panel as FDA writes it ("Radiology")
    product_code: str
    received_date: date | None = None
    summary_url: str = ""
    source: str
    record: str


class AECoverage(_Record):
    """A 510(k)/De Novo device whose MAUDE reports were searched (Babic et al. 2025), with
    their counts by time after the decision as the authors computed them."""

    submission: str
    applicant: str
    device: str
    product_code: str
    panel_code: str  # FDA advisory committee code ("RA")
    decision_date: date
    received_date: date | None
    reports: int  # 0 when the authors found none
    reports_within: dict[int, int] = Field(default_factory=dict)  # days -> reports
    source: str
    record: str


class AdverseEvent(_Record):
    """One medical device report (MAUDE), by report key."""

    report_key: str
    submissions: list[str] = Field(default_factory=list)  # link keys the report names
    product_codes: list[str] = Field(default_factory=list)
    makers: list[str] = Field(default_factory=list)
    brand_names: list[str] = Field(default_factory=list)
    date_received: date
    date_of_event: date | None = None
    event_type: str  # malfunction | injury | death | other | unknown
    product_problems: list[str] = Field(default_factory=list)
    text: str = ""  # narratives, for classification
    source: str
    record: str


class Recall(_Record):
    """One product recall (openFDA device/recall: one row per recalled product)."""

    recall_id: str  # product_res_number (Z-1234-2020), else cfres_id
    event_id: str = ""  # res_event_number: one recall event covers several products
    submissions: list[str] = Field(default_factory=list)
    product_code: str = ""
    firm: str = ""
    date_initiated: date | None = None
    date_posted: date | None = None
    status: str = ""
    reason: str = ""
    root_cause: str = ""
    product_description: str = ""
    source: str
    record: str


class Clearance(_Record):
    """One 510(k) decision (openFDA device/510k)."""

    submission: str
    decision_date: date | None
    received_date: date | None = None
    applicant: str = ""
    device: str = ""
    product_code: str = ""
    committee: str = ""  # advisory committee code
    decision_code: str = ""
    source: str
    record: str


class MedicalAdvisory(_Record):
    """A CISA ICS medical advisory (ICSMA), from its CSAF document or the advisory table."""

    id: str  # base number: ICSMA-17-009-01 (CSAF's "A" update suffix dropped)
    revision_id: str = ""  # as the source writes it: ICSMA-17-009-01A
    title: str
    published: date | None
    vendors: list[str]  # as written
    products: list[str] = Field(default_factory=list)
    cves: list[str] = Field(default_factory=list)
    cwes: list[str] = Field(default_factory=list)
    descriptions: str = ""  # vulnerability descriptions, for technology rules
    cvss_max: float | None = None
    source: str  # "csaf" | "ics-table" | "csaf+ics-table"
    record: str


class IcsAdvisoryRow(_Record):
    """One row of the ICS Advisory Project's master table (ICSA and ICSMA)."""

    number: str  # ICSMA-25-030-01
    published: date
    year: int
    title: str
    vendor: str
    product: str
    products_affected: str
    cves: list[str]
    cwes: list[str]
    cvss: float | None
    sectors: list[str]
    line: int

    @property
    def medical(self) -> bool:
        return self.number.startswith("ICSMA-")


class KevEntry(_Record):
    cve: str
    vendor: str
    product: str
    date_added: str
    ransomware: str


class DataNote(_Record):
    """Something in an input that is readable but odd: shown in the output, never dropped."""

    file: str
    record: str
    message: str
