"""Which patients and which meals: the small languages of ``--patients`` and ``--meals``.

Patients, comma-separated: ``all``; a group (``adult``, ``adolescent``, ``child``); a range
within a group (``adult#001-010``, ``child#3-5``); or a name (``adult#007``). Order is kept,
duplicates dropped.

Meals, comma-separated ``HH:MM=grams`` (``07:00=45,12:00=70,18:00=80``), or a YAML/JSON file
holding either that text, a list of such items, or a mapping of times to grams.

Errors are :class:`~mdrisk.impact.attacks.spec.SpecError` (with the column) for text, and
:class:`~mdrisk.errors.InputError` for files.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Sequence
from pathlib import Path

from mdrisk.errors import InputError, Problem
from mdrisk.impact.attacks.spec import SpecError
from mdrisk.impact.scenario import MealScenario

GROUPS = ("adolescent", "adult", "child")
_RANGE = re.compile(r"([a-z]+)#(\d{1,3})-(\d{1,3})\Z")
_MEAL = re.compile(r"(\d{1,2}):(\d{2})\s*=\s*(\d+(?:\.\d+)?)\s*g?\Z")


def select_patients(text: str, known: Sequence[str]) -> tuple[str, ...]:
    """The patient names ``text`` selects, in the order written."""
    chosen: list[str] = []
    at = 0
    if not text.strip():
        raise SpecError(text, 0, "no patients given", "write e.g. 'adult#001-010' or 'all'")
    for part in text.split(","):
        item = part.strip()
        where = at + len(part) - len(part.lstrip())
        at += len(part) + 1
        if not item:
            raise SpecError(text, where, "empty patient item", "remove the extra ','")
        if item == "all":
            chosen += list(known)
            continue
        if item in GROUPS:
            chosen += [n for n in known if n.startswith(f"{item}#")]
            continue
        match = _RANGE.match(item)
        if match:
            group, low, high = match.group(1), int(match.group(2)), int(match.group(3))
            if group not in GROUPS:
                raise SpecError(
                    text, where, f"unknown patient group {group!r}", f"groups: {', '.join(GROUPS)}"
                )
            if low > high:
                raise SpecError(
                    text,
                    where,
                    f"the range {item!r} runs backwards",
                    f"write {group}#{high:03d}-{low:03d}",
                )
            names = [f"{group}#{n:03d}" for n in range(low, high + 1)]
            missing = [n for n in names if n not in known]
            if missing:
                raise SpecError(
                    text,
                    where,
                    f"no patient(s) {', '.join(missing)}",
                    f"{group} patients are {group}#001 to "
                    f"{sum(1 for k in known if k.startswith(group + '#')):03d}",
                )
            chosen += names
            continue
        if item in known:
            chosen.append(item)
            continue
        close = difflib.get_close_matches(item, known, n=1)
        hint = f"; did you mean {close[0]!r}?" if close else ""
        raise SpecError(
            text,
            where,
            f"unknown patient {item!r}{hint}",
            "write a name like adult#001, a range like adult#001-010, a group "
            "(adult, adolescent, child) or all",
        )
    return tuple(dict.fromkeys(chosen))


def parse_meals(text: str, name: str = "meals") -> MealScenario:
    """Meals from ``HH:MM=grams`` items; the carb entries are the meals."""
    meals: list[tuple[int, float]] = []
    at = 0
    if not text.strip():
        raise SpecError(text, 0, "no meals given", "write e.g. '07:00=45,12:00=70'")
    for part in text.split(","):
        item = part.strip()
        where = at + len(part) - len(part.lstrip())
        at += len(part) + 1
        match = _MEAL.match(item)
        if not match:
            raise SpecError(
                text, where, f"{item!r} is not a meal", "write time=grams, e.g. 07:00=45"
            )
        hours, minutes, grams = int(match.group(1)), int(match.group(2)), float(match.group(3))
        if hours > 23 or minutes > 59:
            raise SpecError(text, where, f"{item!r}: not a time of day (00:00 to 23:59)")
        if grams <= 0 or grams > 500:
            raise SpecError(text, where, f"{item!r}: carbs must be between 0 and 500 g")
        meals.append((hours * 60 + minutes, grams))
    return MealScenario.from_minutes(meals, name=name)


def meals_text(scenario: MealScenario) -> str:
    """The ``HH:MM=grams`` text of a one-day scenario."""
    return ",".join(
        f"{m.time_min // 60:02d}:{m.time_min % 60:02d}={m.carbs_g:g}" for m in scenario.meals
    )


def load_meals_file(path: Path) -> MealScenario:
    """Meals from a YAML or JSON file (see the module docstring)."""
    from mdrisk.parsing.source import parse_document, read_text

    file = str(path)
    document = parse_document(read_text(path), file)
    data = document.data
    if isinstance(data, dict):
        items = [f"{k}={v}" for k, v in data.items()]
    elif isinstance(data, list):
        items = [str(v) for v in data]
    elif isinstance(data, str):
        items = [data]
    else:
        raise InputError(
            file,
            [
                Problem(
                    "a meals file holds 'HH:MM=grams' items, a list of "
                    "them, or a mapping of times to grams",
                    line=1,
                )
            ],
        )
    try:
        return parse_meals(",".join(items), name=path.stem)
    except SpecError as error:
        raise InputError(file, [error.problem(field="meals")]) from None
