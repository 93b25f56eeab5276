"""Hostile device models and runs (issue 13): non-finite numbers, control characters in names,
structures too large to lay out, and non-finite simulations, each refused or bounded."""

from __future__ import annotations

import json
import math
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from mdrisk.cli import main
from mdrisk.errors import InputError
from mdrisk.model import load_model_text
from mdrisk.model.diagram import MAX_DRAWN_LINKS, quote, to_dot, too_large_to_draw
from mdrisk.pipeline import assess
from mdrisk.report.package import DIAGRAM_DOT, DIAGRAM_SVG, render_package

EXAMPLES = Path(__file__).resolve().parents[1] / "src" / "mdrisk" / "examples"
BGMS_TEXT = (EXAMPLES / "bgms.yaml").read_text("utf-8")


def _load(text: str):
    return load_model_text(text, "model.yaml")


@pytest.mark.parametrize(
    ("written", "refused"),
    [("[.nan, .inf]", 2), ("[-1e308, 1e309]", 1), ("[.nan, 400]", 1), ("[-.inf, 0]", 1)],
)
def test_non_finite_ranges_are_refused_with_their_line(written, refused):
    text = BGMS_TEXT.replace("range: [40, 400]", f"range: {written}", 1)
    line = text[: text.index(written)].count("\n") + 1
    with pytest.raises(InputError) as raised:
        _load(text)
    problems = raised.value.problems
    assert len(problems) == refused
    assert all(p.line == line and "finite" in p.message for p in problems)


def test_a_non_finite_range_exits_2_from_validate(tmp_path):
    path = tmp_path / "nan.yaml"
    path.write_text(BGMS_TEXT.replace("range: [40, 400]", "range: [.nan, .inf]", 1), "utf-8")
    result = CliRunner().invoke(main, ["validate", str(path)])
    assert result.exit_code == 2
    assert f"{path}:" in result.output and "finite" in result.output


@pytest.mark.parametrize("control", ["\\u0000", "\\u001b", "\\u0007", "\\n"])
def test_a_control_character_in_a_name_is_refused_with_its_line(control):
    text = BGMS_TEXT.replace("name: CGM sensor and transmitter", f'name: "CGM {control} sensor"', 1)
    line = text[: text.index("CGM " + control)].count("\n") + 1
    with pytest.raises(InputError) as raised:
        _load(text)
    (problem,) = raised.value.problems
    assert problem.line == line and "control character" in problem.message


@pytest.mark.parametrize("char", ["\x00", "\x1b", "\x7f", "\u200b", "\u202e", "\r"])
def test_the_dot_writer_never_writes_a_control_or_format_character(char):
    quoted = quote(f"a{char}b")
    assert quoted.startswith('"') and quoted.endswith('"')
    assert all(c == "\n" or (c.isprintable() and c not in "\r") for c in quoted), quoted


def test_the_dot_writer_escapes_a_model_whose_names_bypass_the_loader():
    """Models built in code skip the loader: the writer still escapes every identifier."""
    model = _load(BGMS_TEXT).model
    component = model.components[0].model_copy(update={"name": 'x\x00"y\\'})
    dot = to_dot(model.model_copy(update={"components": [component, *model.components[1:]]}))
    assert "\x00" not in dot and '"x<U+0000>\\"y\\\\' in dot


def test_a_structure_too_large_to_lay_out_gets_dot_and_a_note_in_bounded_time():
    loaded = _load(BGMS_TEXT)
    assessment = assess(loaded, created="2024-01-01T00:00:00Z")
    links = list(assessment.device.links)
    many = (links * (MAX_DRAWN_LINKS // len(links) + 2))[: MAX_DRAWN_LINKS + 1]
    device = assessment.device.model_copy(update={"links": many})
    big = assessment.model_copy(update={"device": device})
    assert too_large_to_draw(device) is not None
    start = time.perf_counter()
    package = render_package(big, ["markdown", "html"])
    assert time.perf_counter() - start < 60
    assert DIAGRAM_DOT in package.files and DIAGRAM_SVG not in package.files
    assert any("lays out" in note for note in package.notes)
    assert b"lay it out with Graphviz" in package.files["report.html"]


def test_a_drawable_structure_still_gets_its_svg():
    assessment = assess(_load(BGMS_TEXT), created="2024-01-01T00:00:00Z")
    assert too_large_to_draw(assessment.device) is None
    assert DIAGRAM_SVG in render_package(assessment, []).files


def test_a_simulation_attack_of_absurd_magnitude_is_refused():
    result = CliRunner().invoke(
        main, ["simulate", "glucose", "--attack", "bias:+1e308@cgm,08:00-14:00"]
    )
    assert result.exit_code == 2, result.output
    assert "1e308" in result.output and "patients harmed" not in result.output


def test_non_finite_simulation_results_are_an_error_not_no_harm():
    from mdrisk.cli.simulate import _refuse_non_finite

    record = {"patients": [{"name": "adult#001", "min_bg": [86.0, math.nan]}]}
    with pytest.raises(InputError) as raised:
        _refuse_non_finite(record)
    assert "non-finite" in str(raised.value) and "min_bg" in str(raised.value)
    _refuse_non_finite({"patients": [{"min_bg": [86.0, 70.0]}]})


def test_assessment_json_never_holds_bare_nan(tmp_path):
    out = tmp_path / "out"
    path = tmp_path / "m.yaml"
    path.write_text(BGMS_TEXT, "utf-8")
    result = CliRunner().invoke(main, ["analyze", str(path), "--no-svg", "--out", str(out)])
    assert result.exit_code == 0, result.output
    text = (out / "assessment.json").read_text("utf-8")
    json.loads(text, parse_constant=lambda name: pytest.fail(f"bare {name} in assessment.json"))
