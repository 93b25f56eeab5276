"""A model file is untrusted input: a skops file naming a callable, a truncated archive, a
zip bomb, an oversized file, a pickle under a .skops name and a garbage ONNX file are each
refused with exit status 2, a message naming the file, the field and the model line that
points to it, and nothing written."""

from __future__ import annotations

import io
import os
import pickle
import shutil
import zipfile
from pathlib import Path

import pytest
from click.testing import CliRunner

pytest.importorskip("art")
skops_io = pytest.importorskip("skops.io")

from mdrisk.cli import main  # noqa: E402
from mdrisk.mlattack.artifact import MAX_MODEL_BYTES  # noqa: E402

EXAMPLES = Path(__file__).resolve().parents[1] / "src" / "mdrisk" / "examples"
SHIPPED = EXAMPLES / "models" / "breast-cancer.skops"


def _device(tmp_path: Path, model_bytes: bytes | None, name: str, fmt: str = "skops") -> Path:
    """The breast-cancer device in ``tmp_path`` with its model file replaced."""
    models = tmp_path / "models"
    models.mkdir()
    shutil.copy(EXAMPLES / "models" / "breast-cancer-evaluation.csv", models)
    text = (EXAMPLES / "breast-cancer.yaml").read_text("utf-8")
    text = text.replace("file: models/breast-cancer.skops", f"file: models/{name}")
    text = text.replace("        format: skops\n", f"        format: {fmt}\n")
    if model_bytes is not None:
        (models / name).write_bytes(model_bytes)
    path = tmp_path / "device.yaml"
    path.write_text(text, "utf-8")
    return path


def _zip_bomb() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("schema.json", b"0" * (20 * 1024 * 1024))
    return buffer.getvalue()


def _pickle() -> bytes:
    from mdrisk.mlattack.reference_model import build

    return pickle.dumps(skops_io.loads(build().model, trusted=[]))


HOSTILE = {
    "os-system": (lambda: skops_io.dumps({"call": os.system}), "skops", "posix.system"),
    "builtins-eval": (lambda: skops_io.dumps({"call": eval}), "skops", "builtins.eval"),
    "truncated": (
        lambda: SHIPPED.read_bytes()[: SHIPPED.stat().st_size // 2],
        "skops",
        "truncated",
    ),
    "zip-bomb": (_zip_bomb, "skops", "unpacks to"),
    "pickle-renamed": (_pickle, "skops", "pickle"),
    "garbage-onnx": (lambda: os.urandom(2048), "onnx", "not a loadable ONNX model"),
}


@pytest.mark.parametrize("case", sorted(HOSTILE))
def test_a_hostile_model_file_is_refused_and_nothing_written(tmp_path: Path, case: str):
    make, fmt, said = HOSTILE[case]
    name = f"model.{fmt}"
    device = _device(tmp_path, make(), name, fmt)
    out = tmp_path / "out"
    result = CliRunner().invoke(main, ["attack", str(device), "--out", str(out)])
    assert result.exit_code == 2, result.output
    assert said in result.output
    assert f"models/{name}" in result.output
    assert "ml.artifact.file" in result.output
    assert f"named by {device}:" in result.output
    assert "components[classifier].ml.artifact.file" in result.output
    assert "Traceback" not in result.output
    assert not out.exists()


def test_an_oversized_model_file_is_refused_before_it_is_read(tmp_path: Path):
    device = _device(tmp_path, None, "huge.skops")
    with open(tmp_path / "models" / "huge.skops", "wb") as sparse:
        sparse.truncate(MAX_MODEL_BYTES + 1)
    out = tmp_path / "out"
    result = CliRunner().invoke(main, ["analyze", str(device), "--ml-attacks", "--out", str(out)])
    assert result.exit_code == 2, result.output
    assert f"over the {MAX_MODEL_BYTES} mdrisk reads" in result.output
    assert not out.exists()


def test_a_missing_model_file_is_named(tmp_path: Path):
    device = _device(tmp_path, None, "absent.skops")
    result = CliRunner().invoke(main, ["attack", str(device)])
    assert result.exit_code == 2
    assert "absent.skops" in result.output and "does not exist" in result.output
