"""The canonical JSON text is exactly ``json.dumps(data, sort_keys=True, indent=2,
ensure_ascii=False)`` plus a line break, whichever encoder writes it: the real assessments of
the reference devices (written by orjson) and hostile values (written by orjson where it
spells them alike, by ``json.dumps`` elsewhere)."""

from __future__ import annotations

import enum
import json
import math
import random
import struct
import sys
from typing import Any

import pytest
from conftest import example_models

from mdrisk.pipeline import run
from mdrisk.report import canonical_json
from mdrisk.report.canonical_json import (
    CanonicalJsonWriter,
    NonFiniteNumber,
    canonical_bytes,
    canonical_dict,
    canonical_text,
)


def _reference(data: Any) -> str:
    return json.dumps(data, sort_keys=True, indent=2, ensure_ascii=False) + "\n"


def _assert_same(data: Any) -> None:
    expected = _reference(data)
    assert canonical_text(data) == expected
    assert canonical_bytes(data) == expected.encode("utf-8")


@pytest.mark.parametrize("path", example_models(), ids=lambda path: path.stem)
def test_a_reference_assessment_is_written_by_orjson_as_json_dumps_writes_it(path):
    assessment, _ = run(path)
    data = canonical_dict(assessment)
    assert canonical_json._by_orjson(data) is not None  # the fast path, not the fallback
    expected = _reference(data).encode("utf-8")
    assert canonical_bytes(data) == expected
    assert CanonicalJsonWriter().render(assessment) == expected


def _every_character() -> list[str]:
    """Every code point but the surrogates, in chunks of 4,096."""
    characters = [chr(code) for code in range(sys.maxunicode + 1) if not 0xD800 <= code < 0xE000]
    return ["".join(characters[start : start + 4096]) for start in range(0, len(characters), 4096)]


def test_every_character_as_a_value_and_as_a_key():
    chunks = _every_character()
    data = {"values": chunks, "keys": {chunk: index for index, chunk in enumerate(chunks)}}
    data["single"] = {chr(code): code for code in range(0x800)}  # keys that differ by one
    assert canonical_json._by_orjson(data) is not None
    _assert_same(data)


def test_keys_sorted_by_code_point_across_the_planes():
    """UTF-16 would put U+10000 before U+FFFF; code points (and UTF-8) after."""
    generator = random.Random(7)
    alphabet = ["a", "Z", "é", "\u2028", "\uffff", "\U00010000", "😀", "\x00", "\x7f", " "]
    keys = {"".join(generator.choices(alphabet, k=generator.randint(0, 4))) for _ in range(2000)}
    _assert_same({key: [key] for key in keys})


class _Colour(enum.Enum):
    RED = "red"


class _Text(str):
    pass


HOSTILE: list[Any] = [
    '\x00\x01\x08\t\n\x0b\x0c\r\x1f\x7f\x80\x9f\u00a0\u2028\u2029\ufeff\\"/',
    {"\u2028": "\u2029", "": "", "\"'\\": "<&>"},
    [2**63 - 1, -(2**63), 2**63, 2**64 - 1, 2**64, -(2**63) - 1, 10**40, -(10**40)],
    [0.0, -0.0, 1.0, -1.5, 0.1, 1e-4, 9.999e-5, 1e-7, 1e15, 1e16, 9999999999999998.0, 1e22],
    [5e-324, 2.2250738585072014e-308, 1.7976931348623157e308, -1e-300],
    {"nested": [[[{"deep": [1e-5]}]]], "fine": 0.5},
    {"tuple": (1, 2, "x")},
    {"colour": _Colour.RED.value, "text": _Text("sub")},
    {2: "int keys", 10: "written as text, sorted as numbers"},
    {True: 1, False: 0},
    {1.5: "float keys", 0.25: ""},
    [True, False, None, [], {}, [[]], [{}], {"a": {}}],
    {"z": 1, "a": {"y": 2, "b": [3, {"x": 4, "c": 5}]}},
]


@pytest.mark.parametrize(
    "data", [[float("nan")], {"a": {"b": [1.0, float("inf")]}}, (float("-inf"),)], ids=repr
)
def test_nan_and_infinity_are_refused_with_where_they_stand(data):
    with pytest.raises(NonFiniteNumber, match=r"\$"):
        canonical_text(data)
    with pytest.raises(NonFiniteNumber):
        canonical_bytes(data)


@pytest.mark.parametrize("data", HOSTILE, ids=lambda data: repr(data)[:40])
def test_hostile_values_are_spelled_as_json_dumps_spells_them(data):
    _assert_same(data)


def test_values_json_dumps_refuses_are_refused_alike():
    """An Enum, a bytes value, mixed key types: json.dumps raises TypeError, and so do we."""
    for data in ({"colour": _Colour.RED}, {"raw": b"x"}, {1: 1, "a": 2}):
        with pytest.raises(TypeError):
            _reference(data)
        with pytest.raises(TypeError):
            canonical_text(data)


def test_a_cycle_is_refused_as_json_dumps_refuses_it():
    data: dict[str, Any] = {"a": []}
    data["a"].append(data)
    with pytest.raises(ValueError, match="Circular reference"):
        canonical_text(data)


def test_a_lone_surrogate_is_written_as_json_dumps_writes_it():
    data = {"broken": "a\ud800b", "\udfff": 1}
    assert canonical_text(data) == _reference(data)
    with pytest.raises(UnicodeEncodeError):
        canonical_bytes(data)


def _random_float(generator: random.Random) -> float:
    if generator.random() < 0.5:
        return generator.uniform(-10, 10) * 10.0 ** generator.randint(-8, 18)
    while True:  # any finite bit pattern (NaN and infinity are refused, tested apart)
        value = struct.unpack("<d", generator.getrandbits(64).to_bytes(8, "little"))[0]
        if math.isfinite(value):
            return value


def _random_value(generator: random.Random, depth: int) -> Any:
    kind = generator.randrange(8 if depth < 4 else 5)
    if kind == 0:
        return _random_float(generator)
    if kind == 1:
        return generator.choice([0, 1, -1, 2**53 + 1, 2**63 - 1, -(2**63), 2**64 - 1])
    if kind == 2:
        return "".join(chr(generator.randrange(0x20000)) for _ in range(generator.randrange(6)))
    if kind == 3:
        return generator.choice([True, False, None])
    if kind == 4:
        return generator.choice(["plain", "é\n", ""])
    if kind == 5:
        return [_random_value(generator, depth + 1) for _ in range(generator.randrange(4))]
    keys = [_random_value(generator, 4) for _ in range(generator.randrange(4))]
    return {str(key): _random_value(generator, depth + 1) for key in keys}


def test_random_documents():
    generator = random.Random(2026)
    for _ in range(3000):
        data = _random_value(generator, 0)
        if isinstance(data, str) and any(0xD800 <= ord(c) < 0xE000 for c in data):
            continue
        expected = _reference(data)
        assert canonical_text(data) == expected
        try:
            encoded = expected.encode("utf-8")
        except UnicodeEncodeError:
            continue
        assert canonical_bytes(data) == encoded


def test_floats_in_positional_notation_take_the_fast_path_and_match():
    generator = random.Random(11)
    floats = [generator.uniform(1, 10) * 10.0**exponent for exponent in range(-4, 16)]
    floats += [_random_float(generator) for _ in range(20000)]
    positional = [x for x in floats if x == 0 or 1e-4 <= abs(x) < 1e16]
    assert canonical_json._by_orjson(positional) is not None
    _assert_same(positional)
    for value in floats:
        assert canonical_text([value]) == _reference([value])
