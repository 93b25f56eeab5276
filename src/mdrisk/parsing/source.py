"""Read YAML or JSON into plain Python data while remembering the line of every value.

The line map lets every later error (schema, dangling id, a SARIF result) point at the exact
line of the device-model file. Anchors and aliases are refused: a device model never needs
them and they are the vehicle of "billion laughs" expansion.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from mdrisk.errors import InputError, Problem
from mdrisk.parsing.bounded import read_limited

MAX_FILE_BYTES = 20 * 1024 * 1024
MAX_DEPTH = 64

PathKey = tuple[str | int, ...]


@dataclass
class SourceDocument:
    """Parsed data plus where each value stood in the file."""

    file: str
    data: Any
    lines: dict[PathKey, int] = field(default_factory=dict)
    # Numbers as written (``1.10``), so an error can quote what YAML read as ``1.1``.
    numbers: dict[PathKey, str] = field(default_factory=dict)
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
    """Refuses aliases where they are written and nesting before it can exhaust the stack."""

    depth = 0

    def compose_node(self, parent: yaml.Node | None, index: Any) -> yaml.Node | None:
        line = self.peek_event().start_mark.line + 1
        if self.check_event(yaml.AliasEvent):
            raise _Abort(
                Problem(
                    "YAML anchors and aliases are not supported",
                    line=line,
                    fix="write the value out in full",
                )
            )
        self.depth += 1
        try:
            if self.depth > MAX_DEPTH:
                raise _Abort(
                    Problem(
                        f"nesting deeper than {MAX_DEPTH} levels",
                        line=line,
                        fix="flatten the structure",
                    )
                )
            return super().compose_node(parent, index)
        finally:
            self.depth -= 1


_PLAIN_TAGS: dict[type[yaml.Node], str] = {
    yaml.MappingNode: "tag:yaml.org,2002:map",
    yaml.SequenceNode: "tag:yaml.org,2002:seq",
}


def _convert(
    node: yaml.Node,
    loader: Any,
    path: PathKey,
    lines: dict,
    seen: set,
    depth: int,
    problems: list[tuple[Problem, PathKey]],
    numbers: dict,
) -> Any:
    if depth > MAX_DEPTH:
        raise _Abort(
            Problem(
                f"nesting deeper than {MAX_DEPTH} levels",
                line=node.start_mark.line + 1,
                fix="flatten the structure",
            )
        )
    if id(node) in seen:
        raise _Abort(
            Problem(
                "YAML anchors and aliases are not supported",
                line=node.start_mark.line + 1,
                fix="write the value out in full",
            )
        )
    seen.add(id(node))
    lines[path] = node.start_mark.line + 1
    if type(node) in _PLAIN_TAGS and node.tag != _PLAIN_TAGS[type(node)]:
        tag = node.tag.replace("tag:yaml.org,2002:", "!!")
        raise _Abort(
            Problem(
                f"unsupported YAML tag {tag}",
                line=node.start_mark.line + 1,
                fix="remove the tag; use plain lists and mappings",
            )
        )
    if isinstance(node, yaml.MappingNode):
        result: dict[str, Any] = {}
        for key_node, value_node in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":
                raise _Abort(
                    Problem(
                        "YAML merge keys (<<) are not supported",
                        line=key_node.start_mark.line + 1,
                        fix="write the keys out in full",
                    )
                )
            key = _convert(key_node, loader, path + ("<key>",), {}, seen, depth + 1, problems, {})
            if not isinstance(key, (str, int, float, bool)) or isinstance(key, bool):
                key = str(key)
            key = str(key)
            if key in result:
                problems.append(
                    (
                        Problem(
                            f"key '{key}' appears twice in the same mapping",
                            line=key_node.start_mark.line + 1,
                            fix="keep one of them",
                        ),
                        path + (key,),
                    )
                )
            result[key] = _convert(
                value_node, loader, path + (key,), lines, seen, depth + 1, problems, numbers
            )
            # A field's line is its key's, also when its value starts on the next line.
            lines[path + (key,)] = key_node.start_mark.line + 1
        return result
    if isinstance(node, yaml.SequenceNode):
        return [
            _convert(item, loader, path + (index,), lines, seen, depth + 1, problems, numbers)
            for index, item in enumerate(node.value)
        ]
    if node.tag == "tag:yaml.org,2002:timestamp":
        # Dates stay text: a version such as 2023-03-01 must not become a date object.
        return node.value
    try:
        value = loader.construct_object(node, deep=True)
    except yaml.constructor.ConstructorError as exc:
        problem = (exc.problem or "").replace("tag:yaml.org,2002:", "!!")
        raise _Abort(
            Problem(
                f"unsupported YAML value: {problem}",
                line=node.start_mark.line + 1,
                fix="use plain strings, numbers, booleans, lists and mappings",
            )
        ) from None
    except (ValueError, LookupError, TypeError, AttributeError, ArithmeticError):
        # An explicit tag that does not fit (!!bool maybe), or a number too long to read.
        shown = node.value if len(node.value) <= 40 else node.value[:40] + "..."
        raise _Abort(
            Problem(
                f"cannot read '{shown}' as {node.tag.rsplit(':', 1)[-1]}",
                line=node.start_mark.line + 1,
                fix="write a plain value, or quote it as text",
            )
        ) from None
    if isinstance(value, bytes):
        raise _Abort(
            Problem(
                "binary values are not supported",
                line=node.start_mark.line + 1,
                fix="write the value as plain text",
            )
        )
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        numbers[path] = node.value
    return value


class _Abort(Exception):
    def __init__(self, problem: Problem) -> None:
        self.problem = problem


_CLoader: type | None = getattr(yaml, "CSafeLoader", None)
_NON_PRINTABLE = yaml.reader.Reader.NON_PRINTABLE


def _shallow_and_alias_free(text: str) -> bool:
    """True when the event stream has no alias and no node nested deeper than ``MAX_DEPTH``
    (the C composer recurses without limit and shares aliased nodes)."""
    assert _CLoader is not None
    depth = 0
    for event in yaml.parse(text, Loader=_CLoader):
        if isinstance(event, yaml.AliasEvent):
            return False
        if isinstance(event, yaml.CollectionStartEvent):
            depth += 1
            if depth > MAX_DEPTH:
                return False
        elif isinstance(event, yaml.CollectionEndEvent):
            depth -= 1
        elif isinstance(event, yaml.ScalarEvent) and depth + 1 > MAX_DEPTH:
            return False
    return True


def _parse_yaml_fast(text: str, file: str) -> SourceDocument | None:
    """The document read with libyaml, or None for anything but a clean, plain file: the
    pure-Python reader then reads it again and words the error exactly."""
    if _CLoader is None or _NON_PRINTABLE.search(text):
        return None
    loader = None
    try:
        if not _shallow_and_alias_free(text):
            return None
        loader = _CLoader(text)
        root = loader.get_single_node()
        if root is None:
            return None
        lines: dict[PathKey, int] = {}
        numbers: dict[PathKey, str] = {}
        problems: list[tuple[Problem, PathKey]] = []
        data = _convert(root, loader, (), lines, set(), 0, problems, numbers)
    except (yaml.YAMLError, _Abort, RecursionError, ValueError):
        return None
    finally:
        if loader is not None:
            loader.dispose()
    if problems:
        return None
    return SourceDocument(file=file, data=data, lines=lines, numbers=numbers)


def _parse_yaml(text: str, file: str) -> SourceDocument:
    fast = _parse_yaml_fast(text, file)
    if fast is not None:
        return fast
    try:
        loader = _ComposeLoader(text)
    except yaml.reader.ReaderError as exc:
        raise InputError(
            file,
            [
                Problem(
                    f"not valid YAML: character #x{exc.character:04x} is not allowed ({exc.reason})",
                    line=text.count("\n", 0, exc.position) + 1,
                    fix="remove the character or save the file again as plain text",
                )
            ],
        ) from None
    try:
        root = loader.get_single_node()
        if root is None:
            raise InputError(file, [Problem("the file is empty", fix="write a device model")])
        lines: dict[PathKey, int] = {}
        numbers: dict[PathKey, str] = {}
        problems: list[tuple[Problem, PathKey]] = []
        data = _convert(root, loader, (), lines, set(), 0, problems, numbers)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else None
        message = f"not valid YAML: {exc.problem or exc.context}"
        if exc.problem and exc.context and exc.context_mark and exc.context_mark.line + 1 != line:
            # e.g. an unclosed [ : say where the construct that was never finished began.
            message += f" ({exc.context} that started at line {exc.context_mark.line + 1})"
        fix = "correct the syntax at that line"
        if "'\\t'" in message:
            fix = "indent with spaces, not tabs"
        elif "block" in message:
            fix = "check the indentation there: the keys of one mapping line up"
        raise InputError(file, [Problem(message, line=line, fix=fix)]) from None
    except yaml.YAMLError as exc:
        raise InputError(
            file, [Problem(f"not valid YAML: {exc}", fix="correct the syntax")]
        ) from None
    except _Abort as abort:
        raise InputError(file, [abort.problem]) from None
    except RecursionError:
        raise InputError(file, [Problem("nesting too deep", fix="flatten the structure")]) from None
    finally:
        loader.dispose()
    document = SourceDocument(file=file, data=data, lines=lines, numbers=numbers)
    if problems:
        raise InputError(
            file,
            [
                Problem(
                    problem.message,
                    field=document.render_path(path),
                    line=problem.line,
                    fix=problem.fix,
                )
                for problem, path in problems
            ],
        )
    return document


class _JSONValueError(ValueError):
    """A value JSON can hold but a device model must not; ``literal`` is its text, to locate it."""

    def __init__(self, problem: Problem, literal: str = "") -> None:
        super().__init__(problem.message)
        self.problem = problem
        self.literal = literal


# A JSON string, a bracket, or any other token (number, NaN, true...) outside strings.
_JSON_TOKEN = re.compile(r'"(?:[^"\\]|\\.)*"|[\[\]{}]|[^\s\[\]{},:"]+')


def _json_line_of(text: str, literal: str = "", depth: int = 0) -> int | None:
    """Line of the token ``literal`` (else of one it begins: ``NaN]`` is read as ``NaN``), or
    of the first bracket deeper than ``depth``."""
    level, start = 0, None
    for match in _JSON_TOKEN.finditer(text):
        token = match.group()
        if token in ("[", "{"):
            level += 1
        elif token in ("]", "}"):
            level -= 1
        if (token == literal) if literal else (level > depth):
            start = match.start()
            break
        if literal and start is None and token.startswith(literal):
            start = match.start()
    return None if start is None else text.count("\n", 0, start) + 1


def _reject_duplicate_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            raise _JSONValueError(
                Problem(f"key '{key}' appears twice in the same object", fix="keep one of them")
            )
        result[key] = value
    return result


def _reject_constant(name: str) -> Any:
    raise _JSONValueError(
        Problem(
            f"{name} is not a number JSON allows", fix="write a number, or leave the value out"
        ),
        name,
    )


def _checked_int(literal: str) -> int:
    try:
        return int(literal)
    except ValueError:
        raise _JSONValueError(
            Problem(
                f"a number of {len(literal)} digits is too long to read",
                fix="write a shorter number, or quote it as text",
            ),
            literal,
        ) from None


def _parse_json(text: str, file: str) -> SourceDocument:
    try:
        data = json.loads(
            text,
            object_pairs_hook=_reject_duplicate_keys,
            parse_constant=_reject_constant,
            parse_int=_checked_int,
        )
    except json.JSONDecodeError as exc:
        before = text[: exc.pos].rstrip()
        if before.endswith(",") and text[exc.pos : exc.pos + 1] in ("]", "}"):
            raise InputError(
                file,
                [
                    Problem(
                        "not valid JSON: a comma after the last item",
                        line=before.count("\n") + 1,
                        fix="remove that comma; JSON allows none after the last item",
                    )
                ],
            ) from None
        if text.startswith(("//", "/*"), exc.pos):
            raise InputError(
                file,
                [
                    Problem(
                        "not valid JSON: JSON has no comments",
                        line=exc.lineno,
                        fix="remove the comment, or write the model in YAML, where # starts one",
                    )
                ],
            ) from None
        raise InputError(
            file,
            [
                Problem(
                    f"not valid JSON: {exc.msg}",
                    line=exc.lineno,
                    fix="correct the syntax at that line",
                )
            ],
        ) from None
    except _JSONValueError as exc:
        problem = exc.problem
        if not exc.literal:  # a duplicate key: the YAML reader knows its line and field
            try:
                _parse_yaml(text, file)
            except InputError as error:
                twice = [p for p in error.problems if "appears twice" in p.message]
                if twice:
                    raise InputError(file, twice) from None
        raise InputError(
            file,
            [
                Problem(
                    f"not valid JSON: {problem.message}",
                    line=_json_line_of(text, exc.literal) if exc.literal else None,
                    fix=problem.fix,
                )
            ],
        ) from None
    except RecursionError:
        raise InputError(
            file,
            [
                Problem(
                    f"nesting deeper than {MAX_DEPTH} levels",
                    line=_json_line_of(text, depth=MAX_DEPTH),
                    fix="flatten the structure",
                )
            ],
        ) from None
    except ValueError as exc:
        raise InputError(
            file, [Problem(f"not valid JSON: {exc}", fix="correct the value")]
        ) from None
    try:  # JSON is (nearly) YAML: borrow the YAML reader for line numbers only.
        shadow = _parse_yaml(text, file)
    except InputError:
        line = _json_line_of(text, depth=MAX_DEPTH)
        if line is not None:  # the same limit as for YAML
            raise InputError(
                file,
                [
                    Problem(
                        f"nesting deeper than {MAX_DEPTH} levels",
                        line=line,
                        fix="flatten the structure",
                    )
                ],
            ) from None
        return SourceDocument(file=file, data=data)
    return SourceDocument(file=file, data=data, lines=shadow.lines, numbers=shadow.numbers)


def read_text(path: Path, limit: int = MAX_FILE_BYTES, what: str = "this input") -> str:
    """The file's text, or an InputError that says why it cannot be read (a folder, pipe or
    device; over ``limit`` bytes, ``what`` naming the kind of input; not UTF-8)."""
    file = str(path)
    data = read_limited(path, limit, what)
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        what = f"not UTF-8 text (byte {exc.start})"
        if data.startswith((b"\xff\xfe", b"\xfe\xff")):
            what = "the file is UTF-16 text, not UTF-8"
        raise InputError(
            file,
            [Problem(what, line=data.count(b"\n", 0, exc.start) + 1, fix="save the file as UTF-8")],
        ) from None


def parse_document(text: str, file: str) -> SourceDocument:
    """Parse YAML or JSON (chosen by content: JSON starts with '{' or '[')."""
    if "\x00" in text:
        raise InputError(
            file,
            [
                Problem(
                    "the file contains NUL bytes; it is not a text model",
                    line=text.count("\n", 0, text.index("\x00")) + 1,
                    fix="save the model again as plain UTF-8 text",
                )
            ],
        )
    stripped = text.lstrip()
    if file.endswith(".json") or stripped.startswith(("{", "[")):
        document = _parse_json(text, file)
    else:
        document = _parse_yaml(text, file)
    document.sha256 = hashlib.sha256(text.encode("utf-8")).hexdigest()
    return document
