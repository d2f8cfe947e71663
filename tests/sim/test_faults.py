"""Injected faults and how the simulated CAPI reacts: stalls, health checks, remediation, retries."""

from __future__ import annotations

import itertools
import json
from pathlib import Path

import pytest

from fleetc.core.keys import Manifest, ObjectKey
from fleetc.sim import Faults, FaultsError, load_faults, parse_faults
from fleetc.sim.fault_flags import control_plane_flag
from fleetc.sim.faults import FailingPool, ProviderErrors, SlowBoot
from tests.sim.support import (
    Plane,
    condition,
    condition_types,
    fixture,
    is_true,
    manifests,
    small_fleet,
    with_kcp_remediation,
)

FIXTURE_REMEDIATION = {"maxRetry": 3, "retryPeriodSeconds": 300, "minHealthyPeriodSeconds": 3600}
NEW = "v1.35.0"


def _fields(obj: Manifest, condition_type: str) -> tuple[str, str, str]:
    found = condition(obj, condition_type)
    assert found is not None, f"{condition_type} not set on {obj['metadata']['name']}"
    return found["status"], found["reason"], found["message"]


def upgraded_with_broken_control_plane(remediation: dict[str, int] | None = None) -> Plane:
    """eu-1 created at v1.34.2, then upgraded to v1.35.0 where no control-plane Machine ever gets a Node."""
    plane = Plane(faults=Faults(control_plane_never_ready=[control_plane_flag(f"eu-1@{NEW}")]))
    base = manifests(small_fleet("eu-1"))
    plane.apply(with_kcp_remediation(base, remediation) if remediation else base)
    assert plane.run(plane.settled("eu-1"), hours=1)
    upgraded = manifests(small_fleet("eu-1", version=NEW))
    plane.apply(with_kcp_remediation(upgraded, remediation) if remediation else upgraded)
    return plane


def new_cp_machines(plane: Plane) -> list[Manifest]:
    return [m for m in plane.machines("eu-1", control_plane=True) if m["spec"]["version"] == NEW]


def test_a_control_plane_machine_that_never_gets_a_node_stalls_the_rollout() -> None:
    plane = upgraded_with_broken_control_plane()
    started = plane.elapsed
    assert plane.run(lambda: bool(new_cp_machines(plane)) and "providerID" in new_cp_machines(plane)[0]["spec"])
    plane.run(hours=0.1)  # five minutes later: still stuck, nothing flagged yet
    stuck = new_cp_machines(plane)[0]
    provider_id = stuck["spec"]["providerID"]
    waiting = f"Waiting for a Node with spec.providerID {provider_id} to exist"
    assert _fields(stuck, "NodeHealthy") == ("Unknown", "InspectionFailed", waiting)
    assert _fields(stuck, "NodeReady") == ("Unknown", "InspectionFailed", waiting)
    assert condition(stuck, "HealthCheckSucceeded") is None
    assert stuck["status"]["initialization"]["infrastructureProvisioned"] is True and "nodeRef" not in stuck["status"]
    kcp = plane.kcp("eu-1")
    assert len(plane.machines("eu-1", control_plane=True)) == 4  # no other old machine was removed
    assert _fields(kcp, "ScalingDown") == (
        "True",
        "ScalingDown",
        "Scaling down from 4 to 3 replicas is blocked because:\n"
        "* waiting for control plane components to become healthy\n"
        "* waiting for etcd cluster to become healthy",
    )
    expected_kcp = fixture("cp-new-machine-never-gets-node", "KubeadmControlPlane")
    assert _fields(kcp, "Available") == _fields(expected_kcp, "Available")  # "3 of 4 Machines have healthy …"
    assert _fields(plane.cluster("eu-1"), "ControlPlaneAvailable") == _fields(expected_kcp, "Available")
    name = stuck["metadata"]["name"]
    for condition_type in ("EtcdClusterHealthy", "ControlPlaneComponentsHealthy"):
        wanted = tuple(part.replace("eu-prod-1-7fvxk-zr6gm", name) for part in _fields(expected_kcp, condition_type))
        assert _fields(kcp, condition_type) == wanted, condition_type
    assert kcp["status"]["versions"] == [{"replicas": 3, "version": "v1.34.2"}, {"replicas": 1, "version": NEW}]
    workers = plane.machines("eu-1", control_plane=False)
    assert {m["spec"]["version"] for m in workers} == {"v1.34.2"}  # the workers are not touched
    assert plane.elapsed - started < 600


