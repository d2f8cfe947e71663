"""The error tree drawn in :mod:`fleetc.core.errors` is the whole tree, with the exit code each class really has.

Every module of the package is imported, so an error class defined anywhere else shows up as undrawn.
"""

from __future__ import annotations

import importlib
import pkgutil
import re

import fleetc
from fleetc.core import errors
from fleetc.core.errors import ExitCode, FleetcError, TargetUnreachableError

_LINE = re.compile(r"^(?P<indent>(?:[│ ]   )*)(?:[├└]── )?(?P<name>\w+)\s+(?P<code>\d)\s+\S")


def _drawn() -> dict[str, tuple[str | None, int]]:
    """Class name → (drawn parent, drawn exit code), from the module docstring's tree."""
    assert errors.__doc__ is not None
    block = errors.__doc__.split("::\n", 1)[1].strip("\n").splitlines()
    drawn: dict[str, tuple[str | None, int]] = {}
    stack: list[str] = []
    for line in block:
        if not line.strip():
            break
        match = _LINE.match(line.removeprefix("    "))
        assert match, f"cannot read this line of the tree: {line!r}"
        depth = len(match["indent"]) // 4 + (0 if line.strip().startswith("FleetcError") else 1)
        del stack[depth:]
        drawn[match["name"]] = (stack[-1] if stack else None, int(match["code"]))
        stack.append(match["name"])
    return drawn


def _every_error_class() -> dict[str, type[FleetcError]]:
    for module in pkgutil.walk_packages(fleetc.__path__, "fleetc."):
        if not module.name.endswith(".__main__"):  # running it is the command line
            importlib.import_module(module.name)
    found: dict[str, type[FleetcError]] = {}
    todo: list[type[FleetcError]] = [FleetcError]
    while todo:
        cls = todo.pop()
        if cls.__module__.startswith("fleetc."):
            found[cls.__name__] = cls
        todo.extend(cls.__subclasses__())
    return found


def test_the_drawing_is_the_whole_tree_with_parents_and_exit_codes() -> None:
    drawn, real = _drawn(), _every_error_class()
    assert sorted(drawn) == sorted(real)
    for name, cls in real.items():
        parent = cls.__bases__[0].__name__ if cls is not FleetcError else None
        assert drawn[name] == (parent, cls.exit_code), name


def test_every_error_class_lives_in_core_errors() -> None:
    modules = {name: cls.__module__ for name, cls in _every_error_class().items()}
    assert {name: module for name, module in modules.items() if module != errors.__name__} == {}


def test_exit_codes_follow_the_cli_contract() -> None:
    assert [int(code) for code in ExitCode] == [0, 1, 2, 3, 4, 5]
    assert {cls.exit_code for cls in _every_error_class().values()} == {
        ExitCode.FINDINGS,
        ExitCode.USAGE,
        ExitCode.TARGET,
    }


def test_an_unreachable_server_is_named() -> None:
    error = TargetUnreachableError("https://10.0.0.1:6443", "connection refused")
    assert str(error) == "cannot reach the Kubernetes API server at https://10.0.0.1:6443: connection refused"
    assert error.exit_code is ExitCode.TARGET
