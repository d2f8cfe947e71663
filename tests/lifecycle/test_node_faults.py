"""What the rollout gates do with faults after a Node joined and with slow deletions: ride through CAPI's
remediation, or halt naming why. End to end on the example fleet: created at v1.34.2, upgraded to v1.35.0.

The fleet matters: ``store-*`` (class ``edge``) have 2 ``apps`` workers and remediation always allowed; ``eu-prod-1``
(class ``standard``) spreads ``general`` over failure domains, one MachineDeployment of two workers per zone, with
``maxUnhealthy: 100%`` for that pool. With the class's ``40%`` instead (what the example had until ``fleetc validate``
warned about it), such a MachineDeployment may not remediate one.
"""

from __future__ import annotations

import dataclasses
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path

from click.testing import CliRunner

from fleetc import rollout
from fleetc.cli.main import cli
from fleetc.engine import local
from fleetc.load.sources import DiskTree
from fleetc.render.compile import compile_fleet
from fleetc.rollout import RolloutPlan, RolloutView
from fleetc.runtime.store import Event
from fleetc.schema.validate import validate_tree
from fleetc.sim import Faults
from fleetc.sim.fault_flags import blocked_drain_flag, node_failure_flag

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "fleet"


def _plans(root: Path) -> tuple[RolloutPlan, RolloutPlan]:
    plans = []
    for version in ("v1.34.2", "v1.35.0"):
        tree = root / version
        shutil.copytree(EXAMPLE, tree)
        fleet = tree / "fleet.yaml"
        fleet.write_text(fleet.read_text().replace("stable: v1.34.2", f"stable: {version}"))
        result = validate_tree(DiskTree.open(tree))
        assert result.ok and result.fleet is not None
        plan = rollout.plan_rollout(compile_fleet(result.fleet))
        approved = rollout.Approval(wave="broad", revision=plan.revision, by="test", at="2026-01-01T00:00:00Z")
        plans.append(dataclasses.replace(plan, approvals=(approved,)))  # the example's broad wave asks for one
    return plans[0], plans[1]


def _upgrade(tmp_path: Path, faults: Faults) -> tuple[RolloutView, list[Event]]:
    """Create the fleet fault-free, upgrade it with ``faults``; the view and the store's events of the upgrade."""
    base, upgrade = _plans(tmp_path)
    plane = local.open_plane(seed=0)
    assert local.roll_out(plane, base, faults=Faults()).phase is rollout.Phase.COMPLETE
    events: list[Event] = []
    plane.store.watch(events.append)
    return local.roll_out(plane, upgrade, faults=faults), events


def _machine_events(events: list[Event], cluster: str, kind: str = "Machine") -> list[Event]:
    return [e for e in events if e.key.kind == kind and e.key.name.startswith(f"{cluster}-")]


def _reasons(events: list[Event], condition_type: str) -> set[tuple[str, str]]:
    """(Machine, reason) of every ``condition_type`` a Machine reported."""
    found = set()
    for event in events:
        for condition in (event.object or {}).get("status", {}).get("conditions", []):
            if condition["type"] == condition_type:
                found.add((event.key.name, condition["reason"]))
    return found


def test_a_new_worker_node_deleted_after_joining_is_replaced_and_the_rollout_completes(tmp_path: Path) -> None:
    view, events = _upgrade(
        tmp_path, Faults(node_failures=[node_failure_flag("store-0101/apps=1+10m@v1.35.0", "Deleted")])
    )
    flagged = {name for name, reason in _reasons(_machine_events(events, "store-0101"), "HealthCheckSucceeded")
               if reason == "NodeDeleted"}  # fmt: skip
    assert len(flagged) == 1  # the fault fired, the MachineHealthCheck flagged it, the MachineSet replaced it
    assert view.phase is rollout.Phase.COMPLETE and not view.halted
    assert {c.name: c.state for c in view.clusters}["store-0101"] == "Succeeded"


def test_an_old_control_plane_node_failing_mid_upgrade_rides_through(tmp_path: Path) -> None:
    fault = node_failure_flag("eu-prod-1/control-plane=1+2m@v1.34.2")
    view, events = _upgrade(tmp_path, Faults(node_failures=[fault]))
    failed = {name for name, reason in _reasons(_machine_events(events, "eu-prod-1"), "NodeReady")
              if reason == "NodeReadyUnknown"}  # fmt: skip
    assert len(failed) == 1
    assert view.phase is rollout.Phase.COMPLETE and not view.halted


def test_a_drain_blocked_for_a_while_rides_through(tmp_path: Path) -> None:
    view, events = _upgrade(tmp_path, Faults(blocked_drains=[blocked_drain_flag("store-0101/apps+20m")]))
    assert any(reason == "DrainingNode" for _, reason in _reasons(_machine_events(events, "store-0101"), "Deleting"))
    assert view.phase is rollout.Phase.COMPLETE and not view.halted


def _simulate_upgrade(tmp_path: Path, *flags: str, edit: Callable[[Path], None] | None = None) -> tuple[int, str]:
    repo = tmp_path / "repo"
    shutil.copytree(EXAMPLE, repo / "fleet")
    if edit is not None:
        edit(repo / "fleet")
    for args in (["init", "-q"], ["add", "-A"], ["commit", "-qm", "base"]):
        subprocess.run(["git", "-c", "user.name=t", "-c", "user.email=t@t", *args], cwd=repo, check=True)
    fleet_file = repo / "fleet" / "fleet.yaml"
    fleet_file.write_text(fleet_file.read_text().replace("stable: v1.34.2", "stable: v1.35.0"))
    result = CliRunner().invoke(
        cli, ["simulate", str(repo / "fleet"), "--base", "HEAD", *flags], catch_exceptions=False
    )
    return result.exit_code, result.output


def test_a_drain_blocked_for_ever_halts_naming_the_drain(tmp_path: Path) -> None:
    code, output = _simulate_upgrade(tmp_path, "--block-drain", "store-0101/apps")
    assert code == 3
    assert "cluster store-0101: no progress for" in output and "DrainingNode" in output


def test_a_deleted_node_capi_may_not_remediate_halts_at_once(tmp_path: Path) -> None:
    """With maxUnhealthy 40%, eu-prod-1's MachineDeployments of two workers allow no remediation (40% of 2 is 0)."""
    code, output = _simulate_upgrade(
        tmp_path, "--delete-node", "eu-prod-1/general=1+10m@v1.35.0", edit=_forty_percent_for_general
    )
    assert code == 3
    assert "cluster eu-prod-1: Machine eu-prod-1-general-" in output and "(NodeDeleted)" in output


def test_the_example_lets_capi_replace_a_deleted_node_of_a_zone_pool(tmp_path: Path) -> None:
    """A deleted node of the zone-spread pool on the example as shipped (maxUnhealthy 100% for it): replaced, and the
    rollout completes (one worker remediation is within the cluster's budget; ``=1`` is one machine of the pool, not
    one per zone)."""
    code, output = _simulate_upgrade(tmp_path, "--delete-node", "eu-prod-1/general=1+10m@v1.35.0")
    assert code == 0, output
    assert "rollout acme: Complete" in output


def _forty_percent_for_general(fleet: Path) -> None:
    classes = fleet / "classes" / "standard.yaml"
    text = classes.read_text()
    assert "maxUnhealthy: 100%}" in text
    classes.write_text(text.replace("maxUnhealthy: 100%}", "maxUnhealthy: 40%}"))
