"""Property-based fuzzing of the model loader: whatever it is fed, it loads or says why not.

The only exception the loader may raise is InputError, and every problem in it must have a
message, a fix and, when it has a line, a line inside the file. Two families of input:
arbitrary text and bytes (plus token soups that reach deeper into the YAML and JSON readers),
and mutations of the real glucose reference device (a key deleted, a value of the wrong type,
an id replaced, a list item duplicated, the text truncated or edited line by line).
"""

from __future__ import annotations

import copy
import json
import os
import tempfile
from pathlib import Path
from typing import Any

import yaml
from conftest import EXAMPLES
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mdrisk.errors import InputError
from mdrisk.model import load_model, load_model_text
from mdrisk.model.loader import LoadedModel
from mdrisk.parsing.source import parse_document

FAST = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
SLOW = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])

BGMS_TEXT = (EXAMPLES / "bgms.yaml").read_text("utf-8")
BGMS = yaml.safe_load(BGMS_TEXT)
BGMS_LINES = BGMS_TEXT.splitlines(keepends=True)


def _max_line(text: str) -> int:
    # YAML also breaks lines at \r, NEL and the Unicode separators; splitlines is a superset.
    return len(text.splitlines()) + 1


def check_problems(error: InputError, text: str) -> None:
    assert error.problems, "an InputError must carry at least one problem"
    for problem in error.problems:
        assert isinstance(problem.message, str) and problem.message.strip(), problem
        assert isinstance(problem.field, str) and problem.fix.strip(), problem
        assert problem.line is None or 1 <= problem.line <= _max_line(text), problem
    assert str(error)  # renders without raising


def loads_or_refuses(text: str, file: str = "fuzz.yaml") -> LoadedModel | None:
    """Load ``text``; an InputError is a fine answer, any other exception fails the test."""
    try:
        return load_model_text(text, file)
    except InputError as error:
        assert error.file == file
        check_problems(error, text)
        return None


# ---------------------------------------------------------------- arbitrary text and bytes

YAML_TOKENS = [
    "\n",
    "  ",
    "    ",
    "\t",
    "- ",
    ": ",
    ":",
    "? ",
    "[",
    "]",
    "{",
    "}",
    ", ",
    "#",
    "'",
    '"',
    "\\",
    "&a ",
    "*a",
    "<<: ",
    "!!python/object:os.system ",
    "!!binary ",
    "!!int ",
    "!!bool ",
    "!!set ",
    "!foo ",
    "|\n",
    ">-\n",
    "---\n",
    "...\n",
    "%YAML 1.1\n",
    "~",
    "null",
    "true",
    "1.10",
    "1e999",
    "0x",
    "2023-02-30",
    ".nan",
    "\x00",
    "\x0c",
    "\ufeff",
    "\u2028",
    "\r",
    "\\ud800",
    "device",
    "components",
    "links",
    "id",
    "kind",
    "from",
    "to",
    "carries",
    "ml_engine",
    "9" * 5000,
]
JSON_TOKENS = [
    "{",
    "}",
    "[",
    "]",
    ",",
    ":",
    '"',
    '"a"',
    '"device"',
    '"components"',
    "1",
    "-0",
    "1.5e999",
    "NaN",
    "-Infinity",
    "true",
    "null",
    "//",
    "/*",
    " ",
    "\n",
    "\\u0000",
    '"\\ud800"',
    "9" * 5000,
]


def _soup(tokens: list[str]) -> st.SearchStrategy[str]:
    return st.lists(st.sampled_from(tokens) | st.text(max_size=4), max_size=60).map("".join)


@FAST
@given(st.text(max_size=300))
def test_arbitrary_text_is_loaded_or_refused(text: str):
    loads_or_refuses(text)


@FAST
@given(st.text(max_size=300), st.sampled_from(["m.yaml", "m.json", "m.yml", "<model>"]))
def test_parse_document_raises_only_input_errors(text: str, file: str):
    try:
        document = parse_document(text, file)
    except InputError as error:
        check_problems(error, text)
    else:
        assert document.file == file and len(document.sha256) == 64


@FAST
@given(_soup(YAML_TOKENS))
def test_yaml_token_soup_is_loaded_or_refused(text: str):
    loads_or_refuses(text)


@FAST
@given(_soup(JSON_TOKENS))
def test_json_token_soup_is_loaded_or_refused(text: str):
    loads_or_refuses(text, "fuzz.json")


@FAST
@given(st.binary(max_size=200).map(lambda data: data.decode("latin-1")))
def test_control_characters_are_loaded_or_refused(text: str):
    loads_or_refuses(text)


@SLOW
@given(
    st.binary(max_size=300) | _soup(YAML_TOKENS).map(lambda text: text.encode("utf-8")),
    st.sampled_from([".yaml", ".json"]),
)
def test_arbitrary_files_are_loaded_or_refused(data: bytes, suffix: str):
    handle, name = tempfile.mkstemp(suffix=suffix)
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(data)
        try:
            load_model(Path(name))
        except InputError as error:
            assert error.file == name
            check_problems(error, data.decode("utf-8", errors="replace"))
    finally:
        os.unlink(name)


