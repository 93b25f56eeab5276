"""FDA's list of AI-enabled medical devices, as the XML FDA publishes for download.

In: <data><row><Date_of_final_decision>MM/DD/YYYY</...><Submission_number>=HYPERLINK("url",
"K252054")</...><Device/><Company/><Panel/><Primary_product_code/></row>...</data>.
Out: one AIDevice per row, record "row N (line L)". A row without one of the six fields, an
unreadable date or submission number, a repeated submission or a truncated file is refused.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from mdrisk.landscape.importers._ai_list import ai_device, refuse_repeats
from mdrisk.landscape.importers.base import LandscapeImporter, Parsed, label
from mdrisk.landscape.records import AIDevice
from mdrisk.parsing.errors import refuse
from mdrisk.parsing.safe_xml import stream_xml

FIELDS = {
    "Date_of_final_decision": "date",
    "Submission_number": "submission",
    "Device": "device",
    "Company": "company",
    "Panel": "panel",
    "Primary_product_code": "product_code",
}


@dataclass
class _Reading:
    """Where the streaming parser is: the open row, the open field and its text so far."""

    row: dict[str, str | None] | None = None
    column: str | None = None
    text: list[str] = field(default_factory=list)


class FdaAiXmlImporter(LandscapeImporter[AIDevice]):
    name = "fda-ai-xml"
    description = "FDA list of AI-enabled medical devices (XML download)"

    def read(self, path: Path) -> Parsed[AIDevice]:
        rows: list[tuple[int, dict[str, str | None]]] = []
        state = _Reading()

        def start(tag: str, _attributes: dict[str, str], line: int) -> None:
            if tag == "row":
                state.row = {}
                rows.append((line, state.row))
            elif state.row is not None and tag in FIELDS:
                state.column = FIELDS[tag]
                state.text = []

        def end(tag: str) -> None:
            row = state.row
            if tag == "row":
                state.row = None
            elif row is not None and tag in FIELDS and state.column:
                row[state.column] = "".join(state.text)
                state.column = None

        def text(data: str) -> None:
            if state.column:
                state.text.append(data)

        stream_xml(path, start, end, text)
        if not rows:
            raise refuse(
                path,
                "no <row> elements: not FDA's AI-enabled device list",
                record="data",
                fix="download the list's XML form again",
            )
        source = label(path)
        devices = []
        for number, (line, values) in enumerate(rows, start=1):
            where = f"row {number} (line {line})"
            devices.append(ai_device(values, where, source, where))
        refuse_repeats(devices)
        return Parsed(devices)
