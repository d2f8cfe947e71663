"""MachineSet remediation on real CAPI v1.14 and in fleetc's simulation: which Machines go, when, and who waits.

Three one-cluster scenarios run at once, each in its own namespace (:mod:`tests.capi.machinesets`), and through the
simulation with the same rendered objects and the matching fault:

1. **Several flagged Machines, ``maxInFlight`` 1**: a pool of 3 whose VMs never boot (``nodeStartupTimeout`` 30 s,
   CAPI's minimum; the ClusterClass's ``workers.machineDeployments[].healthCheck.remediation.maxInFlight`` set to 1
   on the rendered class, which fleetc's spec has no field for). All three are flagged; the MachineSet deletes one
   at a time (the others ``OwnerRemediated=False/RemediationDeferred``), in its order: annotated first, then the
   newest, then by name; each replacement comes once its predecessor is gone.
2. **Only the current MachineSet remediates during a rollout**: a version bump whose new workers never boot; the old
   worker is marked for remediation (``cluster.x-k8s.io/remediate-machine``) once the new MachineSet's Machine
   exists. The old MachineSet leaves it (``CannotBeRemediated``: pending removal due to rollout); the new one
   remediates its flagged Machine.
3. **Preflight checks during a control-plane upgrade**: the worker is marked while KubeadmControlPlane replaces its
   machine. The MachineSet defers (``RemediationDeferred``, the ``ControlPlaneIsStable`` preflight check) and no
   worker Machine is deleted or created before the old control-plane Machine is gone.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator
from typing import Any

import pytest

from fleetc.core.keys import Manifest
from fleetc.sim.faults import FailingPool, Faults, SlowBoot
from tests.capi.fidelity import MachineLog
from tests.capi.lifecycle import plan_of, small_fleet, valid
from tests.capi.machinesets import (
    Mark,
    RealRun,
    Scenario,
    SimRun,
    count,
    failed_checks,
    most_deleting,
    owner_reasons,
    picks,
    run_simulated,
)
from tests.upstream.capi_stack import Session
from tests.upstream.plugin import namespace_name

STABLE, TARGET = "v1.34.2", "v1.35.0"
STARTUP = "30s"
DEFERRED = "Waiting because there are already too many remediations in progress"


def revisions(namespace: str, cluster: str, pool: dict[str, Any], *, upgrade: bool) -> tuple[tuple[Manifest, ...], ...]:
    """The rendered objects of a one-cluster fleet with this worker pool (then, with ``upgrade``, at ``TARGET``)."""
    fleet = small_fleet(namespace, {cluster: "canary"})
    fleet.set("ClusterClass", "standard", "spec.workers", {"general": pool})
    found = []
    for version in (STABLE, TARGET) if upgrade else (STABLE,):
        fleet.set("Fleet", None, "spec.versions.channels.stable", version)
        plan = plan_of(valid(fleet))
        (only,) = plan.clusters
        found.append((*plan.prerequisites, *only.objects))
    return tuple(found)


def with_max_in_flight(objects: tuple[Manifest, ...], value: int | str) -> tuple[Manifest, ...]:
    """The objects with every MachineDeployment class's ``healthCheck.remediation.maxInFlight`` set."""
    return tuple(_max_in_flight(obj, value) if obj["kind"] == "ClusterClass" else obj for obj in objects)


def _max_in_flight(cluster_class: Manifest, value: int | str) -> Manifest:
    changed = copy.deepcopy(cluster_class)
    for md_class in changed["spec"]["workers"]["machineDeployments"]:
        md_class["healthCheck"].setdefault("remediation", {})["maxInFlight"] = value
    return changed


def _in_flight(namespace: str) -> Scenario:
    cluster = "ms-inflight"
    pool = {"size": "large", "replicas": 3, "healthCheck": {"nodeStartupTimeout": STARTUP}}
    (created,) = revisions(namespace, cluster, pool, upgrade=False)
    return Scenario(
        cluster,
        (with_max_in_flight(created, 1),),
        observe_from=0,
        stop=lambda log: count(log, "gone", "worker") >= 3 and count(log, "created", "worker") >= 6,
        slow=("worker", "1h"),
        faults=Faults(failing_pools=[FailingPool(cluster=cluster, pool="general")]),
    )


def _rollout(namespace: str) -> Scenario:
    cluster = "ms-rollout"
    pool = {"size": "large", "replicas": 1, "healthCheck": {"nodeStartupTimeout": STARTUP}}
    return Scenario(
        cluster,
        revisions(namespace, cluster, pool, upgrade=True),
        observe_from=1,
        stop=lambda log: count(log, "created", "worker", TARGET) >= 2,
        slow=("worker", "1h"),
        faults=Faults(failing_pools=[FailingPool(cluster=cluster, pool="general", version=TARGET)]),
        mark=Mark("worker", TARGET, workers_at=STABLE),
    )


def _preflight(namespace: str) -> Scenario:
    cluster = "ms-preflight"
    pool = {"size": "large", "replicas": 1, "healthCheck": {"nodeStartupTimeout": STARTUP}}
    return Scenario(
        cluster,
        revisions(namespace, cluster, pool, upgrade=True),
        observe_from=1,
        stop=lambda log: count(log, "gone", "worker", STABLE) >= 1,
        slow=("control-plane", "30s"),  # the new control-plane VM: a wider upgrade window to mark the worker in
        faults=Faults(slow_boots=[SlowBoot(cluster=cluster, pool="control-plane", duration=34, version=TARGET)]),
        mark=Mark("control-plane", TARGET, workers_at=STABLE, delay=1),
    )


SCENARIOS = {"inflight": _in_flight, "rollout": _rollout, "preflight": _preflight}


