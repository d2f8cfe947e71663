"""Every cross-reference in the docs resolves: ``:mod:``, ``:func:``, ``:class:``, ``:meth:``, ``:attr:``, ``:data:``
and ``:exc:`` roles, and dotted ``fleetc.…`` names written as code, in the docstrings of the fleetc package, in
``docs/*.md`` and in ``README.md``.

A reference that names nothing (a renamed function, a module that moved) fails the test, and the failure lists every
broken reference at once, each at its ``file:line``. Names resolve the way Sphinx resolves them: relative to the
class and module the docstring is in, then absolutely (``fleetc.…``, the standard library, builtins).
"""

from __future__ import annotations

import ast
import builtins
import importlib
import inspect
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

REPO = Path(__file__).parents[2]
PACKAGE = REPO / "fleetc"
ROLE = re.compile(
    r":(?P<role>mod|func|class|meth|attr|data|exc|obj):`(?P<target>[^`]+)`"
    r"|``(?P<literal>fleetc(?!\.io\b)(?:\.\w+)+)``"  # a dotted fleetc name written as code names something too
)
MARKDOWN_CODE = re.compile(r"(?<!`)`(?P<literal>fleetc(?!\.io\b)(?:\.\w+)+)`(?!`)")


@dataclass(frozen=True)
class Reference:
    """One role in one text: where it is, and the module and class it is read from (None in Markdown)."""

    path: str
    line: int
    role: str
    target: str
    module: str | None = None
    scope: str | None = None

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: :{self.role}:`{self.target}`"


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(REPO).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _strings(tree: ast.AST, scope: str | None = None) -> Iterator[tuple[str, int, str | None]]:
    """Every string statement (docstrings, attribute docstrings): its text, first line and the class it sits in."""
    for node in ast.iter_child_nodes(tree):
        if isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant) and isinstance(node.value.value, str):
            yield node.value.value, node.lineno, scope
        elif isinstance(node, ast.ClassDef):
            yield from _strings(node, f"{scope}.{node.name}" if scope else node.name)
        else:
            yield from _strings(node, scope)


def _roles(text: str, first_line: int, pattern: re.Pattern[str] = ROLE) -> Iterator[tuple[int, str, str]]:
    for match in pattern.finditer(text):
        line = first_line + text.count("\n", 0, match.start())
        role = match.groupdict().get("role")
        yield (line, role, match["target"]) if role else (line, "obj", match["literal"])


def docstring_references() -> list[Reference]:
    """The references in every docstring of the package."""
    found = []
    for path in sorted(PACKAGE.rglob("*.py")):
        module = _module_name(path)
        for text, first_line, scope in _strings(ast.parse(path.read_text(), str(path))):
            shown = path.relative_to(REPO).as_posix()
            for line, role, target in _roles(text, first_line):
                found.append(Reference(shown, line, role, target, module, scope))
    return found


def markdown_references() -> list[Reference]:
    """The references in ``docs/*.md`` and ``README.md``: roles, and ``fleetc.…`` names in code spans.

    Names are absolute only: Markdown has no module to read them from.
    """
    found = []
    for path in [REPO / "README.md", *sorted((REPO / "docs").glob("*.md"))]:
        text = path.read_text()
        for line, role, target in [*_roles(text, 1), *_roles(text, 1, MARKDOWN_CODE)]:
            found.append(Reference(path.relative_to(REPO).as_posix(), line, role, target))
    return found


def _import(dotted: str) -> Any:
    """The object a dotted name names (a module, or an attribute of the longest importable module prefix)."""
    parts = dotted.split(".")
    for cut in range(len(parts), 0, -1):
        try:
            found: Any = importlib.import_module(".".join(parts[:cut]))
        except ImportError:
            continue
        for index, part in enumerate(parts[cut:], start=cut):
            found = _member(found, part, ".".join(parts[:index]))
        return found
    if len(parts) == 1 and hasattr(builtins, dotted):
        return getattr(builtins, dotted)
    raise LookupError(dotted)


def _member(owner: Any, name: str, where: str) -> Any:
    """``owner.name``, counting fields that exist only on instances (annotations, pydantic fields, ``self.x =``)."""
    if hasattr(owner, name):
        return getattr(owner, name)
    if inspect.isclass(owner):
        annotated = any(name in vars(cls).get("__annotations__", {}) for cls in owner.__mro__)
        if annotated or name in getattr(owner, "model_fields", {}):
            return object()
        try:
            if re.search(rf"\bself\.{re.escape(name)}\b\s*(:[^=]*)?=", inspect.getsource(owner)):
                return object()
        except (OSError, TypeError):
            pass
    raise LookupError(f"{where}.{name}")


def _candidates(reference: Reference) -> list[str]:
    target = reference.target.lstrip("~!").removesuffix("()")
    if target.startswith(".") and reference.module is not None:  # a suffix: look in the module and its packages
        parts = reference.module.split(".")
        return [f"{'.'.join(parts[:cut])}{target}" for cut in range(len(parts), 0, -1)]
    if reference.role == "mod" or target.startswith("fleetc") or reference.module is None:
        return [target]
    names = [target]
    if reference.scope:
        names.insert(0, f"{reference.module}.{reference.scope}.{target}")
    names.insert(-1, f"{reference.module}.{target}")
    return names


def resolves(reference: Reference) -> bool:
    """True when one of the names the reference may mean exists (a module for ``:mod:``)."""
    for name in _candidates(reference):
        try:
            found = _import(name)
        except LookupError:
            continue
        if reference.role != "mod" or isinstance(found, ModuleType):
            return True
    return False


def test_the_scanner_finds_references_in_docstrings_and_markdown() -> None:
    """Guards the test itself: it would pass vacuously if it found nothing."""
    docstrings, markdown = docstring_references(), markdown_references()
    assert len(docstrings) > 100
    assert {r.role for r in docstrings} >= {"mod", "func", "class", "meth", "data"}
    assert any(r.scope for r in docstrings)  # class docstrings are read with their class as scope
    assert all(r.path.endswith(".md") for r in markdown)
    assert any(r.path == "docs/design.md" for r in markdown)


def test_a_reference_to_nothing_is_reported() -> None:
    broken = Reference("x.py", 1, "func", "no_such_function", "fleetc.core.errors")
    moved = Reference("x.py", 1, "mod", "fleetc.controllers.local")
    kept = Reference("x.py", 1, "meth", "located", "fleetc.core.errors", "CompileError")
    assert (resolves(broken), resolves(moved), resolves(kept)) == (False, False, True)


def test_every_reference_resolves() -> None:
    broken = [str(r) for r in [*docstring_references(), *markdown_references()] if not resolves(r)]
    assert broken == [], f"{len(broken)} references name nothing:\n" + "\n".join(broken)
