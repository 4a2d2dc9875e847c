"""Dependencies point downward: ui → assistant → recsys → retrieval; eval may use all but ui."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
ALLOWED = {
    "retrieval": set(),
    "recsys": {"retrieval"},
    "assistant": {"retrieval", "recsys"},
    "eval": {"retrieval", "recsys", "assistant"},
    "ui": {"retrieval", "recsys", "assistant", "eval"},
}


def _imported_packages(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names |= {a.name.split(".")[0] for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module.split(".")[0])
    return names & set(ALLOWED)


@pytest.mark.parametrize("package", sorted(ALLOWED))
def test_package_imports_only_lower_layers(package):
    bad = {}
    for path in (ROOT / package).rglob("*.py"):
        wrong = _imported_packages(path) - ALLOWED[package] - {package}
        if wrong:
            bad[str(path.relative_to(ROOT))] = sorted(wrong)
    assert not bad, f"imports against the layering: {bad}"
