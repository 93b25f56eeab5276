"""Malformed device models: every one is refused with a located, actionable message and exit 2.

The corpus in tests/corpus/malformed holds one realistic mistake per file, named for it;
tests/corpus/expected.yaml says what the error must contain: a substring of the message, the
rendered field path, the line, and a substring of the suggested fix.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner
from conftest import example_models

from mdrisk.cli import main
from mdrisk.errors import InputError, Problem
from mdrisk.model import load_model

CORPUS = Path(__file__).resolve().parent / "corpus"
MALFORMED = sorted(path for path in (CORPUS / "malformed").iterdir() if path.is_file())
EXPECTED: dict[str, dict] = yaml.safe_load((CORPUS / "expected.yaml").read_text("utf-8"))


def _ids(paths: list[Path]) -> list[str]:
    return [path.name for path in paths]


def _load_error(path: Path) -> InputError:
    with pytest.raises(InputError) as caught:
        load_model(path)
    return caught.value


def _matches(problem: Problem, expected: dict) -> bool:
    return (
        expected["message"] in problem.message
        and problem.field == expected.get("field", problem.field)
        and problem.line == expected.get("line", problem.line)
        and expected.get("fix", "") in problem.fix
    )


def test_the_corpus_is_large_enough_and_fully_described():
    assert len(MALFORMED) >= 25
    assert sorted(EXPECTED) == _ids(MALFORMED), "every corpus file needs an expected.yaml entry"


@pytest.mark.parametrize("path", MALFORMED, ids=_ids(MALFORMED))
def test_load_model_locates_the_problem(path: Path):
    expected = EXPECTED[path.name]
    error = _load_error(path)
    assert error.file == str(path)
    assert error.problems, "an InputError must carry at least one problem"
    rendered = str(error)
    line_count = max(1, path.read_bytes().count(b"\n") + 1)
    for problem, text in zip(error.problems, rendered.splitlines(), strict=True):
        assert text.startswith(f"{path}"), text
        assert problem.message.strip(), text
        assert problem.fix.strip(), f"no fix offered: {text}"
        assert problem.line is None or 1 <= problem.line <= line_count, text
    assert any(_matches(problem, expected) for problem in error.problems), (
        f"expected {expected}\ngot:\n{rendered}"
    )
    # The rendered text is what the analyst reads: file, line, field, message, fix.
    if "line" in expected:
        where = f"{path}:{expected['line']}: " + (
            f"{expected['field']}: " if "field" in expected else ""
        )
        assert where in rendered, rendered
    elif "field" in expected:
        assert f": {expected['field']}: " in rendered, rendered
    assert expected["message"] in rendered
    if "fix" in expected:
        assert "(fix: " in rendered and expected["fix"] in rendered


@pytest.mark.parametrize("path", MALFORMED, ids=_ids(MALFORMED))
def test_validate_exits_2_without_a_traceback(path: Path):
    result = CliRunner().invoke(main, ["validate", str(path)])
    assert result.exit_code == 2, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert "Traceback" not in result.output
    assert str(path) in result.output
    assert EXPECTED[path.name]["message"] in result.output


SUBPROCESS_SAMPLE = [
    "dangling-link-endpoint.yaml",
    "non-utf8-bytes.yaml",
    "nul-bytes.yaml",
    "python-tag.yaml",
    "huge-number.yaml",
    "billion-laughs.yaml",
    "json-nan.json",
    "unquoted-float-version.yaml",
]


def _mdrisk_command() -> list[str]:
    """The installed ``mdrisk`` script of this interpreter, else ``python -m mdrisk.cli``."""
    script = Path(sysconfig.get_path("scripts")) / "mdrisk"
    if script.is_file():
        return [str(script)]
    found = shutil.which("mdrisk")
    return [found] if found else [sys.executable, "-m", "mdrisk.cli"]


@pytest.mark.parametrize("name", SUBPROCESS_SAMPLE)
def test_real_mdrisk_validate_exits_2_without_a_traceback(name: str):
    path = CORPUS / "malformed" / name
    result = subprocess.run(
        [*_mdrisk_command(), "validate", str(path)],
        capture_output=True,
        text=True,
        encoding="utf-8",
        errors="replace",
        timeout=120,
    )
    assert result.returncode == 2, result.stdout + result.stderr
    assert "Traceback" not in result.stdout + result.stderr
    assert str(path) in result.stderr
    assert EXPECTED[name]["message"] in result.stderr


def test_every_problem_is_reported_not_just_the_first(tmp_path: Path):
    text = (CORPUS / "malformed" / "hazard-undefined-loss.yaml").read_text("utf-8")
    text = text.replace(
        "    to: forecaster\n    kind: data\n    carries: [cgm_glucose]",
        "    to: forcaster\n    kind: data\n    carries: [cgm_glucose]",
    )
    path = tmp_path / "two-mistakes.yaml"
    path.write_text(text, "utf-8")
    messages = " | ".join(problem.message for problem in _load_error(path).problems)
    assert "'L-2'" in messages and "'forcaster'" in messages


@pytest.mark.parametrize("name", ["missing.yaml", "folder"])
def test_unreadable_paths_are_input_errors(tmp_path: Path, name: str):
    if name == "folder":
        (tmp_path / name).mkdir()
    error = _load_error(tmp_path / name)
    assert error.problems and error.problems[0].fix


EXAMPLES = example_models()


def test_there_are_built_in_examples():
    assert any(path.name == "bgms.yaml" for path in EXAMPLES)


@pytest.mark.parametrize("path", EXAMPLES, ids=_ids(EXAMPLES))
def test_built_in_examples_load(path: Path):
    loaded = load_model(path)
    assert loaded.model.components and loaded.model.device.name
    assert loaded.source.sha256 and loaded.source.lines
