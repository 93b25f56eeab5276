"""Fields added after files were written stay out of the file while they hold nothing, so
older models and assessments serialize exactly as they did."""

from __future__ import annotations

from conftest import EXAMPLES

from mdrisk.model import load_model


def test_absent_sbom_and_model_file_leave_no_key_and_present_ones_stay():
    bgms = load_model(EXAMPLES / "bgms.yaml").model.model_dump(mode="json")
    assert all("sbom" not in c for c in bgms["components"])
    assert all("artifact" not in (c.get("ml") or {}) for c in bgms["components"])
    breast = load_model(EXAMPLES / "breast-cancer.yaml").model.model_dump(mode="json")
    engines = [c["ml"] for c in breast["components"] if c.get("ml")]
    assert any("artifact" in ml for ml in engines)  # it names its model file