@pytest.fixture(scope="module")
def runs(capi: Session) -> Iterator[dict[str, tuple[Scenario, RealRun]]]:
    """The three scenarios started at once on the real stack, each in its own namespace."""
    api = capi.api
    started = {}
    for name, build in SCENARIOS.items():
        namespace = namespace_name(f"machineset-{name}")
        api.kubectl("create", "namespace", namespace)
        scenario = build(namespace)
        started[name] = (scenario, RealRun(api, namespace, scenario).start())
    yield started
    for _, run in started.values():
        api.kubectl("delete", "namespace", run.namespace, "--wait=false", check=False)


def _both(runs: dict[str, tuple[Scenario, RealRun]], name: str) -> tuple[RealRun, SimRun]:
    scenario, started = runs[name]
    real = started.result()
    simulated = run_simulated(scenario)
    sides: tuple[tuple[str, RealRun | SimRun], ...] = (("real", real), ("simulated", simulated))
    for side, run in sides:
        log, zero = run.log, run.log.events[0].at
        print(f"--- {name}, {side}: {run.seconds:.0f} s to the stop (seconds from the first Machine event)")
        for e in log.events:
            print(f"  {e.at - zero:6.1f} {e.what:9} {e.role:14} {e.version} {e.name} {e.reason}")
        for machine, reason, message, at in log.owner:
            print(f"  {at - zero:6.1f} OwnerRemediated {machine} {reason}: {message!r}")
        flags = [e.at for e in log.events if e.what == "flagged" and e.name in run.marked.names]
        if run.marked.at is not None and flags:
            print(f"  marked at {run.marked.at - zero:.1f}, flagged {flags[0] - run.marked.at:.1f} s later")
    return real, simulated


def _sequence(run: RealRun | SimRun, cluster: str) -> list[tuple[str, str, str]]:
    """The cluster's Machine events, but flags raised on Machines already being deleted (real CAPI flags an old
    control-plane Machine whose Node is gone, depending on timing: see docs/simulation.md)."""
    return run.log.sequence(cluster, TARGET, flags_while_deleting=False)


def _without_flags(log: MachineLog, role: str) -> list[str]:
    """What happened to a role's Machines, in order, leaving out the flags (the health check raises several in one
    pass, and on real CAPI the MachineSet may already act on the first)."""
    return [e.what for e in log.events if e.role == role and e.what != "flagged"]


def test_several_flagged_workers_are_remediated_one_at_a_time_newest_first(
    runs: dict[str, tuple[Scenario, RealRun]],
) -> None:
    real, simulated = _both(runs, "inflight")
    for log in (real.log, simulated.log):
        assert count(log, "flagged", "worker") >= 3
        assert most_deleting(log, "worker") == 1, "maxInFlight 1: one remediation at a time"
        found = picks(log)
        assert len(found) == 3, found
        # each replacement is created once the Machine it replaces is gone
        replaced = ["deleting", "gone", "deleting", "created", "gone", "deleting", "created", "gone", "created"]
        assert _without_flags(log, "worker") == ["created"] * 3 + replaced
    # once a remediation ends, the next is the newest flagged Machine (ties: by name); real CAPI's first pick is
    # the first Machine flagged (the MachineSet acts before the health check flagged the others), the
    # simulation's follows the order as well (it flags all three in one pass)
    first, *later = picks(real.log)
    assert all(pick.follows_order() for pick in later), later
    assert first.picked.name == first.candidates[0].name or first.follows_order(), first
    assert all(pick.follows_order() for pick in picks(simulated.log)), picks(simulated.log)
    said = {(reason, message) for _, reason, message, _ in real.log.owner}
    assert said == {(reason, message) for _, reason, message, _ in simulated.log.owner}
    assert ("RemediationDeferred", f"{DEFERRED} (spec.strategy.remediation.maxInFlight is 1)") in said, said


def test_only_the_current_machineset_remediates_during_a_rollout(runs: dict[str, tuple[Scenario, RealRun]]) -> None:
    real, simulated = _both(runs, "rollout")
    cluster = runs["rollout"][0].cluster
    for run in (real, simulated):
        (old,) = run.marked.names
        reasons = owner_reasons(run.log, {old})
        assert reasons == ["WaitingForRemediation", "CannotBeRemediated"], reasons
        assert not [e for e in run.log.events if e.name == old and e.what == "deleting"], "left to the rollout"
        new = {e.name for e in run.log.events if e.version == TARGET and e.role == "worker"}
        assert owner_reasons(run.log, new) == ["WaitingForRemediation", "MachineDeleting"]
    assert _sequence(real, cluster) == _sequence(simulated, cluster)


def test_a_machineset_waits_for_the_control_plane_upgrade_before_remediating(
    runs: dict[str, tuple[Scenario, RealRun]],
) -> None:
    real, simulated = _both(runs, "preflight")
    cluster = runs["preflight"][0].cluster
    deferrals = []
    for run in (real, simulated):
        (old,) = run.marked.names
        assert owner_reasons(run.log, {old}) == ["WaitingForRemediation", "RemediationDeferred", "CannotBeRemediated"]
        first = next(message for name, reason, message, _ in run.log.owner if reason == "RemediationDeferred")
        deferrals.append(failed_checks(first))
        # no worker Machine is deleted or created before the old control-plane Machine is gone
        sequence = _sequence(run, cluster)
        upgraded = sequence.index(("gone", "control-plane", "old"))
        assert not [e for e in sequence[:upgraded] if e[1] == "worker" and e[0] in ("created", "deleting")], sequence
    assert deferrals[0] == deferrals[1], deferrals
    assert "ControlPlaneIsStable" in deferrals[0], deferrals
    assert _sequence(real, cluster) == _sequence(simulated, cluster)
