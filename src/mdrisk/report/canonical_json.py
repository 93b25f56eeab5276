"""The canonical result: sorted keys, stable ids, times only inside ``provenance``."""

from __future__ import annotations

import json

from mdrisk.assessment import Assessment
from mdrisk.report.interface import ReportWriter


def canonical_dict(assessment: Assessment) -> dict:
    return assessment.model_dump(mode="json", by_alias=True)


def canonical_json(assessment: Assessment) -> str:
    return (
        json.dumps(canonical_dict(assessment), sort_keys=True, indent=2, ensure_ascii=False) + "\n"
    )


class CanonicalJsonWriter(ReportWriter):
    name = "json"
    file_name = "assessment.json"

    def render(self, assessment: Assessment) -> bytes:
        return canonical_json(assessment).encode("utf-8")