def test_the_health_check_flags_node_startup_timeout_and_kcp_remediates() -> None:
    plane = upgraded_with_broken_control_plane()

    def flagged() -> bool:
        return any(condition(m, "HealthCheckSucceeded") for m in new_cp_machines(plane))

    assert plane.run(flagged, hours=1)
    stuck = next(m for m in new_cp_machines(plane) if condition(m, "HealthCheckSucceeded"))
    created = stuck["metadata"]["creationTimestamp"]
    assert _fields(stuck, "HealthCheckSucceeded") == (
        "False",
        "NodeStartupTimeout",
        "Health check failed:\n  * Node failed to report startup in 10m0s",
    )
    assert condition(stuck, "HealthCheckSucceeded")["lastTransitionTime"] > created  # type: ignore[index]
    assert plane.run(lambda: "lastRemediation" in plane.kcp("eu-1").get("status", {}), hours=0.1)
    kcp = plane.kcp("eu-1")
    assert kcp["status"]["lastRemediation"]["machine"] == stuck["metadata"]["name"]
    assert kcp["status"]["lastRemediation"]["retryCount"] == 0
    expected = fixture("cp-new-machine-never-gets-node", "Machine", "zr6gm")
    deleting = plane.get(ObjectKey.of(stuck))
    if deleting is not None:  # caught mid-deletion, as the fixture is
        assert _fields(deleting, "OwnerRemediated") == _fields(expected, "OwnerRemediated")
    assert plane.run(
        lambda: any(
            "controlplane.cluster.x-k8s.io/remediation-for" in m["metadata"].get("annotations", {})
            for m in new_cp_machines(plane)
        ),
        hours=0.2,
    )
    replacement = next(
        m
        for m in new_cp_machines(plane)
        if "controlplane.cluster.x-k8s.io/remediation-for" in m["metadata"]["annotations"]
    )
    record = json.loads(replacement["metadata"]["annotations"]["controlplane.cluster.x-k8s.io/remediation-for"])
    assert record["machine"] == stuck["metadata"]["name"] and record["retryCount"] == 0


def test_remediation_stops_after_max_retry_as_in_the_remediation_exhausted_fixture() -> None:
    plane = upgraded_with_broken_control_plane(FIXTURE_REMEDIATION)

    def exhausted() -> bool:
        return any(_owner_reason(m) == "CannotBeRemediated" for m in new_cp_machines(plane))

    assert plane.run(exhausted, hours=3)
    kcp = plane.kcp("eu-1")
    last = kcp["status"]["lastRemediation"]
    assert last["retryCount"] == 3
    victim = next(m for m in new_cp_machines(plane) if _owner_reason(m) == "CannotBeRemediated")
    expected = fixture("cp-remediation-exhausted", "Machine", "n9jct")
    assert _fields(victim, "OwnerRemediated") == _fields(expected, "OwnerRemediated")
    assert _fields(victim, "HealthCheckSucceeded") == _fields(expected, "HealthCheckSucceeded")
    assert _fields(victim, "NodeHealthy")[:2] == ("Unknown", "InspectionFailed")
    plane.run(hours=0.05)
    victim = next(m for m in new_cp_machines(plane) if _owner_reason(m) == "CannotBeRemediated")
    assert condition_types(victim) == condition_types(expected)
    name = victim["metadata"]["name"]
    for condition_type in ("Ready", "InfrastructureReady", "NodeHealthy", "EtcdMemberHealthy"):
        wanted = tuple(part.replace("eu-prod-1-7fvxk-n9jct", name) for part in _fields(expected, condition_type))
        assert _fields(victim, condition_type) == wanted, condition_type
    kcp = plane.kcp("eu-1")
    assert _fields(kcp, "Remediating") == (
        "True",
        "Remediating",
        f"* Machine {victim['metadata']['name']}: KubeadmControlPlane can't remediate this machine because the "
        "operation already failed 3 times (MaxRetry)",
    )
    assert _fields(kcp, "Available")[:2] == ("True", "Available")
    assert is_true(plane.cluster("eu-1"), "Available")
    assert _fields(plane.cluster("eu-1"), "Remediating")[:2] == ("True", "Remediating")
    assert plane.crd_violations() == []
    # the limit lasts minHealthyPeriodSeconds after the last remediation, then a new retry sequence starts
    assert plane.run(lambda: plane.kcp("eu-1")["status"]["lastRemediation"]["retryCount"] == 0, hours=1.5)


