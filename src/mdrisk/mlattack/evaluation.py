"""The labelled evaluation data an ML engine's artifact names (CSV or NPZ), read as numbers
in the model's feature order, with class indices and which rows were used in training."""

from __future__ import annotations

import csv
import io
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from mdrisk.errors import InputError, Problem
from mdrisk.mlattack.artifact import read_limited
from mdrisk.model.schema import ModelArtifact

MAX_EVALUATION_BYTES = 128 * 1024 * 1024
FIELD = "ml.artifact.evaluation.file"


@dataclass(frozen=True)
class EvaluationSet:
    features: np.ndarray  # rows x features, in the model's order
    labels: np.ndarray  # class index per row
    trained_on: np.ndarray  # True where the model was trained on the row

    @property
    def held_out(self) -> np.ndarray:
        return ~self.trained_on


def _bad(file: str, message: str, fix: str, field: str = FIELD) -> InputError:
    return InputError(file, [Problem(message, field=field, fix=fix)])


def load_evaluation(spec: ModelArtifact, base: Path) -> EvaluationSet:
    if spec.evaluation is None:
        raise ValueError("the artifact names no evaluation data")
    path = base / spec.evaluation.file
    data = read_limited(path, FIELD, MAX_EVALUATION_BYTES)
    if path.suffix.lower() == ".npz":
        features, labels, splits = _npz(data, spec, str(path))
    else:
        features, labels, splits = _csv(data, spec, str(path))
    classes = spec.classes
    label_index = _class_indices(labels, classes, str(path), spec.evaluation.label)
    trained = np.array([s == "train" for s in splits], dtype=bool)
    if not np.isfinite(features).all():
        raise _bad(str(path), "holds a value that is not a finite number", "give numbers only")
    return EvaluationSet(features.astype(float), label_index, trained)


def _class_indices(labels: list[str], classes: list[str], file: str, column: str) -> np.ndarray:
    indices = []
    for row, value in enumerate(labels, start=1):
        if value in classes:
            indices.append(classes.index(value))
        elif value.isdigit() and (not classes or int(value) < len(classes)):
            indices.append(int(value))
        else:
            raise _bad(
                file,
                f"row {row}: label '{value[:40]}' is not a class",
                f"use one of: {', '.join(classes) or 'class indices 0, 1, ...'}",
                field=column,
            )
    return np.array(indices, dtype=int)


def _csv(data: bytes, spec: ModelArtifact, file: str) -> tuple[np.ndarray, list[str], list[str]]:
    assert spec.evaluation is not None
    try:
        reader = csv.reader(io.StringIO(data.decode("utf-8")))
        header = next(reader)
    except (UnicodeDecodeError, StopIteration, csv.Error):
        raise _bad(
            file, "not a CSV file with a header row", "write one column per feature"
        ) from None
    names = [feature.name for feature in spec.features]
    wanted = [*names, spec.evaluation.label]
    missing = [name for name in wanted if name not in header]
    if spec.evaluation.split and spec.evaluation.split not in header:
        missing.append(spec.evaluation.split)
    if missing:
        raise _bad(
            file,
            f"the header lacks the columns {', '.join(missing[:10])}",
            "name a column after each feature, the label and the split",
        )
    columns = [header.index(name) for name in names]
    label_column = header.index(spec.evaluation.label)
    split_column = header.index(spec.evaluation.split) if spec.evaluation.split else None
    rows: list[list[float]] = []
    labels: list[str] = []
    splits: list[str] = []
    try:
        for number, row in enumerate(reader, start=2):
            if len(row) != len(header):
                raise _bad(
                    file,
                    f"line {number}: {len(row)} cells, the header has {len(header)}",
                    "give every row every column",
                )
            values = [float(row[c]) for c in columns]
            if not all(math.isfinite(v) for v in values):
                raise _bad(file, f"line {number}: a value is not finite", "give numbers only")
            rows.append(values)
            labels.append(row[label_column].strip())
            splits.append(row[split_column].strip() if split_column is not None else "test")
    except ValueError as error:
        raise _bad(
            file, f"a feature value is not a number ({error})"[:200], "give numbers only"
        ) from None
    except csv.Error as error:
        raise _bad(file, f"not a valid CSV ({error})", "write one column per feature") from None
    if not rows:
        raise _bad(file, "holds no rows", "give labelled rows")
    return np.array(rows, dtype=float), labels, splits


def _npz(data: bytes, spec: ModelArtifact, file: str) -> tuple[np.ndarray, list[str], list[str]]:
    assert spec.evaluation is not None
    try:
        with np.load(io.BytesIO(data), allow_pickle=False) as arrays:
            features = np.asarray(arrays["X"], dtype=float)
            labels = [str(v) for v in arrays[spec.evaluation.label].tolist()]
            splits = (
                [str(v) for v in arrays[spec.evaluation.split].tolist()]
                if spec.evaluation.split
                else ["test"] * len(labels)
            )
    except KeyError as error:
        raise _bad(
            file, f"holds no array {error}", "store X, the label and the split arrays"
        ) from None
    except (ValueError, OSError) as error:
        raise _bad(
            file,
            f"not a readable NPZ file without pickles ({error})"[:200],
            "save it with numpy.savez",
        ) from None
    if (
        features.ndim != 2
        or features.shape[1] != len(spec.features)
        or len(labels) != len(features)
    ):
        raise _bad(
            file,
            f"X has shape {features.shape}, the model takes {len(spec.features)} features and "
            f"there are {len(labels)} labels",
            "store X as rows x features in the model's order, one label per row",
        )
    return features, labels, splits
