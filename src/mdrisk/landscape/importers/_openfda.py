"""openFDA JSON as the API and the bulk downloads serve it: {"meta": ..., "results": [...]}.

A bare array of records, or one record on its own (openFDA's sample files), is read too.
When ``meta.results`` gives skip, limit and total, the file must hold exactly the records
they promise (min(limit, total - skip)): fewer means a partial download, and is refused.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from mdrisk.landscape import fields
from mdrisk.parsing.errors import refuse
from mdrisk.parsing.shape import arr, obj, opt_arr, text
from mdrisk.parsing.strict_json import read_json

OPENFDA_DATES = (fields.BASIC_DATE, fields.ISO_DATE, fields.US_DATE)


def read_results(path: Path, key_field: str, is_record: str) -> list[tuple[dict[str, Any], str]]:
    """(record, where) for every result; ``where`` names the index and the record's key.

    ``is_record`` is a field only this kind of record has (a lone object must have it).
    """
    pattern = re.compile(rf'"{key_field}"\s*:\s*"([^"\\]{{1,60}})"')
    document = read_json(path, "results", pattern)
    if isinstance(document, dict) and "results" in document:
        results = arr(document["results"], "results")
        _check_meta(path, document.get("meta"), len(results))
    elif isinstance(document, dict) and is_record in document:
        results = [document]
    else:
        results = arr(document, "document root")
    lone = isinstance(document, dict) and "results" not in document
    found = []
    for index, item in enumerate(results):
        record = obj(item, f"results[{index}]")
        key = record.get(key_field)
        where = "record" if lone else f"results[{index}]"
        if isinstance(key, str) and key.strip():
            where += f" ({key.strip()[:40]})"
        found.append((record, where))
    return found


def _check_meta(path: Path, meta: Any, held: int) -> None:
    if not isinstance(meta, dict) or not isinstance(meta.get("results"), dict):
        return
    paging = meta["results"]
    skip, limit, total = (paging.get(key) for key in ("skip", "limit", "total"))
    if not all(
        isinstance(value, int) and not isinstance(value, bool) for value in (skip, limit, total)
    ):
        return
    expected = max(0, min(limit, total - skip))
    if held != expected:
        raise refuse(
            path,
            f"holds {held} records but meta.results promises {expected} "
            f"(skip {skip}, limit {limit}, total {total}): a partial download",
            record="meta.results",
            fix="download the file again, or sync again",
        )


def opt_string(record: dict[str, Any], key: str, where: str) -> str:
    """A text field; openFDA sometimes serves one-element lists ([""]) for text fields."""
    value = record.get(key)
    if value is None:
        return ""
    if isinstance(value, list):
        return " ".join(
            text(item, f"{where}.{key}[{n}]") for n, item in enumerate(value) if item is not None
        ).strip()
    return text(value, f"{where}.{key}").strip()


def strings(record: dict[str, Any], key: str, where: str) -> list[str]:
    """An array of strings (a lone string is taken as a one-element array)."""
    value = record.get(key)
    if isinstance(value, str):
        return [value.strip()] if value.strip() else []
    return [
        text(item, f"{where}.{key}[{n}]").strip()
        for n, item in enumerate(opt_arr(record, key, where))
        if item
    ]
