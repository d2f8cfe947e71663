"""Commands that act on a valid fleet show its warnings on stderr: ``build``, ``simulate`` and ``apply`` go ahead,
and stdout stays their own report (``validate`` is where warnings used to be seen at all)."""

from __future__ import annotations

import json
from pathlib import Path

from tests.builders import FleetBuilder
from tests.cli.conftest import RunFleetc

WARNING = "warning: spec.healthCheck.maxUnhealthy: maxUnhealthy 40% allows no remediation"


def _warned_fleet(root: Path) -> Path:
    """The minimal fleet with a health check that can remediate no worker (3 over 2 zones; 40% of 1 is 0)."""
    fleet = FleetBuilder.minimal().set("ClusterClass", "standard", "spec.healthCheck", {"maxUnhealthy": "40%"})
    fleet.set("ClusterClass", "standard", "spec.workers.general.spreadAcrossFailureDomains", True)
    return fleet.write(root / "fleet")


def test_simulate_shows_the_fleet_s_warnings_on_stderr_and_runs(fleetc: RunFleetc, tmp_path: Path) -> None:
    _warned_fleet(tmp_path)

    result = fleetc("simulate", "fleet", "--format", "json", cwd=tmp_path)

    assert result.exit_code == 0, result.output
    assert "fleet/classes.yaml:" in result.stderr and WARNING in result.stderr
    assert json.loads(result.stdout)["rollouts"]  # stdout is the report alone


def test_build_shows_the_fleet_s_warnings_on_stderr_and_writes_the_tree(fleetc: RunFleetc, tmp_path: Path) -> None:
    _warned_fleet(tmp_path)

    result = fleetc("build", "fleet", "--out-dir", "out", "--flux-path", "./out", cwd=tmp_path)

    assert result.exit_code == 0, result.output
    assert WARNING in result.stderr and WARNING not in result.stdout
    assert (tmp_path / "out" / "kustomization.yaml").is_file()


def test_a_fleet_without_warnings_prints_nothing_on_stderr(fleetc: RunFleetc, tmp_path: Path) -> None:
    FleetBuilder.minimal().write(tmp_path / "fleet")

    result = fleetc("build", "fleet", "--out-dir", "out", "--flux-path", "./out", cwd=tmp_path)

    assert result.exit_code == 0, result.output
    assert result.stderr == ""
