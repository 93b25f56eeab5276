"""CSV: one file per table of the report (FDI points, scenarios, risks, threats,
vulnerabilities, SBOM, traceability, checks) in a ``csv/`` folder of the package, and two of
the knowledge base's coverage (``vulnerability_coverage``: each technology covered or not;
``knowledge_base``: its sources, import dates and record counts). ``vulnerabilities`` marks
each row's ``match``: confident, or possible (below the confidence cut-off, needing review).

Cells that a spreadsheet would read as a formula (starting with ``=``, ``+``, ``-``, ``@``,
tab or carriage return) are prefixed with an apostrophe: text from a device model or an
advisory must not run as a formula when an analyst opens the file (CWE-1236).
``render`` gives the same tables as one ZIP archive, with fixed times so that the same
assessment gives the same bytes.
"""

from __future__ import annotations

import csv
import io
import zipfile

from mdrisk.assessment import Assessment
from mdrisk.report.coverage_tables import coverage_table, knowledge_base_table
from mdrisk.report.interface import ReportWriter
from mdrisk.report.tables import Table, report_tables
from mdrisk.report.verification import tests_for
from mdrisk.spreadsheet import formula_safe

FOLDER = "csv"
_ZIP_TIME = (1980, 1, 1, 0, 0, 0)


def table_csv(table: Table) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(table.headers)
    writer.writerows([formula_safe(cell) for cell in row] for row in table.rows)
    # UTF-8 with a byte-order mark: spreadsheet programs then read accents and arrows right.
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


def csv_files(assessment: Assessment) -> dict[str, bytes]:
    tables = report_tables(assessment, tests_for(assessment))
    for table in (coverage_table(assessment), knowledge_base_table(assessment)):
        tables[table.key] = table
    return {f"{FOLDER}/{key}.csv": table_csv(table) for key, table in tables.items()}


class CsvWriter(ReportWriter):
    name = "csv"
    file_name = "tables.csv.zip"

    def render(self, assessment: Assessment) -> bytes:
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
            for path, data in sorted(csv_files(assessment).items()):
                info = zipfile.ZipInfo(path, date_time=_ZIP_TIME)
                info.compress_type = zipfile.ZIP_DEFLATED
                info.external_attr = 0o644 << 16
                archive.writestr(info, data)
        return buffer.getvalue()

    def render_files(self, assessment: Assessment) -> dict[str, bytes]:
        return csv_files(assessment)
