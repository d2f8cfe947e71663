"""Exit 4: fleetc could not write its target — the build output folder or the embedded plane's state file.

The operating system refuses the write (here: a path under a regular file, which refuses even root); fleetc says
which path and why on one line, leaves what was there untouched, and exits 4.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import Result

from fleetc.core.errors import TargetWriteError
from tests.builders import FleetBuilder
from tests.cli.conftest import RunFleetc


@pytest.fixture
def fleet(tmp_path: Path) -> Path:
    """A valid fleet in ``tmp_path/fleet``."""
    return FleetBuilder.minimal().write(tmp_path / "fleet")


@pytest.fixture
def blocker(tmp_path: Path) -> Path:
    """A regular file: nothing can be created below it."""
    path = tmp_path / "blocker"
    path.write_text("not a folder\n")
    return path


def _assert_target_error(result: Result, path: Path, what: str) -> None:
    assert result.exit_code == 4, result.output
    assert isinstance(result.exception, SystemExit), repr(result.exception)
    assert result.stderr.startswith(f"fleetc: error: {path}: cannot write the {what} ("), result.stderr
    assert len(result.stderr.splitlines()) == 1, result.stderr


def test_build_into_an_unwritable_folder_exits_4(fleetc: RunFleetc, fleet: Path, blocker: Path) -> None:
    out = blocker / "out"
    _assert_target_error(
        fleetc("build", str(fleet), "--out-dir", str(out), "--flux-path", "./out"), out, "output folder"
    )
    assert blocker.read_text() == "not a folder\n"
    assert sorted(p.name for p in blocker.parent.iterdir()) == ["blocker", "fleet"]  # no staging folder left


def test_apply_with_an_unwritable_state_file_exits_4(fleetc: RunFleetc, fleet: Path, blocker: Path) -> None:
    state = blocker / "state.json"
    _assert_target_error(fleetc("apply", str(fleet), "--local", "--state", str(state)), state, "state file")


def test_debug_shows_the_target_error(fleetc: RunFleetc, fleet: Path, blocker: Path) -> None:
    result = fleetc("--debug", "build", str(fleet), "--out-dir", str(blocker / "out"), "--flux-path", "./out")
    assert isinstance(result.exception, TargetWriteError)
    assert isinstance(result.exception.__cause__, OSError)