def _owner_reason(machine: Manifest) -> str | None:
    found = condition(machine, "OwnerRemediated")
    return found["reason"] if found else None


def test_a_first_control_plane_machine_that_never_initialises() -> None:
    plane = Plane(faults=Faults(control_plane_never_ready=[control_plane_flag("eu-1@create")]))
    plane.apply(manifests(small_fleet("eu-1", version=NEW)))

    def replaced() -> bool:
        return any(
            "controlplane.cluster.x-k8s.io/remediation-for" in m["metadata"].get("annotations", {})
            and "providerID" in m["spec"]
            for m in plane.machines("eu-1", control_plane=True)
        )

    assert plane.run(replaced, hours=1)
    plane.run(hours=0.1)
    cluster, kcp = plane.cluster("eu-1"), plane.kcp("eu-1")
    expected_cluster = fixture("create-cp-never-initializes", "Cluster")
    expected_kcp = fixture("create-cp-never-initializes", "KubeadmControlPlane")
    for condition_type in ("ControlPlaneInitialized", "ControlPlaneAvailable", "RemoteConnectionProbe"):
        assert _fields(cluster, condition_type) == _fields(expected_cluster, condition_type), condition_type
    assert _fields(cluster, "Available")[:2] == ("False", "NotAvailable")
    assert is_true(cluster, "TopologyReconciled")
    assert cluster["status"]["initialization"] == {"infrastructureProvisioned": True}
    assert cluster["status"]["phase"] == "Provisioned"
    for condition_type in (
        "Available",
        "Initialized",
        "EtcdClusterHealthy",
        "ControlPlaneComponentsHealthy",
        "ScalingUp",
    ):
        assert _fields(kcp, condition_type) == _fields(expected_kcp, condition_type), condition_type
    assert condition_types(kcp) == condition_types(expected_kcp)
    assert kcp["status"]["lastRemediation"]["retryCount"] == 0
    assert "initialization" not in kcp["status"]
    machine = plane.machines("eu-1", control_plane=True)[0]
    expected_machine = fixture("create-cp-never-initializes", "Machine", "8bkfn")
    for condition_type in ("NodeHealthy", "InfrastructureReady", "EtcdMemberHealthy"):
        assert _fields(machine, condition_type) == _fields(expected_machine, condition_type), condition_type
    workers = plane.machines("eu-1", control_plane=False)
    assert len(workers) == 3 and {m["status"]["phase"] for m in workers} == {"Pending"}
    deployment = plane.one("MachineDeployment", cluster="eu-1")
    assert _fields(deployment, "Available") == (
        "False",
        "NotAvailable",
        "0 available replicas, at least 3 required (spec.strategy.rollout.maxUnavailable is 0, spec.replicas is 3)",
    )


