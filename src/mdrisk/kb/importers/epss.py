"""FIRST EPSS scores, the daily CSV (epss_scores-YYYY-MM-DD.csv, unzipped).

In: an optional first line ``#model_version:v2023.03.01,score_date:2023-03-05T00:00:00+0000``,
then the header ``cve,epss,percentile`` and one row per CVE. Out: one ImportBatch keyed
``first-epss`` (a newer file replaces the older scores whole) with one ``epss`` record per CVE:
{epss, percentile, date, model_version}.
"""

from __future__ import annotations

import csv
import io
import math
import re
from pathlib import Path
from typing import Any

from mdrisk.kb.importers._vuln_fields import cve_id
from mdrisk.kb.importers.base import Importer
from mdrisk.kb.records import EPSS, ImportBatch, Record
from mdrisk.parsing.errors import refuse
from mdrisk.parsing.shape import Shape
from mdrisk.parsing.strict_json import read_text

SOURCE_KEY = "first-epss"
_RECORD_ID = re.compile(r"^(CVE-\d+-\d+),", re.M)
_SNIFF = re.compile(r"\A(#[^\n]*\n)?\s*cve,epss(,percentile)?\s*(\n|\Z)")


class EpssImporter(Importer):
    name = "epss"
    description = "FIRST EPSS scores (CSV)"
    whole_catalogue = True  # a day's file replaces every stored score

    @classmethod
    def sniff(cls, head: str, path: Path) -> bool:
        return _SNIFF.match(head.replace("\r\n", "\n")) is not None

    def read(self, path: Path) -> list[ImportBatch]:
        content = read_text(path, "scores", _RECORD_ID)
        lines = content.splitlines()
        about: dict[str, str] = {}
        first = 0
        if lines and lines[0].startswith("#"):
            about = comment_fields(lines[0])
            first = 1
        reader = csv.reader(io.StringIO("\n".join(lines[first:]), newline=""))
        records: list[Record] = []
        try:
            header = [name.strip() for name in next(reader, [])]
            if header[:2] != ["cve", "epss"]:
                raise Shape(f"line {first + 1}", "the header is not 'cve,epss,percentile'")
            for row in reader:
                where = f"line {reader.line_num + first}"
                if not row:
                    continue
                if len(row) != len(header):
                    raise Shape(where, f"has {len(row)} fields where the header has {len(header)}")
                records.append(score_record(dict(zip(header, row, strict=True)), where, about))
        except csv.Error as exc:
            raise refuse(path, f"not valid CSV: {exc}", line=reader.line_num + first) from None
        return [ImportBatch(self.name, SOURCE_KEY, records)]


def comment_fields(line: str) -> dict[str, str]:
    """``#model_version:v2023.03.01,score_date:2023-...`` -> {model_version, score_date}."""
    fields = {}
    for part in line.lstrip("#").split(","):
        key, _, value = part.partition(":")
        if key.strip():
            fields[key.strip()] = value.strip()
    return fields


def score_record(row: dict[str, str], where: str, about: dict[str, str]) -> Record:
    vuln_id = cve_id(row["cve"].strip(), f"{where} cve")
    where = f"{where} ({vuln_id})"
    data: dict[str, Any] = {"epss": probability(row["epss"], f"{where} epss")}
    if "percentile" in row:
        data["percentile"] = probability(row["percentile"], f"{where} percentile")
    data["date"] = about.get("score_date", "")[:10]
    data["model_version"] = about.get("model_version", "")
    return Record(EPSS, vuln_id, data)


def probability(value: str, where: str) -> float:
    try:
        number = float(value)
    except ValueError:
        raise Shape(where, f"'{value[:40]}' is not a number") from None
    if not math.isfinite(number) or not 0.0 <= number <= 1.0:
        raise Shape(where, f"'{value[:40]}' is not a probability (0..1)")
    return number
