"""Attack specs: the text an analyst writes for an attack, read with precise errors.

Grammar (spaces allowed around ``;`` and after ``,``)::

    plan    := attack (";" attack)*          several attacks in one attacked run
    attack  := family [":" param] "@" signal ["," when]
    when    := HH:MM "-" HH:MM               a window, every simulated day (may wrap midnight)
             | HH:MM                         one moment: a one-off event (spoof, tamper:+U)

Without ``when`` the attack acts all day. Examples::

    bias:+60@cgm,08:00-14:00      scale:1.5@bolus,12:00-13:00     replay:30min@cgm,02:00-06:00
    freeze@cgm,22:00-23:59        spoof:60g@carbs,07:30           ramp:+60/30min@cgm,06:00-10:00
    drift:+1.5/min@cgm,06:00-08:00  noise:25@cgm   drop:50%@cgm,10:00-12:00   tamper:x3@pump_bolus

A spec that cannot be read raises :class:`SpecError`, which says where (the column in the
spec text) and what is wrong; :func:`plans_from_texts` and :func:`load_attack_file` turn it
into an :class:`~mdrisk.errors.InputError` (CLI exit status 2).

An attack file is YAML (or JSON): a list whose items are spec strings or mappings
``{name: ..., attack: <spec or list of specs>}`` (optionally under a top-level ``attacks:``).
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mdrisk.errors import InputError, Problem
from mdrisk.impact.attacks.base import ATTACKS, DAY_MIN, Attack, ParamError, Window
from mdrisk.impact.fdi_signals import ALL_SIGNALS, EVENT_SIGNALS, READING_SIGNALS

EVENT_WINDOW_MIN = 15  # a single time opens a window this long; events fire once in it
_TIME = re.compile(r"(\d{1,2}):(\d{2})\Z")


class SpecError(ValueError):
    """An attack spec that cannot be read: ``position`` is the 0-based offset in ``spec``."""

    def __init__(self, spec: str, position: int, message: str, fix: str = "") -> None:
        super().__init__(message)
        self.spec = spec
        self.position = max(0, min(position, len(spec)))
        self.message = message
        self.fix = fix

    def render(self) -> str:
        caret = " " * self.position + "^"
        return f"column {self.position + 1}: {self.message}\n    {self.spec}\n    {caret}"

    def problem(self, field: str = "", line: int | None = None) -> Problem:
        return Problem(self.render(), field=field, line=line, fix=self.fix)

    def __str__(self) -> str:
        return f"{self.spec!r}, {self.render()}"


@dataclass(frozen=True)
class AttackSpec:
    """One attack as read from its spec: family, parameters, target signal, window.

    ``start_min``/``end_min``: minutes of the day; both ``None`` for all day; ``end_min``
    ``None`` alone for a single moment (a one-off event).
    """

    family: str
    signal: str
    params: tuple[tuple[str, float], ...] = ()
    start_min: int | None = None
    end_min: int | None = None

    @property
    def param_text(self) -> str:
        return ATTACKS[self.family].format_param(dict(self.params))

    @property
    def when_text(self) -> str:
        if self.start_min is None:
            return ""
        if self.end_min is None:
            return Window.clock(self.start_min)
        return f"{Window.clock(self.start_min)}-{Window.clock(self.end_min)}"

    @property
    def text(self) -> str:
        """The canonical spec (``bias:+60@cgm,08:00-14:00``); parsing it gives this spec."""
        param = self.param_text
        head = f"{self.family}:{param}" if param else self.family
        when = self.when_text
        return f"{head}@{self.signal}" + (f",{when}" if when else "")

    @property
    def window(self) -> Window:
        if self.start_min is None:
            return Window()
        if self.end_min is None:
            return Window(self.start_min, (self.start_min + EVENT_WINDOW_MIN) % DAY_MIN)
        return Window(self.start_min, self.end_min % DAY_MIN)

    def build(self) -> Attack:
        return ATTACKS[self.family](self.signal, self.window, **dict(self.params))


@dataclass(frozen=True)
class AttackPlan:
    """The attacks of one attacked run (usually one), and a name for reports."""

    attacks: tuple[AttackSpec, ...]
    name: str = ""

    @property
    def text(self) -> str:
        return ";".join(a.text for a in self.attacks)

    @property
    def label(self) -> str:
        return self.name or self.text

    @property
    def signals(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(a.signal for a in self.attacks))

    def build(self) -> list[Attack]:
        return [a.build() for a in self.attacks]


def _suggest(word: str, known: Sequence[str]) -> str:
    close = difflib.get_close_matches(word, known, n=1)
    return f"; did you mean {close[0]!r}?" if close else ""


def _clock(spec: str, text: str, at: int, *, end: bool) -> int:
    match = _TIME.match(text)
    if not match:
        raise SpecError(
            spec, at, f"{text!r} is not a time of day", "write times as HH:MM, e.g. 08:00"
        )
    hours, minutes = int(match.group(1)), int(match.group(2))
    if minutes > 59:
        raise SpecError(
            spec,
            at + len(match.group(1)) + 1,
            f"{text!r}: minutes above 59",
            "write times as HH:MM between 00:00 and 24:00",
        )
    if hours > 24 or (hours == 24 and (minutes or not end)):
        raise SpecError(
            spec,
            at,
            f"{text!r} is not a time of day (00:00 to 23:59; 24:00 only ends a window)",
            "write times as HH:MM, e.g. 23:30",
        )
    return hours * 60 + minutes


def _strip(text: str, at: int) -> tuple[str, int]:
    """``text`` without surrounding spaces, and the offset of its first character."""
    lead = len(text) - len(text.lstrip())
    return text.strip(), at + lead


def _parse_one(spec: str, part: str, at: int) -> AttackSpec:
    part, at = _strip(part, at)
    if not part:
        raise SpecError(spec, at, "empty attack", "write e.g. 'bias:+60@cgm,08:00-14:00'")
    head, sign, tail = part.partition("@")
    if not sign:
        raise SpecError(
            spec,
            at + len(part),
            "no '@signal': an attack names the signal it targets",
            f"add e.g. '@cgm'; signals: {', '.join(ALL_SIGNALS)}",
        )
    family, colon, param = head.partition(":")
    family_clean, family_at = _strip(family, at)
    if family_clean not in ATTACKS:
        raise SpecError(
            spec,
            family_at,
            f"unknown attack family {family_clean!r}{_suggest(family_clean, sorted(ATTACKS))}",
            f"families: {', '.join(sorted(ATTACKS))}",
        )
    cls = ATTACKS[family_clean]
    param_at = at + len(family) + 1
    param_clean, param_at = _strip(param, param_at)
    if colon and not param_clean:
        raise SpecError(
            spec,
            param_at,
            f"nothing after '{family_clean}:'",
            f"write e.g. '{family_clean}:{cls.param_example}' or drop the ':'",
        )
    if not param_clean and cls.param_required:
        raise SpecError(
            spec,
            at + len(head),
            f"{family_clean} needs a parameter",
            f"write e.g. '{family_clean}:{cls.param_example}'",
        )
    try:
        params = cls.parse_param(param_clean)
    except ParamError as error:
        raise SpecError(spec, param_at + error.offset, error.message, error.fix) from None

    tail_at = at + len(head) + 1
    signal, comma, when = tail.partition(",")
    signal_clean, signal_at = _strip(signal, tail_at)
    if signal_clean not in ALL_SIGNALS:
        raise SpecError(
            spec,
            signal_at,
            f"unknown signal {signal_clean!r}{_suggest(signal_clean, ALL_SIGNALS)}",
            f"signals: {', '.join(ALL_SIGNALS)}",
        )
    if signal_clean not in cls.targets:
        events = (
            " (carb entries and boluses are events: spoof, scale, drop, replay or tamper them)"
            if signal_clean in EVENT_SIGNALS
            else ""
        )
        raise SpecError(
            spec,
            signal_at,
            f"{family_clean} cannot target {signal_clean}",
            f"{family_clean} targets {', '.join(cls.targets)}{events}",
        )

    start = end = None
    if comma:
        when_clean, when_at = _strip(when, tail_at + len(signal) + 1)
        if not when_clean:
            raise SpecError(
                spec,
                when_at,
                "nothing after ','",
                "give a window HH:MM-HH:MM, a time HH:MM, or drop the ','",
            )
        first, dash, second = when_clean.partition("-")
        start = _clock(spec, first.strip(), when_at, end=False)
        if dash:
            second_clean, second_at = _strip(second, when_at + len(first) + 1)
            end = _clock(spec, second_clean, second_at, end=True)
            if end % DAY_MIN == start:
                raise SpecError(
                    spec,
                    when_at,
                    f"the window {when_clean!r} is empty (it starts where it ends)",
                    "leave the window out for all day",
                )
        elif not _one_off(family_clean, signal_clean, params):
            raise SpecError(
                spec,
                when_at,
                f"a single time suits only a one-off event; "
                f"{family_clean}@{signal_clean} needs a window",
                f"write a window, e.g. '{when_clean}-{_later(start)}'",
            )
    elif _one_off(family_clean, signal_clean, params):
        raise SpecError(
            spec, at + len(part), "a one-off event needs the time it happens", "add e.g. ',07:30'"
        )
    return AttackSpec(
        family=family_clean,
        signal=signal_clean,
        params=tuple(sorted(params.items())),
        start_min=start,
        end_min=end,
    )


def _one_off(family: str, signal: str, params: dict[str, float]) -> bool:
    if family == "spoof":
        return signal in EVENT_SIGNALS or signal in READING_SIGNALS
    return family == "tamper" and params.get("mode") == 2.0


def _later(start: int) -> str:
    return Window.clock((start + 60) % DAY_MIN)


def parse_attack(text: str) -> AttackSpec:
    """One attack (no ``;``)."""
    if ";" in text:
        raise SpecError(
            text, text.index(";"), "one attack expected, found ';'", "give each attack on its own"
        )
    return _parse_one(text, text, 0)


def parse_plan(text: str, name: str = "") -> AttackPlan:
    """One attacked run: one or more attacks separated by ``;``."""
    if not text.strip():
        raise SpecError(text, 0, "empty attack spec", "write e.g. 'bias:+60@cgm,08:00-14:00'")
    attacks = []
    at = 0
    for part in text.split(";"):
        attacks.append(_parse_one(text, part, at))
        at += len(part) + 1
    return AttackPlan(attacks=tuple(attacks), name=name)


def plans_from_texts(texts: Sequence[str], source: str = "--attack") -> list[AttackPlan]:
    """Plans from command-line specs; every unreadable one reported in one InputError."""
    plans, problems = [], []
    for index, text in enumerate(texts):
        try:
            plans.append(parse_plan(text))
        except SpecError as error:
            problems.append(error.problem(field=f"attack {index + 1}"))
    if problems:
        raise InputError(source, problems)
    return plans


def load_attack_file(path: Path) -> list[AttackPlan]:
    """Plans from a YAML or JSON attack file, errors located by line."""
    from mdrisk.parsing.source import parse_document, read_text

    file = str(path)
    document = parse_document(read_text(path), file)
    data: Any = document.data
    base: tuple[str | int, ...] = ()
    if isinstance(data, dict) and set(data) == {"attacks"}:
        data, base = data["attacks"], ("attacks",)
    if not isinstance(data, list) or not data:
        raise InputError(
            file,
            [
                Problem(
                    "an attack file is a non-empty list of attacks",
                    line=document.line_of(base),
                    fix="write e.g. '- bias:+60@cgm,08:00-14:00'",
                )
            ],
        )
    plans, problems = [], []
    for index, item in enumerate(data):
        where = (*base, index)
        name, texts = "", item
        if isinstance(item, dict):
            unknown = sorted(set(item) - {"name", "attack"})
            if unknown or "attack" not in item:
                problems.append(
                    Problem(
                        f"unknown key(s) {unknown}" if unknown else "no 'attack' key",
                        field=f"attacks[{index}]",
                        line=document.line_of(where),
                        fix="an item is a spec string or {name: ..., attack: <spec or list>}",
                    )
                )
                continue
            name, texts = str(item.get("name") or ""), item["attack"]
            where = (*where, "attack")
        if isinstance(texts, str):
            texts = [texts]
        if not isinstance(texts, list) or not texts or not all(isinstance(t, str) for t in texts):
            problems.append(
                Problem(
                    "an attack is a spec string or a list of them",
                    field=f"attacks[{index}]",
                    line=document.line_of(where),
                    fix="write e.g. 'bias:+60@cgm,08:00-14:00'",
                )
            )
            continue
        try:
            plan = parse_plan(";".join(texts), name=name)
        except SpecError as error:
            problems.append(error.problem(field=f"attacks[{index}]", line=document.line_of(where)))
            continue
        plans.append(plan)
    if problems:
        raise InputError(file, problems)
    return plans