@pytest.mark.parametrize("start", [0, 20])
def test_provider_api_errors_are_retried_with_backoff_and_recover(start: int) -> None:
    outage = ProviderErrors(start=start, length=600, message="503 Service Unavailable")
    plane = Plane(faults=Faults(provider_errors=[outage]))
    plane.apply(manifests(small_fleet("eu-1")))
    assert plane.run(plane.settled("eu-1"), hours=2)
    errors = plane.manager.errors
    assert errors and all("simulated provider API error: 503 Service Unavailable" in e[3] for e in errors)
    first, last = min(t for t, *_ in errors), max(t for t, *_ in errors)
    assert plane.clock.now() > first + 600 > last  # nothing got through during the outage, then it recovered
    by_key: dict[str, list[float]] = {}
    for moment, _, key, _ in errors:
        by_key.setdefault(key.name, []).append(moment)
    for moments in by_key.values():
        gaps = [b - a for a, b in itertools.pairwise(moments)]
        assert {16.0, 32.0, 64.0} <= set(gaps), gaps  # per-key exponential backoff
    failing = {controller for _, controller, *_ in errors}
    assert failing == ({"sim-topology"} if start == 0 else {"sim-machine"})


def test_a_worker_pool_that_never_comes_up_is_remediated_and_stays_unavailable() -> None:
    plane = Plane(faults=Faults(failing_pools=[FailingPool(cluster="eu-1", pool="general")]))
    plane.apply(manifests(small_fleet("eu-1")))
    assert plane.run(lambda: plane.elapsed > 1500, hours=1)
    assert is_true(plane.kcp("eu-1"), "Available")
    deployment = plane.one("MachineDeployment", cluster="eu-1")
    assert _fields(deployment, "Available")[:2] == ("False", "NotAvailable")
    assert _fields(plane.cluster("eu-1"), "WorkersAvailable")[:2] == ("False", "NotAvailable")
    assert not any(is_true(m, "Ready") for m in plane.machines("eu-1", control_plane=False))
    assert all(is_true(m, "Ready") for m in plane.machines("eu-1", control_plane=True))


def test_slow_boots_take_longer() -> None:
    def created_in(faults: Faults) -> float:
        plane = Plane(faults=faults)
        plane.apply(manifests(small_fleet("eu-1")))
        assert plane.run(plane.settled("eu-1"), hours=3)
        return plane.elapsed

    normal = created_in(Faults())
    assert created_in(Faults(slow_boots=[SlowBoot(factor=4)])) > 3 * normal
    fixed = created_in(Faults(slow_boots=[SlowBoot(pool="control-plane", duration=300)]))
    assert fixed > 3 * 300


FAULT_FILE = """\
apiVersion: fleetc.io/v1alpha1
kind: SimulationFaults
controlPlaneNeverReady:
  - cluster: sim-canary-1
    version: v1.35.0
  - cluster: "eu-*"
    onCreate: true
failingPools:
  - cluster: us-prod-1
    pool: general
slowBoots:
  - cluster: "*"
    pool: control-plane
    factor: 3
  - cluster: eu-prod-1
    duration: 20m
providerErrors:
  - from: 10m
    for: 30m
    message: throttled
"""


def test_a_fault_file_loads(tmp_path: Path) -> None:
    path = tmp_path / "faults.yaml"
    path.write_text(FAULT_FILE)
    faults = load_faults(path)
    assert [f.cluster for f in faults.control_plane_never_ready] == ["sim-canary-1", "eu-*"]
    assert faults.control_plane_never_ready[1].on_create is True
    assert faults.slow_boots[1].duration == 1200 and faults.slow_boots[0].factor == 3
    assert faults.provider_errors[0].start == 600 and faults.provider_errors[0].length == 1800
    assert faults.failing_pools == [FailingPool(cluster="us-prod-1", pool="general")]
    assert parse_faults(None) == Faults()


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("controlPlaneNeverReady: [{cluster: a, versoin: v1.35.0}]", "versoin"),
        ("slowBoots: [{cluster: a, factor: 2, duration: 5m}]", "exactly one of factor and duration"),
        ("slowBoots: [{cluster: a}]", "exactly one of factor and duration"),
        ("providerErrors: [{from: -10, for: 5m}]", "from"),
        ("providerErrors: [{from: 10 minutes, for: 5m}]", "from"),
        ("controlPlaneNeverReady: [{cluster: a, version: '1.35'}]", "version"),
        ("kind: Other", "kind"),
        ("nodeFailures: [{cluster: a, state: Gone}]", "state"),
        ("blockedDrains: [{cluster: a, for: forever}]", "for"),
        ("stuckVolumes: [{cluster: a, machines: 0}]", "machines"),
        ("failingPools: [{cluster: a, pool: b, onCreate: true, onUpgrade: true}]", "at most one of onCreate"),
    ],
)
def test_a_bad_fault_file_is_refused_with_the_field(tmp_path: Path, text: str, fragment: str) -> None:
    path = tmp_path / "faults.yaml"
    path.write_text(text)
    with pytest.raises(FaultsError, match=fragment):
        load_faults(path)


