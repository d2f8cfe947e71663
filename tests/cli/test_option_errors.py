"""Malformed option values are usage errors: exit 2, one line naming the option, no traceback.

Each case fails before any work is done (no fleet is validated, nothing is written).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import Result

from fleetc.engine import local
from tests.builders import FleetBuilder
from tests.cli.conftest import RunFleetc


@pytest.fixture
def fleet(tmp_path: Path) -> Path:
    """A valid fleet in ``tmp_path/fleet``."""
    return FleetBuilder.minimal().write(tmp_path / "fleet")


def _assert_usage_error(result: Result, fragment: str) -> None:
    assert result.exit_code == 2, result.output
    assert isinstance(result.exception, SystemExit), repr(result.exception)  # no traceback
    assert "Traceback" not in result.output
    assert fragment in result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) in (1, 3), result.stderr  # one fleetc line, or click's usage, hint and error lines


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        pytest.param(
            ("--flux-source", "HelmRepository/charts"),
            "Invalid value for --flux-source: Flux source kind 'HelmRepository' is not one of GitRepository",
            id="unknown-source-kind",
        ),
        pytest.param(("--flux-source", "flux-system"), "expected KIND/NAME", id="no-kind"),
        pytest.param(("--flux-source", "GitRepository/a/b"), "expected KIND/NAME", id="name-with-slash"),
        pytest.param(("--cluster", "nope"), "no cluster nope in the fleet", id="unknown-cluster"),
        pytest.param(
            ("--flux-interval", "ten minutes"),
            "Invalid value for --flux-interval: Flux interval 'ten minutes' is not a duration",
            id="interval",
        ),
        pytest.param(
            ("--flux-retry-interval", "2"),
            "Invalid value for --flux-retry-interval: Flux retry interval '2' is not a duration",
            id="retry-interval",
        ),
        pytest.param(
            ("--flux-namespace", "Flux_System"),
            "Invalid value for --flux-namespace: Flux namespace 'Flux_System' is not a namespace name",
            id="namespace",
        ),
    ],
)
def test_build_option_errors(
    fleetc: RunFleetc, fleet: Path, tmp_path: Path, args: tuple[str, ...], fragment: str
) -> None:
    result = fleetc("build", str(fleet), "--out-dir", str(tmp_path / "out"), "--flux-path", "./out", *args)
    _assert_usage_error(result, fragment)
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("out", ["srv/x", ".out"])
def test_build_outside_a_git_repository_needs_the_flux_path(
    fleetc: RunFleetc, fleet: Path, tmp_path: Path, out: str
) -> None:
    result = fleetc("build", str(fleet), "--out-dir", out, cwd=tmp_path)

    _assert_usage_error(result, f"{out} is not inside a git repository")
    assert "--flux-path" in result.stderr
    assert not (tmp_path / out).exists()


@pytest.mark.parametrize("speed", ["-1", "nan", "inf"])
def test_apply_refuses_a_speed_that_is_not_a_finite_number_of_0_or_more(
    fleetc: RunFleetc, fleet: Path, tmp_path: Path, speed: str
) -> None:
    state = tmp_path / "state.json"
    result = fleetc("apply", str(fleet), "--local", "--state", str(state), "--speed", speed)
    _assert_usage_error(result, "Invalid value for '--speed'")
    assert not state.exists()


def test_rollout_resume_refuses_a_negative_speed(fleetc: RunFleetc, tmp_path: Path) -> None:
    state = tmp_path / "state.json"
    state.write_text("{}")
    _assert_usage_error(fleetc("rollout", "resume", "--state", str(state), "--speed", "-2"), "'--speed'")


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        pytest.param(("--fail-pool", "nopool"), "error: --fail-pool 'nopool': expected CLUSTER/POOL", id="pool"),
        pytest.param(("--slow-boot", "eu-1=soon"), "fleetc: error: --slow-boot 'eu-1=soon'", id="slow-boot"),
        pytest.param(("--provider-errors", "abc"), "fleetc: error: --provider-errors 'abc'", id="provider-errors"),
    ],
)
def test_malformed_fault_flags(fleetc: RunFleetc, fleet: Path, args: tuple[str, ...], fragment: str) -> None:
    _assert_usage_error(fleetc("simulate", str(fleet), *args), fragment)


def test_malformed_fault_file(fleetc: RunFleetc, fleet: Path, tmp_path: Path) -> None:
    faults = tmp_path / "faults.yaml"
    faults.write_text("failControlPlane: 3\n")
    _assert_usage_error(fleetc("simulate", str(fleet), "--faults", str(faults)), f"fleetc: error: {faults}")


def test_a_crds_folder_without_crds(fleetc: RunFleetc, tmp_path: Path) -> None:
    (tmp_path / "out").mkdir()
    (tmp_path / "crds").mkdir()
    result = fleetc("validate", "--rendered", str(tmp_path / "out"), "--crds", str(tmp_path / "crds"))
    _assert_usage_error(result, "fleetc: error: no CustomResourceDefinitions found in")


def test_a_folder_outside_any_fleet(fleetc: RunFleetc, tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    result = fleetc("build", "empty", "--out-dir", "out", "--flux-path", "./out", cwd=tmp_path)
    _assert_usage_error(result, "fleetc: error: empty: no fleet.yaml here or in any folder above")


def test_a_state_without_a_rollout(fleetc: RunFleetc, tmp_path: Path) -> None:
    state = tmp_path / "state.json"
    local.open_plane(state=state, controllers=False).save()  # an embedded plane that never ran a rollout
    _assert_usage_error(fleetc("rollout", "status", "--state", str(state)), "fleetc: error: no rollout in this state")


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        pytest.param(
            ("validate", "{fleet}", "-o", "xml"), "Invalid value for '-o' / '--output' / '--format'", id="validate-o"
        ),
        pytest.param(
            ("build", "{fleet}", "--out-dir", "{out}", "-o", "json5"),
            "Invalid value for '-o' / '--output': 'json5' is not one",
            id="build-o",
        ),
        pytest.param(("build", "{fleet}", "-o", "yaml"), "Missing option '--out-dir'.", id="build-no-dir"),
        pytest.param(("simulate", "{fleet}", "-o", "table"), "Invalid value for '-o'", id="simulate-o"),
        pytest.param(("simulate", "{fleet}", "--seed", "abc"), "Invalid value for '--seed'", id="simulate-seed"),
        pytest.param(("apply", "{fleet}", "--local", "--speed", "fast"), "Invalid value for '--speed'", id="speed"),
        pytest.param(("apply", "{fleet}", "--local", "-o", "wide"), "Invalid value for '-o'", id="apply-o"),
        pytest.param(("apply", "{fleet}", "--dry-run", "client"), "Invalid value for '--dry-run'", id="dry-run"),
        pytest.param(("apply", "{fleet}", "--local", "--seed", "1.5"), "Invalid value for '--seed'", id="apply-seed"),
        pytest.param(("rollout", "status", "-o", "wide"), "Invalid value for '-o'", id="rollout-status-o"),
        pytest.param(("rollout", "resume", "-o", "wide"), "Invalid value for '-o'", id="rollout-resume-o"),
        pytest.param(("rollout", "resume", "--speed", "x"), "Invalid value for '--speed'", id="resume-speed"),
        pytest.param(("status", "-o", "wide"), "Invalid value for '-o'", id="status-o"),
        pytest.param(("version", "-o", "xml"), "Invalid value for '-o'", id="version-o"),
        pytest.param(("completion", "tcsh"), "Invalid value for '{bash|zsh|fish}'", id="completion-shell"),
        pytest.param(("schema", "--kind", "Clusters"), "Invalid value for '--kind'", id="schema-kind"),
        pytest.param(("diff", "--format", "xml"), "Invalid value for '-o' / '--output' / '--format'", id="diff-format"),
        pytest.param(("plan", "--format", "xml"), "Invalid value for '-o' / '--output' / '--format'", id="plan-format"),
    ],
)
def test_malformed_option_values_exit_2_before_any_work(
    fleetc: RunFleetc, fleet: Path, tmp_path: Path, args: tuple[str, ...], fragment: str
) -> None:
    filled = [arg.format(fleet=fleet, out=tmp_path / "out") for arg in args]
    result = fleetc(*filled, cwd=tmp_path)
    _assert_usage_error(result, fragment)
    assert result.stdout == ""
    assert not (tmp_path / "out").exists() and not (tmp_path / ".fleetc").exists()
