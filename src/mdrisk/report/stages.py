"""What the later stages put in an assessment, read for the report.

Attack scenarios (``Assessment.scenarios``, SC-n), risks (``Assessment.risks``, R-n) and
measured impact are added by their own stages; an assessment made without them (or before
they existed) has none, and every section built from them says so instead of failing.
Records are read by field name only, so the report never imports those stages.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from pydantic import BaseModel

from mdrisk.assessment import Assessment


def section(assessment: Assessment, name: str) -> list[Any]:
    """The records of a later stage's section, or [] when the assessment has none."""
    value = getattr(assessment, name, None)
    return list(value) if isinstance(value, Sequence) and not isinstance(value, str) else []


def risks(assessment: Assessment) -> list[Any]:
    return section(assessment, "risks")


def attack_scenarios(assessment: Assessment) -> list[Any]:
    return section(assessment, "scenarios")


def field(record: Any, *names: str, default: Any = None) -> Any:
    """The first of ``names`` the record has (attribute or mapping key)."""
    for name in names:
        value = record.get(name) if isinstance(record, dict) else getattr(record, name, None)
        if value is not None:
            return value
    return default


def text_of(value: Any) -> str:
    """A field's value as one line of text: lists joined, records by their id or name."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, str | int):
        return str(value)
    if isinstance(value, BaseModel | dict):
        named = field(value, "id", "name", "level", "title")
        return text_of(named) if named is not None else ""
    if isinstance(value, Sequence):
        return ", ".join(filter(None, (text_of(item) for item in value)))
    if hasattr(value, "value"):  # an enum
        return str(value.value)
    return str(value)


def ids_in(record: Any, *names: str) -> list[str]:
    """The ids a record cites under any of ``names`` (a list of ids, one id, or records)."""
    found: list[str] = []
    for name in names:
        value = field(record, name)
        items = (
            value
            if isinstance(value, Sequence) and not isinstance(value, str)
            else ([value] if value is not None else [])
        )
        for item in items:
            identifier = item if isinstance(item, str) else field(item, "id")
            if isinstance(identifier, str) and identifier:
                found.append(identifier)
    return found