def test_fault_flags() -> None:
    faults = Faults.from_flags(
        fail_control_plane=["sim-canary-1", "eu-1@create", "eu-2@v1.35.0", "eu-3@standard-aws-abc123"],
        fail_pool=["us-1/general"],
        slow_boot=["eu-1/control-plane=3x", "eu-2=20m"],
        provider_errors=["10m+30m", "0s+5m@eu-*"],
    )
    never = faults.control_plane_never_ready
    assert (never[0].on_create, never[1].on_create, never[2].version, never[3].class_revision) == (
        False,
        True,
        NEW,
        "standard-aws-abc123",
    )
    assert faults.slow_boots[0] == SlowBoot(cluster="eu-1", pool="control-plane", factor=3.0)
    assert faults.slow_boots[1].duration == 1200
    assert faults.provider_errors[1].cluster == "eu-*" and faults.provider_errors[0].start == 600
    assert faults.merged(Faults()) == faults
    for bad in (("fail_pool", "nopool"), ("slow_boot", "eu-1=fast"), ("provider_errors", "10m")):
        with pytest.raises(FaultsError):
            Faults.from_flags(**{bad[0]: [bad[1]]})


def test_qualifier_and_new_fault_flags() -> None:
    faults = Faults.from_flags(
        fail_pool=["us-1/general=2@upgrade@v1.35.0"],
        slow_boot=["eu-1=3x@create"],
        fail_node=["eu-1/control-plane=1+2m@v1.34.2"],
        delete_node=["eu-2"],
        block_drain=["eu-1/apps+20m@upgrade", "eu-2"],
        stuck_volumes=["eu-1/apps=1+1h@v1.35.0"],
        slow_delete=["eu-1/apps=10m@standard-aws-abc123"],
    )
    pool = faults.failing_pools[0]
    assert (pool.machines, pool.on_upgrade, pool.version) == (2, True, NEW)
    assert faults.slow_boots[0].on_create and faults.slow_boots[0].factor == 3.0
    failing, deleted = faults.node_failures
    assert (failing.pool, failing.machines, failing.after, failing.state, failing.version) == (
        "control-plane",
        1,
        120,
        "NotReady",
        "v1.34.2",
    )
    assert (deleted.cluster, deleted.pool, deleted.after, deleted.state, deleted.machines) == (
        "eu-2",
        "*",
        0,
        "Deleted",
        None,
    )
    assert faults.blocked_drains[0].length == 1200 and faults.blocked_drains[0].on_upgrade
    assert faults.blocked_drains[1].length is None
    volumes = faults.stuck_volumes[0]
    assert (volumes.pool, volumes.machines, volumes.length, volumes.version) == ("apps", 1, 3600, NEW)
    assert (faults.slow_deletions[0].duration, faults.slow_deletions[0].class_revision) == (600, "standard-aws-abc123")
    for bad in (
        ("fail_node", "eu-1/x=0"),
        ("block_drain", "eu-1+soon"),
        ("stuck_volumes", "eu-1/apps=none"),
        ("slow_delete", "eu-1"),
        ("fail_pool", "a/b@"),
    ):
        with pytest.raises(FaultsError):
            Faults.from_flags(**{bad[0]: [bad[1]]})
