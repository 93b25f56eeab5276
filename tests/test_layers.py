"""The layers of ARCHITECTURE.md hold: the device model, the safe readers and the Assessment
(with every section's records) sit below the stages, so none of them imports a stage, a
writer or the command line, not even inside a function."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import mdrisk

PACKAGE = Path(mdrisk.__file__).parent
# What lies above the lower layers: the stages, the writers and the edges that drive them.
ABOVE = {
    "stpa",
    "scenarios",
    "risk",
    "impact",
    "kb",
    "llm",
    "intake",
    "campaigns",
    "landscape",
    "report",
    "web",
    "cli",
    "pipeline",
    "assessment_file",
}
LOWER = {"model": ABOVE | {"assessment"}, "parsing": ABOVE | {"assessment"}, "assessment": ABOVE}


def _mdrisk_imports(path: Path) -> set[str]:
    """The mdrisk modules ``path`` imports, anywhere in it."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names = [node.module] + [f"{node.module}.{a.name}" for a in node.names]
        elif isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        else:
            continue
        found.update(name for name in names if name.split(".")[0] == "mdrisk")
    return found


def _top(module: str) -> str:
    """The package or module right under mdrisk ("cli_kb" counts as "cli")."""
    parts = module.split(".")
    top = parts[1] if len(parts) > 1 else ""
    return "cli" if top.startswith("cli_") else top


@pytest.mark.parametrize("layer", sorted(LOWER))
def test_a_lower_layer_imports_nothing_above_it(layer):
    folder = PACKAGE / layer
    if not folder.is_dir():
        pytest.skip(f"mdrisk.{layer} does not exist in this tree")
    upward = sorted(
        f"{path.relative_to(PACKAGE)} imports {module}"
        for path in folder.rglob("*.py")
        for module in _mdrisk_imports(path)
        if _top(module) in LOWER[layer]
    )
    assert upward == []
