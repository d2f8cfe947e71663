"""The public library API: ``import fleetc`` exports exactly the names in ``fleetc.__all__``, sorted."""

from __future__ import annotations

import importlib
import types

import pytest

import fleetc
from tests.builders import FleetBuilder


def _public_members() -> list[str]:
    # Subpackages (fleetc.core, fleetc.schema…) become attributes when imported; they are not exports.
    return [
        name
        for name, value in vars(fleetc).items()
        if not name.startswith("_") and not isinstance(value, types.ModuleType)
    ]


def test_all_is_sorted() -> None:
    assert fleetc.__all__ == sorted(fleetc.__all__)


def test_all_imports_are_exported() -> None:
    assert sorted(_public_members()) == fleetc.__all__


@pytest.mark.parametrize("name", fleetc.__all__)
def test_every_export_is_documented_and_importable(name: str) -> None:
    member = getattr(importlib.import_module("fleetc"), name)
    assert (member.__doc__ or "").strip(), f"fleetc.{name} has no docstring"
    assert member.__module__.startswith("fleetc.")


def test_the_documented_entry_point_validates_a_fleet_in_memory() -> None:
    result = fleetc.validate_tree(fleetc.MemoryTree(FleetBuilder.minimal().tree().files))
    assert isinstance(result, fleetc.ValidationResult)
    assert result.ok
    assert isinstance(result.fleet, fleetc.Fleet)
