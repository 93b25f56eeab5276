"""Load a catalogue YAML file with PyYAML's safe C loader, refusing what it cannot survive.

The C loader is fast but recurses without limit while composing (a deeply nested file
crashes the interpreter) and expands aliases. So the event stream is checked first: one
document, no anchors or aliases ("billion laughs"), nesting at most ``MAX_DEPTH``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from mdrisk.parsing.bounded import read_limited
from mdrisk.parsing.errors import refuse

MAX_DEPTH = 64
MAX_YAML_BYTES = 64 * 1024 * 1024
_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def load_yaml(path: Path) -> Any:
    """The single YAML document in ``path`` as plain data, or InputError naming the line."""
    raw = read_limited(path, MAX_YAML_BYTES, "a catalogue this importer reads")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise refuse(
            path,
            f"not UTF-8 text (bad byte at offset {exc.start})",
            line=raw[: exc.start].count(b"\n") + 1,
            fix="save the file as UTF-8",
        ) from None
    if "\x00" in text:
        raise refuse(
            path,
            "the file contains NUL characters; it is not YAML text",
            fix="give the catalogue as published",
        )
    try:
        _check_events(path, text)
        return yaml.load(text, Loader=_Loader)  # noqa: S506 - a safe loader
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        tagged = isinstance(exc, yaml.constructor.ConstructorError)
        raise refuse(
            path,
            f"not valid YAML: {exc.problem or exc.context or 'unreadable'}",
            line=mark.line + 1 if mark else None,
            fix="remove the tag; catalogues use plain YAML"
            if tagged
            else "the file may be truncated; download it again",
        ) from None
    except yaml.YAMLError as exc:
        raise refuse(
            path, f"not valid YAML: {exc}", fix="the file may be truncated; download it again"
        ) from None
    except (ValueError, OverflowError) as exc:  # e.g. an integer with 10,000 digits
        raise refuse(
            path,
            f"a value YAML cannot represent: {str(exc)[:120]}",
            fix="write the value as quoted text",
        ) from None


def _check_events(path: Path, text: str) -> None:
    depth = documents = 0
    for event in yaml.parse(text, Loader=_Loader):
        line = event.start_mark.line + 1 if event.start_mark else None
        if isinstance(event, yaml.AliasEvent) or getattr(event, "anchor", None):
            raise refuse(
                path,
                "YAML anchors and aliases are refused (the vehicle of 'billion laughs' expansion)",
                line=line,
                fix="write the values out in full",
            )
        if isinstance(event, (yaml.MappingStartEvent, yaml.SequenceStartEvent)):
            depth += 1
            if depth > MAX_DEPTH:
                raise refuse(
                    path,
                    f"nesting deeper than {MAX_DEPTH} levels",
                    line=line,
                    fix="flatten the structure",
                )
        elif isinstance(event, (yaml.MappingEndEvent, yaml.SequenceEndEvent)):
            depth -= 1
        elif isinstance(event, yaml.DocumentStartEvent):
            documents += 1
            if documents > 1:
                raise refuse(
                    path, "more than one YAML document", line=line, fix="keep one document per file"
                )
