"""Loading a device's model file, which is untrusted input: no code from the file runs.

skops files are zip archives of a JSON schema and arrays; every type they name that skops
does not trust by default must be on :data:`ALLOWED_SKOPS_TYPES`, else the file is refused
(an ``os.system`` or ``builtins.eval`` in a file would otherwise be called while loading).
ONNX files are read by onnxruntime, which interprets a graph of operators and runs no Python;
a file that refers to external data (a path read when loading) is refused. Pickle and joblib
are never used. Every refusal is an :class:`InputError` naming the file and the model field.
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from mdrisk.errors import InputError, Problem
from mdrisk.model.schema import ModelArtifact, ModelFormat

MAX_MODEL_BYTES = 64 * 1024 * 1024
# What a skops archive may unpack to, in all, and how much larger than the file.
MAX_UNPACKED_BYTES = 256 * 1024 * 1024
MAX_UNPACK_RATIO = 100
# Types outside skops's own trusted set that a scikit-learn model of the kinds mdrisk attacks
# needs: tree structures and the losses and links of gradient boosting. Nothing here can
# call out of the model.
ALLOWED_SKOPS_TYPES = frozenset(
    {
        "sklearn.tree._tree.Tree",
        "sklearn._loss.link.Interval",
        "sklearn._loss.link.IdentityLink",
        "sklearn._loss.link.LogitLink",
        "sklearn._loss.link.MultinomialLogit",
        "sklearn._loss.loss.HalfBinomialLoss",
        "sklearn._loss.loss.HalfMultinomialLoss",
        "sklearn._loss.loss.HalfSquaredError",
        "sklearn.ensemble._hist_gradient_boosting.binning._BinMapper",
        "sklearn.ensemble._hist_gradient_boosting.predictor.TreePredictor",
    }
)


@dataclass(frozen=True)
class LoadedArtifact:
    """A model read from its file: class probabilities (or values) for rows of features."""

    file: str
    format: ModelFormat
    n_features: int
    predict_proba: Callable[[np.ndarray], np.ndarray]
    # The scikit-learn estimator (skops files), for retraining and white-box gradients.
    estimator: Any = None

    def predict(self, rows: np.ndarray) -> np.ndarray:
        return np.asarray(np.argmax(self.predict_proba(rows), axis=1))


def _refuse(file: str, field: str, message: str, fix: str) -> InputError:
    return InputError(file, [Problem(message, field=field, fix=fix)])


def read_limited(path: Path, field: str, limit: int) -> bytes:
    """The bytes of ``path``, refused when missing or larger than ``limit``."""
    try:
        size = path.stat().st_size
    except OSError:
        raise _refuse(
            str(path), field, "the file does not exist", "give a path relative to the model file"
        ) from None
    if size > limit:
        raise _refuse(
            str(path),
            field,
            f"{size} bytes, over the {limit} mdrisk reads",
            "give the device's model file itself",
        )
    return path.read_bytes()


def load_artifact(
    spec: ModelArtifact, base: Path, field: str = "ml.artifact.file"
) -> LoadedArtifact:
    """The model file ``spec`` names (relative to ``base``), checked and loaded."""
    path = base / spec.file
    data = read_limited(path, field, MAX_MODEL_BYTES)
    if spec.format == ModelFormat.skops:
        loaded = _skops(data, str(path), field)
    else:
        loaded = _onnx(data, str(path), field)
    if loaded.n_features != len(spec.features):
        raise _refuse(
            str(path),
            field,
            f"the model takes {loaded.n_features} features, the device model lists "
            f"{len(spec.features)}",
            "list every column of the model's input under artifact.features, in its order",
        )
    return loaded


def _skops(data: bytes, file: str, field: str) -> LoadedArtifact:
    import skops.io

    _check_archive(data, file, field)
    try:
        untrusted = skops.io.get_untrusted_types(data=data)
    except Exception as error:  # any failure to read the schema is a bad file
        raise _refuse(
            file,
            field,
            f"not a readable skops file ({type(error).__name__})",
            "save the model with skops.io.dump",
        ) from None
    refused = sorted(set(untrusted) - ALLOWED_SKOPS_TYPES)
    if refused:
        raise _refuse(
            file,
            field,
            f"the file names types mdrisk does not load: {', '.join(refused[:10])}",
            "a device model file holds a scikit-learn estimator only; check where this file came from",
        )
    try:
        estimator = skops.io.loads(data, trusted=list(untrusted))
    except Exception as error:
        raise _refuse(
            file,
            field,
            f"the skops file could not be loaded ({type(error).__name__}: {error})"[:300],
            "save the model again with skops.io.dump",
        ) from None
    if not callable(getattr(estimator, "predict_proba", None)) or not hasattr(
        estimator, "n_features_in_"
    ):
        raise _refuse(
            file,
            field,
            f"holds a {type(estimator).__name__}, not a fitted classifier with predict_proba",
            "save the fitted classifier (or pipeline) itself",
        )

    def predict_proba(rows: np.ndarray) -> np.ndarray:
        return np.asarray(estimator.predict_proba(rows), dtype=float)

    return LoadedArtifact(
        file, ModelFormat.skops, int(estimator.n_features_in_), predict_proba, estimator
    )


def _check_archive(data: bytes, file: str, field: str) -> None:
    """A zip that unpacks within the limits: refuses a pickle under a .skops name, a
    truncated archive and a zip bomb before skops reads anything."""
    if not data.startswith(b"PK\x03\x04"):
        hint = " (it looks like a pickle)" if data[:1] == b"\x80" else ""
        raise _refuse(
            file,
            field,
            f"not a skops file: a skops file is a zip archive{hint}",
            "save the model with skops.io.dump; mdrisk never loads pickle or joblib files",
        )
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            members = archive.infolist()
            broken = archive.testzip() if len(data) < 8 * 1024 * 1024 else None
    except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, ValueError, OSError) as error:
        raise _refuse(
            file,
            field,
            f"the zip archive is damaged or truncated ({error})"[:300],
            "copy the file again",
        ) from None
    if broken is not None:
        raise _refuse(file, field, f"archive member {broken!r} is damaged", "copy the file again")
    unpacked = sum(member.file_size for member in members)
    if unpacked > min(MAX_UNPACKED_BYTES, MAX_UNPACK_RATIO * max(len(data), 1)):
        raise _refuse(
            file,
            field,
            f"unpacks to {unpacked} bytes from {len(data)}: more than mdrisk unpacks",
            "give the device's model file itself",
        )


def _onnx(data: bytes, file: str, field: str) -> LoadedArtifact:
    import onnxruntime

    if b"\x0a\x08location" in data:
        raise _refuse(
            file,
            field,
            "the ONNX file refers to external data files, which mdrisk does not read",
            "save the model with its weights inside the file",
        )
    options = onnxruntime.SessionOptions()
    options.log_severity_level = 4
    try:
        session = onnxruntime.InferenceSession(
            data, sess_options=options, providers=["CPUExecutionProvider"]
        )
    except Exception as error:
        raise _refuse(
            file,
            field,
            f"not a loadable ONNX model ({type(error).__name__})",
            "export the model again to ONNX",
        ) from None
    inputs = session.get_inputs()
    shape = inputs[0].shape if len(inputs) == 1 else []
    if len(inputs) != 1 or len(shape) != 2 or not isinstance(shape[1], int):
        raise _refuse(
            file,
            field,
            "the ONNX model must take one input of shape [rows, features]",
            "export it with a single 2-D float input",
        )
    name = inputs[0].name

    def predict_proba(rows: np.ndarray) -> np.ndarray:
        outputs = session.run(None, {name: np.asarray(rows, dtype=np.float32)})
        return _probabilities(outputs)

    try:
        predict_proba(np.zeros((1, int(shape[1]))))
    except Exception as error:
        raise _refuse(
            file,
            field,
            f"the ONNX model gives no class probabilities ({type(error).__name__})",
            "export a classifier whose output includes class probabilities",
        ) from None
    return LoadedArtifact(file, ModelFormat.onnx, int(shape[1]), predict_proba)


def _probabilities(outputs: list[Any]) -> np.ndarray:
    """The class probabilities among an ONNX classifier's outputs: a [rows, classes] float
    tensor, or skl2onnx's list of {class: probability} maps."""
    for output in outputs:
        if isinstance(output, list) and output and isinstance(output[0], dict):
            keys = sorted(output[0])
            return np.array([[row[key] for key in keys] for row in output], dtype=float)
    for output in reversed(outputs):
        array = np.asarray(output)
        if array.ndim == 2 and array.dtype.kind == "f":
            return array.astype(float)
    raise ValueError("the ONNX model gives no class probabilities")
