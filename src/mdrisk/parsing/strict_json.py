"""Read an importer's file strictly: UTF-8 text only, JSON without NaN or Infinity, nesting a
parser can survive. Any problem becomes the InputError the importers raise, naming the file,
the line and the record being read (found with the importer's ``record_pattern``: the last
record id before the fault, e.g. the CVE whose entry a truncated file breaks off in).
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from mdrisk.parsing.bounded import read_limited
from mdrisk.parsing.errors import refuse

# Generous (published catalogues are a few MB): the limit is there for /dev/zero, not for size.
MAX_JSON_BYTES = 256 * 1024 * 1024


def _record_before(text: str, position: int, pattern: re.Pattern[str] | None, default: str) -> str:
    """The first group of the last ``pattern`` match that starts before ``position``."""
    if pattern is None:
        return default
    found = default
    for match in pattern.finditer(text, 0, position):
        found = match.group(1)
    return found


def _sole_record(text: str, pattern: re.Pattern[str] | None, default: str) -> str:
    """The record id when the text holds one record (a fault of unknown place is in it)."""
    if pattern is None:
        return default
    found = {match.group(1) for match in pattern.finditer(text)}
    return found.pop() if len(found) == 1 else default


def read_text(path: Path, record: str = "", record_pattern: re.Pattern[str] | None = None) -> str:
    """The whole file as text; InputError when it is not UTF-8 (a BOM is allowed)."""
    raw = read_limited(path, MAX_JSON_BYTES, "a data file this importer reads")
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        readable = raw[: exc.start].decode("utf-8", errors="replace")
        raise refuse(
            path,
            f"not UTF-8 text (byte {exc.start} cannot be decoded)",
            _record_before(readable, len(readable), record_pattern, record),
            fix="save the file as UTF-8",
            line=line,
        ) from None


def _no_constants(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


def parse_json(
    path: Path, text: str, record: str = "", record_pattern: re.Pattern[str] | None = None
) -> Any:
    """The JSON value in ``text``; InputError for broken, truncated, NaN-bearing or absurdly
    nested JSON."""
    try:
        return json.loads(text, parse_constant=_no_constants)
    except json.JSONDecodeError as exc:
        if exc.pos >= len(text.rstrip()) or exc.msg.startswith("Unterminated string"):
            message = "the JSON ends too early (truncated file?)"
        else:
            message = f"not valid JSON: {exc.msg} (column {exc.colno})"
        raise refuse(
            path,
            message,
            _record_before(text, exc.pos, record_pattern, record),
            fix="fetch the file again from its source",
            line=exc.lineno,
        ) from None
    except RecursionError:
        raise refuse(
            path, "JSON nested too deeply to read", _sole_record(text, record_pattern, record)
        ) from None
    except ValueError as exc:  # NaN/Infinity, integers with thousands of digits
        reason = "a number with thousands of digits" if "digits" in str(exc) else str(exc)
        raise refuse(
            path, f"not valid JSON: {reason}", _sole_record(text, record_pattern, record)
        ) from None


def read_json(path: Path, record: str = "", record_pattern: re.Pattern[str] | None = None) -> Any:
    """``read_text`` then ``parse_json``."""
    return parse_json(path, read_text(path, record, record_pattern), record, record_pattern)
