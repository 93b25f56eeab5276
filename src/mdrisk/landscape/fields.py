"""Values as public tables write them, read strictly: dates, counts, ids, names.

Every reader raises ``Shape(where, message)`` (from the knowledge base's importers) so an
importer turns it into an InputError naming the file and the record.
"""

from __future__ import annotations

import re
from datetime import date, datetime

from mdrisk.landscape.submission import Submission, parse_submission, written_number
from mdrisk.parsing.shape import Shape

US_DATE = "%m/%d/%Y"  # 09/29/2025 and 8/13/2026
ISO_DATE = "%Y-%m-%d"
BASIC_DATE = "%Y%m%d"  # openFDA: 20040801
_FORMAT_NAMES = {US_DATE: "MM/DD/YYYY", ISO_DATE: "YYYY-MM-DD", BASIC_DATE: "YYYYMMDD"}
# Earliest plausible date in these records (the 1976 Medical Device Amendments).
EARLIEST = date(1976, 1, 1)
_CVE = re.compile(r"CVE-\d{4}-\d{4,19}")
_CWE = re.compile(r"CWE-[1-9]\d{0,5}")


# The formats as patterns: strptime is ten times slower, and these files hold 12,000 dates.
_PATTERNS = {
    US_DATE: re.compile(r"(\d{1,2})/(\d{1,2})/(\d{4})"),
    ISO_DATE: re.compile(r"(\d{4})-(\d{1,2})-(\d{1,2})"),
    BASIC_DATE: re.compile(r"(\d{4})(\d{2})(\d{2})"),
}


def _read(text: str, form: str) -> date | None:
    pattern = _PATTERNS.get(form)
    if pattern is None:
        try:
            return datetime.strptime(text, form).date()
        except ValueError:
            return None
    found = pattern.fullmatch(text)
    if found is None:
        return None
    numbers = [int(part) for part in found.groups()]
    year, month, day = (numbers[2], numbers[0], numbers[1]) if form == US_DATE else numbers
    try:
        return date(year, month, day)
    except ValueError:
        return None


def parse_date(value: str, where: str, formats: tuple[str, ...]) -> date:
    text = value.strip()
    for form in formats:
        found = _read(text, form)
        if found is None:
            continue
        if found < EARLIEST or found.year > 2100:
            raise Shape(where, f"date '{text}' is outside {EARLIEST.year}..2100")
        return found
    wanted = " or ".join(_FORMAT_NAMES.get(form, form) for form in formats)
    raise Shape(where, f"'{text[:40]}' is not a date ({wanted})")


def optional_date(value: str | None, where: str, formats: tuple[str, ...]) -> date | None:
    if value is None or not value.strip():
        return None
    return parse_date(value, where, formats)


def count(value: str, where: str) -> int:
    """A non-negative whole number, also as Stata writes it ("319.0"); "" is 0."""
    text = value.strip()
    if not text:
        return 0
    try:
        number = float(text)
    except ValueError:
        raise Shape(where, f"'{text[:40]}' is not a number") from None
    if number < 0 or number != int(number) or number > 10**9:
        raise Shape(where, f"'{text[:40]}' is not a count")
    return int(number)


def submission(value: str, where: str) -> Submission:
    found = parse_submission(value)
    if found is None:
        raise Shape(
            where,
            f"'{written_number(value)[:60]}' is not an FDA submission number "
            "(K, DEN or P followed by six digits)",
        )
    return found


def product_code(value: str, where: str, required: bool = True) -> str:
    code = value.strip().upper()
    if not code and not required:
        return ""
    if not re.fullmatch(r"[A-Z]{3}", code):
        raise Shape(where, f"'{value.strip()[:20]}' is not an FDA product code (three letters)")
    return code


def name(value: str | None, where: str, required: bool = True) -> str:
    """Text with whitespace folded (the FDA XML has tabs and line breaks inside names)."""
    text = " ".join((value or "").split())
    if required and not text:
        raise Shape(where, "is empty")
    return text


def id_list(value: str, prefix: str) -> tuple[list[str], list[str]]:
    """(ids, unreadable tokens) of a CVE or CWE list written by hand.

    "CVE-2016-1839., CVE-2024 21916" gives both ids: obvious slips (trailing dots, a space
    or no hyphen after the prefix, several ids split by spaces only) are repaired;
    "CVE-NA"/"CWE-NA" mean none; anything else comes back unreadable, for a data note.
    """
    compiled = _CVE if prefix == "CVE" else _CWE
    found: list[str] = []
    unreadable: list[str] = []
    for token in re.split(rf"[,;]|\s+(?={prefix})", value):
        token = token.strip().strip(".").strip()
        if not token or token.upper() in (f"{prefix}-NA", "NA", "N/A"):
            continue
        if prefix == "CVE":
            repaired = re.sub(r"^CVE[\s_-]?(\d{4})[\s_]?(?=\d)", r"CVE-\1-", token)
        else:
            repaired = re.sub(r"^CWE[\s_-]?(?=\d)", "CWE-", token)
        if compiled.fullmatch(repaired):
            found.append(repaired)
        else:
            unreadable.append(token)
    return sorted(set(found)), unreadable
