"""Checked access to parsed JSON/YAML: a wrong type becomes a refusal naming file and record.

The catalogue importers read many optional fields; each read goes through ``Fields`` so a
mutated or hostile file is refused with ``<file>: objects[12] (attack-pattern--...): 'name'
must be text`` instead of failing somewhere later with a TypeError.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from mdrisk.errors import InputError
from mdrisk.parsing.errors import refuse


class Fields:
    """One mapping of a source file, with the file and the record name for error messages."""

    def __init__(self, path: Path, record: str, value: Any) -> None:
        self.path = path
        self.record = record
        if not isinstance(value, dict):
            raise self.refusal(
                f"expected a mapping, found {type_name(value)}",
                fix="write this entry as a mapping of fields",
            )
        self.value: dict[str, Any] = value

    def refusal(self, message: str, fix: str = "", key: str = "") -> InputError:
        """Refusal naming this record (or, at the top level of a file, the key at fault)."""
        return refuse(self.path, message, record=self.record or key, fix=fix)

    def text(self, key: str, required: bool = False) -> str:
        """The text at ``key``; "" when absent (or refused when ``required``)."""
        value = self.value.get(key)
        if value is None:
            if required:
                raise self.refusal(f"'{key}' is missing", fix=f"give '{key}' as text", key=key)
            return ""
        if isinstance(value, (dt.date, dt.datetime)):  # YAML reads 2021-05-13 as a date
            return value.isoformat()
        if not isinstance(value, str):
            raise self.refusal(
                f"'{key}' must be text, found {type_name(value)}",
                fix=f"write '{key}' as text",
                key=key,
            )
        if required and not value.strip():
            raise self.refusal(f"'{key}' is empty", fix=f"give '{key}' as text", key=key)
        return value

    def texts(self, key: str) -> list[str]:
        """A list of text at ``key``; [] when absent."""
        value = self.value.get(key)
        if value is None:
            return []
        if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
            raise self.refusal(
                f"'{key}' must be a list of text", fix=f"write '{key}' as a list of text", key=key
            )
        return list(value)

    def items(self, key: str) -> list[Any]:
        """The list at ``key`` (items unchecked); [] when absent."""
        value = self.value.get(key)
        if value is None:
            return []
        if not isinstance(value, list):
            raise self.refusal(
                f"'{key}' must be a list, found {type_name(value)}",
                fix=f"write '{key}' as a list",
                key=key,
            )
        return value

    def mappings(self, key: str) -> list[Fields]:
        """The list of mappings at ``key``, each checked; [] when absent."""
        return [
            Fields(self.path, f"{self.prefix}{key}[{index}]", item)
            for index, item in enumerate(self.items(key))
        ]

    def mapping(self, key: str) -> Fields | None:
        value = self.value.get(key)
        return None if value is None else Fields(self.path, f"{self.prefix}{key}", value)

    @property
    def prefix(self) -> str:
        return f"{self.record}." if self.record else ""

    def flag(self, key: str) -> bool:
        value = self.value.get(key)
        if value is None:
            return False
        if not isinstance(value, bool):
            raise self.refusal(
                f"'{key}' must be true or false, found {type_name(value)}",
                fix=f"write '{key}' as true or false",
                key=key,
            )
        return value

    def text_mapping(self, key: str) -> dict[str, list[str] | str]:
        """A mapping of text to text or to lists of text (CAPEC consequences, skills)."""
        value = self.value.get(key)
        if value is None:
            return {}
        ok = isinstance(value, dict) and all(
            isinstance(k, str)
            and (
                isinstance(v, str)
                or (isinstance(v, list) and all(isinstance(item, str) for item in v))
            )
            for k, v in value.items()
        )
        if not ok:
            raise self.refusal(
                f"'{key}' must map text to text or to lists of text",
                fix=f"write '{key}' as a mapping of text",
                key=key,
            )
        return dict(value)


def type_name(value: Any) -> str:
    names = {
        dict: "a mapping",
        list: "a list",
        str: "text",
        bool: "true/false",
        int: "a number",
        float: "a number",
        type(None): "nothing",
    }
    return names.get(type(value), type(value).__name__)
