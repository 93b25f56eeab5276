"""Read a STIX 2.0 or 2.1 bundle into checked objects, each named for error messages.

Shared by the CAPEC and ATT&CK importers. Every object must be a mapping with a ``type`` and
an ``id`` of the form ``<type>--<uuid>``; anything else is refused naming ``objects[i]``.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

from mdrisk.errors import InputError
from mdrisk.kb.importers._fields import Fields, type_name
from mdrisk.parsing.errors import refuse

_STIX_ID = re.compile(r"[a-z0-9][a-z0-9-]*--[0-9a-fA-F-]{8,64}")
_BUNDLE_HEAD = re.compile(r'^\s*\{.{0,400}?"type"\s*:\s*"bundle"', re.S)


@dataclass(frozen=True)
class StixObject:
    index: int
    type: str
    id: str
    fields: Fields

    @property
    def record(self) -> str:
        return self.fields.record

    def retired(self) -> bool:
        """Revoked or deprecated: the catalogue keeps it for history only."""
        status = self.fields.text("x_capec_status")
        return (
            self.fields.flag("revoked")
            or self.fields.flag("x_mitre_deprecated")
            or status in ("Deprecated", "Obsolete")
        )

    def external_ids(self, *source_names: str) -> list[str]:
        """``external_id`` of every external reference from one of ``source_names``."""
        found = []
        for reference in self.fields.mappings("external_references"):
            if reference.text("source_name") in source_names:
                external_id = reference.text("external_id")
                if external_id:
                    found.append(external_id.strip())
        return found


def looks_like_bundle(head: str) -> bool:
    return bool(_BUNDLE_HEAD.match(head))


def _no_constants(name: str) -> float:
    raise ValueError(f"{name} is not a number JSON allows")


def load_bundle(path: Path) -> list[StixObject]:
    """Every object of the bundle at ``path``, checked for type and id, in file order."""
    raw = path.read_bytes()
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise refuse(
            path,
            f"not UTF-8 text (bad byte at offset {exc.start})",
            line=raw[: exc.start].count(b"\n") + 1,
            fix="STIX bundles are UTF-8 JSON",
        ) from None
    try:
        data = json.loads(text, parse_constant=_no_constants)
    except json.JSONDecodeError as exc:
        raise refuse(
            path,
            f"not valid JSON: {exc.msg} (column {exc.colno})",
            line=exc.lineno,
            fix="the file may be truncated; download it again",
        ) from None
    except RecursionError:
        raise refuse(path, "JSON nested too deeply", fix="this is not a STIX bundle") from None
    except ValueError as exc:
        raise refuse(
            path,
            f"not valid JSON: {exc}",
            fix="write numbers JSON allows (no NaN, no huge integers)",
        ) from None
    if not isinstance(data, dict) or data.get("type") != "bundle":
        raise refuse(
            path,
            'not a STIX bundle (the top level must be an object with "type": "bundle")',
            record="bundle",
            fix="give the bundle as published by MITRE",
        )
    items = data.get("objects")
    if not isinstance(items, list):
        raise refuse(
            path,
            f"'objects' must be a list, found {type_name(items)}",
            record="bundle",
            fix="write 'objects' as a list of STIX objects",
        )
    return [_checked(path, index, item) for index, item in enumerate(items)]


def _checked(path: Path, index: int, item: object) -> StixObject:
    record = f"objects[{index}]"
    fields = Fields(path, record, item)
    kind = fields.text("type", required=True)
    identifier = fields.text("id", required=True)
    if not _STIX_ID.fullmatch(identifier) or not identifier.startswith(f"{kind}--"):
        raise refuse(
            path,
            f"id '{identifier[:80]}' is not a STIX id of type '{kind[:40]}'",
            record=record,
            fix="STIX ids are '<type>--<uuid>'",
        )
    fields.record = f"{record} ({identifier})"
    return StixObject(index, kind, identifier, fields)


def relationships(
    objects: list[StixObject], kept: dict[str, str], kind: str
) -> list[tuple[str, str, StixObject]]:
    """(source id, target id, object) of every live relationship of ``kind`` whose both ends
    are in ``kept`` (STIX id -> catalogue id); ends that were retired are left out."""
    found = []
    for obj in objects:
        if obj.type != "relationship" or obj.retired():
            continue
        if obj.fields.text("relationship_type", required=True) != kind:
            continue
        source = obj.fields.text("source_ref", required=True)
        target = obj.fields.text("target_ref", required=True)
        if source in kept and target in kept:
            found.append((kept[source], kept[target], obj))
    return found


def refuse_object(obj: StixObject, message: str, fix: str = "") -> InputError:
    return obj.fields.refusal(message, fix=fix)
