"""The reference classifier of ``examples/breast-cancer.yaml``: a logistic regression on
the 30 Wisconsin diagnostic features, trained deterministically on scikit-learn's copy of
the data set, written as a skops file beside its evaluation CSV.

Regenerate with ``python -m mdrisk.mlattack.reference_model [FOLDER]`` (default: the
package's ``examples/models``).
"""

from __future__ import annotations

import csv
import io
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np

SEED = 14
TEST_SHARE = 0.3
MODEL_FILE = "breast-cancer.skops"
EVALUATION_FILE = "breast-cancer-evaluation.csv"
LABEL = "diagnosis"
SPLIT = "split"
CLASSES = ("malignant", "benign")  # scikit-learn's target order: 0 malignant, 1 benign


def feature_name(sklearn_name: str) -> str:
    """``mean radius`` -> ``radius_mean``, ``radius error`` -> ``radius_se``,
    ``worst radius`` -> ``radius_worst``."""
    words = sklearn_name.split()
    if words[0] in ("mean", "worst"):
        return "_".join(words[1:]) + "_" + words[0]
    if words[-1] == "error":
        return "_".join(words[:-1]) + "_se"
    raise ValueError(sklearn_name)


@dataclass(frozen=True)
class ReferenceFiles:
    model: bytes
    evaluation: str
    test_accuracy: float


def build() -> ReferenceFiles:
    import skops.io
    from sklearn.datasets import load_breast_cancer
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import train_test_split
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import StandardScaler

    data = load_breast_cancer()
    features = [feature_name(str(name)) for name in data.feature_names]
    rows = np.arange(len(data.target))
    train_rows, test_rows = train_test_split(
        rows, test_size=TEST_SHARE, random_state=SEED, stratify=data.target
    )
    model = Pipeline(
        [("scale", StandardScaler()), ("classify", LogisticRegression(C=1.0, max_iter=5000))]
    )
    model.fit(data.data[train_rows], data.target[train_rows])
    accuracy = float(model.score(data.data[test_rows], data.target[test_rows]))
    in_training = set(train_rows.tolist())
    text = io.StringIO()
    writer = csv.writer(text, lineterminator="\n")
    writer.writerow([*features, LABEL, SPLIT])
    for row in rows:
        values = [repr(float(value)) for value in data.data[row]]
        split = "train" if int(row) in in_training else "test"
        writer.writerow([*values, CLASSES[int(data.target[row])], split])
    return ReferenceFiles(skops.io.dumps(model), text.getvalue(), accuracy)


def default_folder() -> Path:
    return Path(__file__).resolve().parent.parent / "examples" / "models"


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    folder = Path(args[0]) if args else default_folder()
    files = build()
    folder.mkdir(parents=True, exist_ok=True)
    (folder / MODEL_FILE).write_bytes(files.model)
    (folder / EVALUATION_FILE).write_text(files.evaluation, encoding="utf-8")
    print(f"wrote {folder / MODEL_FILE} (test accuracy {files.test_accuracy:.4f})")
    print(f"wrote {folder / EVALUATION_FILE}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
