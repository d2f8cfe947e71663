"""Fixtures for CLI tests: run ``fleetc`` in-process (click's CliRunner) from a chosen working folder."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from fleetc.cli.main import cli

REPO = Path(__file__).parents[2]
EXAMPLE_FLEET = REPO / "examples" / "fleet"
RunFleetc = Callable[..., Result]

# Variables that would change the output: colours forced on, terminal width, fleetc option defaults.
_NEUTRAL_ENV: dict[str, str | None] = {
    name: None
    for name in os.environ
    if name.startswith("FLEETC_") or name in {"FORCE_COLOR", "NO_COLOR", "TTY_COMPATIBLE", "TTY_INTERACTIVE", "COLUMNS"}
}


@pytest.fixture
def fleetc(monkeypatch: pytest.MonkeyPatch) -> RunFleetc:
    """``fleetc(*args, cwd=...)`` runs the command line and returns click's Result (stdout and stderr apart)."""

    def run(*args: str, cwd: Path | None = None) -> Result:
        if cwd is not None:
            monkeypatch.chdir(cwd)
        return CliRunner(env=_NEUTRAL_ENV).invoke(cli, list(args), prog_name="fleetc")

    return run
