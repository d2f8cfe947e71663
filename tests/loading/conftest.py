"""Fixtures for the loading tests: a fresh copy of the example fleet in a temporary folder."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.loading.support import copy_example


@pytest.fixture
def fleet(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """``<tmp>/fleet``: a copy of examples/fleet; the current folder is ``<tmp>`` (CLI paths show as fleet/...)."""
    monkeypatch.chdir(tmp_path)
    return copy_example(tmp_path / "fleet")
