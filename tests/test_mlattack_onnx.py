"""An ONNX model file is read by onnxruntime and attacked black-box; the ML libraries load
without PyTorch or TensorFlow."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from mdrisk.cli import main

EXAMPLES = Path(__file__).resolve().parents[1] / "src" / "mdrisk" / "examples"


def test_an_onnx_classifier_is_loaded_and_attacked_black_box(tmp_path: Path):
    pytest.importorskip("art")
    pytest.importorskip("onnxruntime")
    skl2onnx = pytest.importorskip("skl2onnx")
    import skops.io

    from mdrisk.mlattack.artifact import load_artifact
    from mdrisk.mlattack.evaluation import load_evaluation
    from mdrisk.mlattack.reference_model import build
    from mdrisk.model import load_model

    estimator = skops.io.loads(build().model, trusted=[])
    onnx_model = skl2onnx.to_onnx(
        estimator, np.zeros((1, 30), dtype=np.float32), options={"zipmap": False}
    )
    models = tmp_path / "models"
    models.mkdir()
    (models / "classifier.onnx").write_bytes(onnx_model.SerializeToString())
    shutil.copy(EXAMPLES / "models" / "breast-cancer-evaluation.csv", models)
    text = (EXAMPLES / "breast-cancer.yaml").read_text("utf-8")
    text = text.replace("file: models/breast-cancer.skops", "file: models/classifier.onnx")
    text = text.replace("        format: skops\n", "        format: onnx\n")
    device = tmp_path / "device.yaml"
    device.write_text(text, "utf-8")

    engine = load_model(device).model.component("classifier")
    assert engine.ml is not None and engine.ml.artifact is not None
    loaded = load_artifact(engine.ml.artifact, tmp_path)
    data = load_evaluation(engine.ml.artifact, tmp_path)
    agreement = (loaded.predict(data.features) == estimator.predict(data.features)).mean()
    assert agreement > 0.99  # float32 inside the ONNX graph

    out = tmp_path / "out"
    args = ["attack", str(device), "--examples", "2", "--budget", "150", "--out", str(out)]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output
    records = json.loads((out / "ml-attacks.json").read_text("utf-8"))
    evasions = [r for r in records if r["attack"].startswith("evasion")]
    assert evasions and all(r["attack"] == "evasion_black_box" for r in evasions)
    assert all(r["method"] == "HopSkipJump" and r["violations"] == 0 for r in evasions)
    # no estimator to retrain: poisoning is not applicable, and says why
    poisoning = [r for r in records if r["attack"] in ("label_flipping", "backdoor")]
    assert poisoning and all(r["status"] == "not_applicable" for r in poisoning)


def test_the_attack_libraries_load_without_torch_or_tensorflow():
    pytest.importorskip("art")
    code = (
        "import sys, warnings; warnings.simplefilter('ignore');"
        "import mdrisk.mlattack.run, mdrisk.mlattack.evasion;"
        "from art.attacks.evasion import HopSkipJump, ProjectedGradientDescent;"
        "from art.attacks.poisoning import PoisoningAttackBackdoor;"
        "from art.attacks.inference.membership_inference import MembershipInferenceBlackBox;"
        "print(sorted(m for m in ('torch', 'tensorflow') if m in sys.modules))"
    )
    found = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert found.strip() == "[]"