# ---------------------------------------------------------------- mutations of the bgms model


def _paths(node: Any, prefix: tuple = ()) -> list[tuple]:
    found = []
    items = (
        node.items()
        if isinstance(node, dict)
        else enumerate(node)
        if isinstance(node, list)
        else ()
    )
    for key, value in items:
        found.append(prefix + (key,))
        found.extend(_paths(value, prefix + (key,)))
    return found


def _names(node: Any) -> set[str]:
    """Every id and signal name in the model: the strings references point at."""
    found: set[str] = set()
    if isinstance(node, dict):
        for key, value in node.items():
            if key in ("id", "name", "signal", "from", "to") and isinstance(value, str):
                found.add(value)
            found |= _names(value)
    elif isinstance(node, list):
        for value in node:
            found |= _names(value)
    return found


NAMES = sorted(_names(BGMS))
ODD_VALUES = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(),
    st.text(max_size=12),
    st.sampled_from(NAMES),
    st.lists(st.integers() | st.text(max_size=4), max_size=3),
    st.dictionaries(st.text(max_size=6) | st.integers(), st.integers() | st.none(), max_size=3),
    st.sampled_from(["1.10", "", " ", "ml_engine", "control_action", "cpe:/a:x", "pkg:", "H-9"]),
)


def _parent(data: Any, path: tuple) -> Any:
    for key in path[:-1]:
        data = data[key]
    return data


@st.composite
def mutated_bgms(draw: st.DrawFn) -> Any:
    data = copy.deepcopy(BGMS)
    for _ in range(draw(st.integers(1, 3))):
        paths = _paths(data)
        if not paths:
            break
        path = draw(st.sampled_from(paths))
        parent, key = _parent(data, path), path[-1]
        operation = draw(st.sampled_from(["delete", "retype", "rename", "duplicate"]))
        if operation == "delete":
            del parent[key]
        elif operation == "retype":
            parent[key] = draw(ODD_VALUES)
        elif operation == "rename":
            strings = [p for p in paths if isinstance(_parent(data, p)[p[-1]], str)]
            target = draw(st.sampled_from(strings))
            _parent(data, target)[target[-1]] = draw(st.sampled_from(NAMES) | st.text(max_size=10))
        elif isinstance(parent, list):
            parent.insert(key, copy.deepcopy(parent[key]))
        elif isinstance(parent[key], list) and parent[key]:
            parent[key].append(copy.deepcopy(draw(st.sampled_from(parent[key]))))
        else:
            parent[key] = [copy.deepcopy(parent[key])] * 2
    return data


def _dump(data: Any, as_json: bool) -> str:
    if as_json:
        return json.dumps(data, indent=1)
    return yaml.dump(
        data,
        Dumper=getattr(yaml, "CSafeDumper", yaml.SafeDumper),
        sort_keys=False,
        allow_unicode=True,
    )


def test_the_unmutated_reference_device_loads():
    assert loads_or_refuses(BGMS_TEXT) is not None
    assert loads_or_refuses(_dump(BGMS, as_json=False)) is not None
    assert loads_or_refuses(_dump(BGMS, as_json=True), "bgms.json") is not None


@SLOW
@given(mutated_bgms(), st.booleans())
def test_mutated_bgms_is_loaded_or_refused(data: Any, as_json: bool):
    loads_or_refuses(_dump(data, as_json), "bgms.json" if as_json else "bgms.yaml")


@SLOW
@given(st.integers(0, len(BGMS_TEXT)), st.booleans())
def test_truncated_bgms_is_loaded_or_refused(cut: int, as_json: bool):
    if as_json:
        text = json.dumps(BGMS, indent=1)
        loads_or_refuses(text[: cut * len(text) // len(BGMS_TEXT)], "bgms.json")
    else:
        loads_or_refuses(BGMS_TEXT[:cut])


@st.composite
def edited_bgms_lines(draw: st.DrawFn) -> str:
    lines = list(BGMS_LINES)
    for _ in range(draw(st.integers(1, 4))):
        index = draw(st.integers(0, len(lines) - 1))
        edit = draw(st.sampled_from(["delete", "duplicate", "indent", "dedent", "insert"]))
        if edit == "delete":
            del lines[index]
        elif edit == "duplicate":
            lines.insert(index, lines[index])
        elif edit == "indent":
            lines[index] = "  " + lines[index]
        elif edit == "dedent":
            lines[index] = lines[index][2:] if lines[index].startswith("  ") else lines[index]
        else:
            token = draw(st.sampled_from(YAML_TOKENS) | st.text(max_size=6))
            at = draw(st.integers(0, len(lines[index])))
            lines[index] = lines[index][:at] + token + lines[index][at:]
        if not lines:
            break
    return "".join(lines)


@SLOW
@given(edited_bgms_lines())
def test_line_edited_bgms_is_loaded_or_refused(text: str):
    loads_or_refuses(text)
