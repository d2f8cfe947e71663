"""Layering rules of the plan package that import-linter does not express: deepdiff stays in plan/diff.py.

``docs/design.md`` §10: ``fleetc.plan.diff`` is the only deepdiff user, and the
plan layer is pure but for :mod:`fleetc.plan.sides` (the one module that reads trees).
"""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).parents[2] / "fleetc"


def _imports(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


def test_only_plan_diff_imports_deepdiff() -> None:
    users = {
        p.relative_to(PACKAGE).as_posix()
        for p in PACKAGE.rglob("*.py")
        if any(name.split(".")[0] == "deepdiff" for name in _imports(p))
    }

    assert users == {"plan/diff.py"}


def test_only_plan_sides_reads_trees_in_the_plan_layer() -> None:
    readers = {
        p.name for p in (PACKAGE / "plan").rglob("*.py") if {"fleetc.load.loader", "fleetc.load.sources"} & _imports(p)
    }

    assert readers == {"sides.py"}
