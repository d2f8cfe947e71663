"""A simulation sharded across processes makes the same rollout as one process (``fleetc simulate --workers``).

The fleet's clusters are split across shard processes and the rollout controller drives them in lockstep
(:mod:`fleetc.engine.sharded`). Everything a user sees must be what one process gives: the same timeline, the same
verdicts at the same times, the same objects (uids and resourceVersions aside: each process's store counts its
own), with faults, halts, removals and a failing shard process.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from fleetc.cli.main import cli
from fleetc.core.errors import Conflict
from fleetc.core.keys import Manifest
from fleetc.engine import local, sharded
from fleetc.engine.shard import RemoteShard, ShardError, answer_to, start_remote
from fleetc.load.sources import DiskTree
from fleetc.render.compile import compile_fleet
from fleetc.rollout import RolloutPlan, plan_rollout
from fleetc.schema.validate import validate_tree
from fleetc.sim.faults import Faults
from fleetc.testing import synthetic
from tests.cli.test_interrupt_and_watch import DEFAULT_SIGINT_THEN_FLEETC, interrupt, wait_for
from tests.rollout.test_removal import removal_fleet

REPO = Path(__file__).resolve().parents[2]
EXAMPLE = REPO / "examples" / "fleet"
SHARD_COMMAND = b"from fleetc.engine.shard import main"


def _simulate(*args: str) -> tuple[int, Any]:
    result = CliRunner().invoke(cli, ["simulate", str(EXAMPLE), "--format", "json", *args], catch_exceptions=False)
    return result.exit_code, json.loads(result.output)


@pytest.mark.parametrize(
    "faults",
    [
        pytest.param((), id="healthy"),
        pytest.param(("--fail-control-plane", "eu-qa-1"), id="a control plane that never comes up halts"),
        pytest.param(
            ("--fail-pool", "store-0102/apps=1", "--fail-node", "us-prod-1=1+20m", "--provider-errors", "10m+4m30s"),
            id="worker remediation, a node that breaks, a provider outage",
        ),
        pytest.param(
            ("--delete-node", "eu-staging-1=1+10m", "--slow-boot", "store-0103=3x"),
            id="a cluster that fails while its wave soaks",
        ),
    ],
)
def test_simulate_with_workers_prints_what_one_process_prints(faults: tuple[str, ...]) -> None:
    one = _simulate(*faults)
    assert one[1]["rollouts"][0]["timeline"], "the rollout ran"

    assert _simulate("--workers", "3", *faults) == one


def _example_plan() -> RolloutPlan:
    result = validate_tree(DiskTree.open(EXAMPLE))
    assert result.fleet is not None
    return plan_rollout(compile_fleet(result.fleet))


def _comparable(objects: list[Manifest]) -> dict[tuple[str, str, str, str], Manifest]:
    """Objects by identity, without what each process's store numbers itself; an object several shards hold (a
    namespace, a class revision) must be the same in each."""
    found: dict[tuple[str, str, str, str], Manifest] = {}
    for obj in objects:
        metadata = {k: v for k, v in obj["metadata"].items() if k not in ("uid", "resourceVersion")}
        if "ownerReferences" in metadata:
            metadata["ownerReferences"] = [
                {k: v for k, v in ref.items() if k != "uid"} for ref in metadata["ownerReferences"]
            ]
        key = (obj["apiVersion"], obj["kind"], metadata.get("namespace", ""), metadata["name"])
        comparable = {**obj, "metadata": metadata}
        assert found.get(key, comparable) == comparable, f"{key} differs between shards"
        found[key] = comparable
    return found


def test_every_object_ends_as_in_one_process() -> None:
    plan = _example_plan()
    faults = Faults.from_flags(fail_node=("us-prod-1=1+20m",))
    alone = local.open_plane(faults=faults)
    local.roll_out(alone, plan, faults=faults)

    with sharded.sharded_plane(2, faults=faults) as plane:
        view = sharded.roll_out(plane, plan, faults=faults)
        rollout_objects, *shard_objects = sharded.snapshot(plane)
        usage = plane.usage()

    assert view == local.view_of(alone, plan.key)
    expected = _comparable(alone.store.snapshot()["objects"])
    assert _comparable([*rollout_objects, *(o for objects in shard_objects for o in objects)]) == expected
    machines = [sum(o["kind"] == "Machine" for o in objects) for objects in shard_objects]
    assert all(machines), f"each shard holds some clusters' machines: {machines}"
    assert [u.objects for u in usage] == [len(objects) for objects in shard_objects]


def test_removed_clusters_are_orphaned_and_deleted_as_in_one_process() -> None:
    steps = [
        (removal_fleet(clusters=5), False),
        (removal_fleet(marked=("eu-4",), clusters=5), False),
        (removal_fleet("eu-3", "eu-4", clusters=5), True),
    ]
    alone = local.open_plane()
    expected = [local.roll_out(alone, plan, allow_delete=allow) for plan, allow in steps]

    with sharded.sharded_plane(2) as plane:
        views = [sharded.roll_out(plane, plan, allow_delete=allow) for plan, allow in steps]
        objects = [o for objects in sharded.snapshot(plane) for o in objects]

    assert views == expected
    events = {(e.cluster, e.type) for e in views[-1].timeline}
    assert {("eu-3", "ClusterOrphaned"), ("eu-4", "ClusterDeleting"), ("eu-4", "ClusterSucceeded")} <= events
    assert _comparable(objects) == _comparable(alone.store.snapshot()["objects"])


def test_a_shard_whose_process_dies_ends_the_run_with_an_error_naming_it() -> None:
    with sharded.sharded_plane(2) as plane:
        remote = plane.shards[1]
        assert isinstance(remote, RemoteShard)
        pid = remote.pid
        os.kill(pid, 9)
        with pytest.raises(ShardError, match=f"shard process {pid}"):
            sharded.roll_out(plane, removal_fleet())


def _shard_processes() -> set[int]:
    """The shard processes running now (Linux ``/proc``)."""
    found = set()
    for entry in Path("/proc").iterdir():
        try:
            if entry.name.isdigit() and SHARD_COMMAND in (entry / "cmdline").read_bytes():
                found.add(int(entry.name))
        except OSError:
            continue  # ended meanwhile
    return found


def test_ctrl_c_during_a_sharded_simulation_exits_130_and_leaves_no_shard_running(tmp_path: Path) -> None:
    root = tmp_path / "fleet"
    synthetic.write_fleet(root, 500)  # a run of several seconds: the interrupt comes well before its end
    before = _shard_processes()
    command = [sys.executable, "-c", DEFAULT_SIGINT_THEN_FLEETC, "simulate", str(root), "--workers", "3"]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    started: list[float] = []

    def under_way() -> bool:
        """The two shard processes started half a second ago."""
        if not started and len(_shard_processes() - before) == 2:
            started.append(time.monotonic())
        return bool(started) and time.monotonic() - started[0] >= 0.5

    stderr = interrupt(process, under_way, "the shard processes to start")

    assert process.returncode == 130, stderr
    assert "fleetc: interrupted" in stderr and "Traceback" not in stderr
    wait_for(lambda: not _shard_processes() - before, "the shard processes to end")


def test_an_error_fleetc_expects_is_raised_in_the_coordinator_as_itself_and_a_bug_with_its_traceback() -> None:
    conflict = Conflict("Cluster eu-1 was modified (resourceVersion 7 is stale)")
    kind, raised = answer_to(conflict)
    assert kind == "raise" and type(raised) is Conflict and str(raised) == str(conflict)

    remote = start_remote(0, 0.0, Faults())
    try:
        with pytest.raises(ShardError, match=r"(?s)failed:.*KeyError: 'name'"):
            remote.apply_shared(0.0, {"apiVersion": "v1", "kind": "Namespace", "metadata": {}})
        assert remote.machine_names(0.0, ("fleet-clusters", "eu-1")) == []  # it still answers
    finally:
        remote.close()


def test_a_sharded_simulation_needs_two_workers() -> None:
    with pytest.raises(ValueError, match="at least 2 workers"):
        sharded.open_sharded(1)
