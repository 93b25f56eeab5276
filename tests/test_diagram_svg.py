"""The control-structure SVG mdrisk draws itself: complete, STPA-layered, safe, deterministic."""

from __future__ import annotations

import itertools
import os
import subprocess
import sys
import xml.etree.ElementTree as ET
from xml.sax import saxutils

import pytest
from click.testing import CliRunner
from conftest import EXAMPLES, example_models

from mdrisk.cli import main
from mdrisk.model import load_model, xml_text
from mdrisk.model.diagram import to_svg
from mdrisk.model.schema import DeviceModel
from mdrisk.model.svg import FDI_COLOR
from mdrisk.report.diagram_svg import safe_svg
from mdrisk.stpa.fdi import derive_fdi_points
from mdrisk.stpa.graph import ControlStructure

SVG = "{http://www.w3.org/2000/svg}"
BGMS = EXAMPLES / "bgms.yaml"


def drawn(model: DeviceModel) -> tuple[bytes, frozenset[str]]:
    highlight = frozenset(p.element for p in derive_fdi_points(ControlStructure.of(model)))
    return to_svg(model, highlight), highlight


def groups(root: ET.Element, prefix: str) -> dict[str, ET.Element]:
    return {
        g.get("id", "")[len(prefix) :]: g
        for g in root.iter(f"{SVG}g")
        if g.get("id", "").startswith(prefix)
    }


def visible_text(group: ET.Element) -> str:
    return " ".join(t.text or "" for t in group.iter(f"{SVG}text"))


def box_middle(group: ET.Element) -> float:
    rects = list(group.iter(f"{SVG}rect"))
    top = min(float(r.get("y")) for r in rects)
    return (top + max(float(r.get("y")) + float(r.get("height")) for r in rects)) / 2


@pytest.mark.parametrize("path", example_models(), ids=lambda p: p.stem)
def test_every_component_link_and_fdi_point_is_drawn(path):
    model = load_model(path).model
    data, highlight = drawn(model)
    root = ET.fromstring(data)
    assert root.tag == f"{SVG}svg"
    nodes, links, labels = groups(root, "node-"), groups(root, "link-"), groups(root, "label-")
    assert set(nodes) == {c.id for c in model.components}
    assert set(links) == set(labels) == {link.id for link in model.links}
    for component in model.components:
        node = nodes[component.id]
        assert visible_text(node) == f"{' '.join(component.name.split())} [{component.kind.value}]"
        fdi_stroke = any(r.get("stroke") == FDI_COLOR for r in node.iter(f"{SVG}rect"))
        assert fdi_stroke == (component.id in highlight), component.id
    for link in model.links:
        label = visible_text(labels[link.id]).replace(" ", "")
        assert label == ",".join(s.name for s in link.carries)
        path_element = next(links[link.id].iter(f"{SVG}path"))
        assert (path_element.get("stroke") == FDI_COLOR) == (link.id in highlight), link.id
    legend = visible_text(next(g for g in root.iter(f"{SVG}g") if g.get("id") == "legend"))
    for entry in ("control action", "feedback", "data", "update", "FDI point", "ML engine"):
        assert entry in legend


def test_controllers_are_drawn_above_what_they_control():
    model = load_model(BGMS).model
    root = ET.fromstring(drawn(model)[0])
    top = {key: box_middle(group) for key, group in groups(root, "node-").items()}
    assert top["patient_body"] == max(top.values())  # the controlled process at the bottom
    assert top["bolus_advisor"] < top["insulin_pump"] < top["patient_body"]  # control actions
    assert top["cgm_sensor"] < top["patient_body"]  # feedback goes up from the process
    assert top["cloud_platform"] < top["forecaster"]  # the model update comes down


def test_the_same_model_gives_the_same_bytes_in_any_process():
    script = (
        "import sys; from mdrisk.model import load_model; from mdrisk.model.diagram import to_svg;"
        f"sys.stdout.buffer.write(to_svg(load_model({str(BGMS)!r}).model, "
        "frozenset({'cgm_to_app', 'forecaster'})))"
    )
    outputs = [
        subprocess.run(
            [sys.executable, "-c", script],
            capture_output=True,
            check=True,
            env=os.environ | {"PYTHONHASHSEED": seed},
        ).stdout
        for seed in ("1", "2")
    ]
    model = load_model(BGMS).model
    assert outputs[0] == outputs[1] == to_svg(model, frozenset({"cgm_to_app", "forecaster"}))


HOSTILE = (
    "</text><script>alert(1)</script><text onload='x'>&amp;\x00\x1b\u202e\ud800\uffff \U0001f489"
)


def test_hostile_names_stay_text(tmp_path):
    model = load_model(BGMS).model
    components = [
        c.model_copy(update={"name": HOSTILE * 3}) if c.id == "forecaster" else c
        for c in model.components
    ]
    device = model.device.model_copy(update={"name": '"><svg onload="alert(2)">'})
    hostile = model.model_copy(update={"components": components, "device": device})
    data, highlight = drawn(hostile)
    root = ET.fromstring(data)  # well-formed despite NUL, ESC, lone surrogate, U+FFFF
    assert not [e for e in root.iter() if e.tag.split("}")[-1] in ("script", "foreignObject")]
    assert not [a for e in root.iter() for a in e.attrib if a.lower().startswith("on")]
    node = groups(root, "node-")["forecaster"]
    assert "<script>alert(1)</script>" in node.find(f"{SVG}title").text
    assert "<script>" in visible_text(node)  # shown as text, wrapped and cut to four lines
    assert "\U0001f489" in node.find(f"{SVG}title").text
    assert '"><svg onload="alert(2)">' in root.find(f"{SVG}title").text
    # The report's allow-list has nothing to remove: the drawing uses only what it keeps.
    before = sum(1 for _ in root.iter())
    assert sum(1 for _ in ET.fromstring(safe_svg(data, "x")).iter()) == before


def test_the_diagram_command_writes_svg_without_graphviz(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))  # no 'dot' anywhere
    out = tmp_path / "cs.svg"
    result = CliRunner().invoke(main, ["diagram", str(BGMS), "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert ET.fromstring(out.read_bytes()).tag == f"{SVG}svg"
    assert "GlucoGuide phone app" in out.read_text(encoding="utf-8")


def test_crossings_are_counted_as_the_pairs_of_edges_in_opposite_order():
    from mdrisk.model.layered import _crossings

    layers = [["a", "b", "c"], ["x", "y", "z"]]
    below = {"a": ["z"], "b": ["y", "x"], "c": ["x"], "x": [], "y": [], "z": []}
    # a-z crosses b-y, b-x and c-x; b-y crosses c-x; b-x and c-x share an end (no crossing).
    assert _crossings(layers, below) == 4
    assert _crossings([["a", "b"], ["x", "y"]], {"a": ["x"], "b": ["y"], "x": [], "y": []}) == 0


def test_xml_text_escapes_as_saxutils_does():
    """mdrisk's own escaping (no urllib import) gives saxutils' bytes for every mix of the
    characters either function treats specially."""
    special = ['"', "'", "&", "<", ">", "\n", "\r", "\t", "é", "&amp;", " x"]
    for size in range(4):
        for parts in itertools.product(special, repeat=size):
            text = "".join(parts)
            assert xml_text.escape(text) == saxutils.escape(text)
            assert xml_text.quoteattr(text) == saxutils.quoteattr(text)
    every = "".join(chr(code) for code in range(0xD800))
    assert xml_text.quoteattr(every) == saxutils.quoteattr(every)
