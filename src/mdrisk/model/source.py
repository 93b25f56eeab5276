"""Read YAML or JSON into plain Python data while remembering the line of every value.

The line map lets every later error (schema, dangling id, a SARIF result) point at the exact
line of the device-model file. Anchors and aliases are refused: a device model never needs
them and they are the vehicle of "billion laughs" expansion.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from mdrisk.errors import InputError, Problem

MAX_FILE_BYTES = 20 * 1024 * 1024
MAX_DEPTH = 64

PathKey = tuple[str | int, ...]


@dataclass
class SourceDocument:
    """Parsed data plus where each value stood in the file."""

    file: str
    data: Any
    lines: dict[PathKey, int] = field(default_factory=dict)
    sha256: str = ""

    def line_of(self, path: PathKey) -> int | None:
        """Line of the value at ``path``, or of its nearest ancestor that exists."""
        for end in range(len(path), -1, -1):
            line = self.lines.get(tuple(path[:end]))
            if line is not None:
                return line
        return None

    def render_path(self, path: PathKey) -> str:
        """``components[cgm].technologies[0].version``: list items named by their id."""
        text = ""
        node = self.data
        for key in path:
            if isinstance(key, int):
                item = node[key] if isinstance(node, list) and 0 <= key < len(node) else None
                item_id = item.get("id") if isinstance(item, dict) else None
                text += f"[{item_id}]" if isinstance(item_id, str) else f"[{key}]"
                node = item
            else:
                text += f".{key}" if text else str(key)
                node = node.get(key) if isinstance(node, dict) else None
        return text


class _ComposeLoader(yaml.SafeLoader):
    pass


def _convert(node: yaml.Node, loader: _ComposeLoader, path: PathKey, lines: dict, seen: set,
             depth: int, problems: list[Problem]) -> Any:
    if depth > MAX_DEPTH:
        raise _Abort(Problem(f"nesting deeper than {MAX_DEPTH} levels", line=node.start_mark.line + 1,
                             fix="flatten the structure"))
    if id(node) in seen:
        raise _Abort(Problem("YAML anchors and aliases are not supported",
                             line=node.start_mark.line + 1, fix="write the value out in full"))
    seen.add(id(node))
    lines[path] = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        result: dict[str, Any] = {}
        for key_node, value_node in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":
                raise _Abort(Problem("YAML merge keys (<<) are not supported",
                                     line=key_node.start_mark.line + 1,
                                     fix="write the keys out in full"))
            key = _convert(key_node, loader, path + ("<key>",), {}, seen, depth + 1, problems)
            if not isinstance(key, (str, int, float, bool)) or isinstance(key, bool):
                key = str(key)
            key = str(key)
            if key in result:
                problems.append(Problem(f"key '{key}' appears twice in the same mapping",
                                        field=".".join(str(p) for p in path + (key,)),
                                        line=key_node.start_mark.line + 1,
                                        fix="keep one of them"))
            result[key] = _convert(value_node, loader, path + (key,), lines, seen, depth + 1,
                                   problems)
        return result
    if isinstance(node, yaml.SequenceNode):
        return [
            _convert(item, loader, path + (index,), lines, seen, depth + 1, problems)
            for index, item in enumerate(node.value)
        ]
    try:
        value = loader.construct_object(node, deep=True)
    except yaml.constructor.ConstructorError as exc:
        raise _Abort(Problem(f"unsupported YAML value: {exc.problem}",
                             line=node.start_mark.line + 1,
                             fix="use plain strings, numbers, booleans, lists and mappings")) from None
    if isinstance(value, (dt.date, dt.datetime)):
        # Dates stay text: a version such as 2023-03-01 must not become a date object.
        return node.value
    if isinstance(value, bytes):
        raise _Abort(Problem("binary values are not supported", line=node.start_mark.line + 1))
    return value


class _Abort(Exception):
    def __init__(self, problem: Problem) -> None:
        self.problem = problem


def _parse_yaml(text: str, file: str) -> SourceDocument:
    loader = _ComposeLoader(text)
    try:
        root = loader.get_single_node()
        if root is None:
            raise InputError(file, [Problem("the file is empty", fix="write a device model")])
        lines: dict[PathKey, int] = {}
        problems: list[Problem] = []
        data = _convert(root, loader, (), lines, set(), 0, problems)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else None
        raise InputError(file, [Problem(f"not valid YAML: {exc.problem or exc.context}",
                                        line=line, fix="correct the syntax at that line")]) from None
    except yaml.YAMLError as exc:
        raise InputError(file, [Problem(f"not valid YAML: {exc}")]) from None
    except _Abort as abort:
        raise InputError(file, [abort.problem]) from None
    except RecursionError:
        raise InputError(file, [Problem("nesting too deep", fix="flatten the structure")]) from None
    finally:
        loader.dispose()
    if problems:
        raise InputError(file, problems)
    return SourceDocument(file=file, data=data, lines=lines)


def _reject_duplicate_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            raise ValueError(f"key '{key}' appears twice in the same object")
        result[key] = value
    return result


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a number JSON allows")


def _parse_json(text: str, file: str) -> SourceDocument:
    try:
        data = json.loads(text, object_pairs_hook=_reject_duplicate_keys,
                          parse_constant=_reject_constant)
    except json.JSONDecodeError as exc:
        raise InputError(file, [Problem(f"not valid JSON: {exc.msg}", line=exc.lineno,
                                        fix="correct the syntax at that line")]) from None
    except (ValueError, RecursionError) as exc:
        raise InputError(file, [Problem(f"not valid JSON: {exc}")]) from None
    lines: dict[PathKey, int] = {}
    try:  # JSON is (nearly) YAML: borrow the YAML reader for line numbers only.
        lines = _parse_yaml(text, file).lines
    except InputError:
        pass
    return SourceDocument(file=file, data=data, lines=lines)


def read_text(path: Path) -> str:
    """The file's text, or an InputError that says why it cannot be read."""
    file = str(path)
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise InputError(file, [Problem(f"cannot read the file: {exc.strerror}",
                                        fix="check the path")]) from None
    if path.is_dir():
        raise InputError(file, [Problem("is a folder, not a file", fix="name a file")])
    if size > MAX_FILE_BYTES:
        raise InputError(file, [Problem(f"the file is {size} bytes, over the {MAX_FILE_BYTES} limit")])
    try:
        return path.read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InputError(file, [Problem(f"not UTF-8 text (byte {exc.start})",
                                        fix="save the file as UTF-8")]) from None
    except OSError as exc:
        raise InputError(file, [Problem(f"cannot read the file: {exc.strerror}")]) from None


def parse_document(text: str, file: str) -> SourceDocument:
    """Parse YAML or JSON (chosen by content: JSON starts with '{' or '[')."""
    if "\x00" in text:
        raise InputError(file, [Problem("the file contains NUL bytes; it is not a text model")])
    stripped = text.lstrip()
    if file.endswith(".json") or stripped.startswith(("{", "[")):
        document = _parse_json(text, file)
    else:
        document = _parse_yaml(text, file)
    document.sha256 = hashlib.sha256(text.encode("utf-8")).hexdigest()
    return document
