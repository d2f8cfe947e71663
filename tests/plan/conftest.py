"""Fixtures for the diff and plan tests: a committed fleet in a temporary git repository, used as the cwd."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.plan.support import FleetRepo, new_repo


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> FleetRepo:
    """A repository whose HEAD holds the test fleet in ``fleet/``; the current folder is the repository."""
    monkeypatch.chdir(tmp_path)
    return new_repo(tmp_path)
