"""Read a CSV table strictly: UTF-8, the columns we need, every row as wide as the header.

A file that does not end with a line break is refused: every tool that writes these tables
ends the last row with one, so its absence means the copy was cut off, possibly inside the
last record. Each row comes back with the line it starts on, for messages and notes.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from mdrisk.parsing.errors import refuse
from mdrisk.parsing.strict_json import read_text


@dataclass(frozen=True)
class Row:
    line: int
    values: dict[str, str]  # canonical column name -> text
    key: str  # the record's own id (first key column), for messages

    @property
    def where(self) -> str:
        return f"line {self.line} ({self.key})" if self.key else f"line {self.line}"


def read_rows(
    path: Path,
    columns: Mapping[str, tuple[str, ...]],
    key: str = "",
    optional: Mapping[str, tuple[str, ...]] | None = None,
) -> list[Row]:
    """Rows with ``columns`` (canonical name -> header names accepted, compared without case
    or spaces) and any ``optional`` ones present; InputError for anything else."""
    content = read_text(path, "header")
    if not content.strip():
        raise refuse(
            path, "the file is empty", record="header", fix="fetch the file again from its source"
        )
    reader = csv.reader(io.StringIO(content, newline=""), strict=True)
    try:
        header = next(reader)
    except csv.Error as exc:
        raise refuse(path, f"not valid CSV: {exc}", record="header", line=1) from None
    positions = _positions(path, header, columns, optional or {})
    rows: list[Row] = []
    start = 2
    try:
        for fields in reader:
            line = start
            start = reader.line_num + 1
            if not fields:
                continue  # a blank line is not a record
            key_position = positions.get(key) if key else None
            record_key = (
                fields[key_position].strip()
                if key_position is not None and key_position < len(fields)
                else ""
            )
            where = f"line {line} ({record_key})" if record_key else f"line {line}"
            if len(fields) != len(header):
                more = "more" if len(fields) > len(header) else "fewer"
                raise refuse(
                    path,
                    f"has {len(fields)} fields, {more} than the header's {len(header)}",
                    record=where,
                    line=line,
                    fix="the row is damaged or cut off; fetch the file again",
                )
            values = {name: fields[index] for name, index in positions.items() if index is not None}
            rows.append(Row(line, values, record_key))
    except csv.Error as exc:
        raise refuse(
            path,
            f"not valid CSV: {exc}",
            record=f"line {start}",
            line=start,
            fix="the file may be truncated or damaged; fetch it again",
        ) from None
    if not content.endswith(("\n", "\r")):
        last = rows[-1].where if rows else "header"
        raise refuse(
            path,
            "the file does not end with a line break: the last record may be cut off",
            record=last,
            fix="fetch the whole file again",
        )
    return rows


def _fold(name: str) -> str:
    return re.sub(r"[\s_()-]+", "", name).casefold()


def _positions(
    path: Path,
    header: list[str],
    columns: Mapping[str, tuple[str, ...]],
    optional: Mapping[str, tuple[str, ...]],
) -> dict[str, int | None]:
    folded = [_fold(name) for name in header]
    repeated = sorted({name for name in folded if folded.count(name) > 1})
    if repeated:
        raise refuse(
            path, f"the header repeats column(s) {', '.join(repeated)}", record="header", line=1
        )
    positions: dict[str, int | None] = {}
    missing = []
    for wanted, accepted in list(columns.items()) + list(optional.items()):
        index = next(
            (folded.index(_fold(name)) for name in accepted if _fold(name) in folded), None
        )
        if index is None and wanted in columns:
            missing.append(accepted[0])
        positions[wanted] = index
    if missing:
        raise refuse(
            path,
            f"the header lacks column(s): {', '.join(missing)}",
            record="header",
            line=1,
            fix="is this the right file? the header names the columns it needs",
        )
    return positions
