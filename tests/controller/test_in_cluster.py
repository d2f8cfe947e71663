"""``fleetc install`` and ``fleetc controller run`` on a real API server, the controller acting as its ServiceAccount.

The install output is applied with kubectl; the controller runs as a subprocess impersonating the ServiceAccount the
install created; the test plays the pipeline (submits the rollout as admin) and CAPI (writes status fixtures).
"""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from fleetc.core.errors import Conflict, ForbiddenError, NotFound
from fleetc.core.keys import ObjectKey
from fleetc.engine.install import NAME, PIPELINE
from fleetc.engine.leader import ElectionConfig, LeaderElector, ServerReads
from fleetc.engine.runner import claim_key
from fleetc.render.names import DECOMMISSION_ANNOTATION, FLEET_LABEL, WAVE_LABEL
from fleetc.rollout import ClusterState, Phase, RolloutPlan, WaveSpec, read_rollout, settled, submit
from fleetc.runtime.kube import KubeStore, connect
from tests.controller.support import (
    CAPI,
    CapiPlayer,
    ControllerProcess,
    admin_store,
    install,
    lease_holder,
    plan,
    service_account,
)
from tests.kube.capi_player import CapiPlayer as KubePlayer
from tests.kube.fleets import write_fleet
from tests.kube.support import KubeApi
from tests.rollout.support import CLASS, NEW, cluster_manifest

SYSTEM = "fleetc-controller-test"


@pytest.fixture(scope="module")
def system_namespace(kube_api: KubeApi) -> str:
    """fleetc installed once for these tests, its controller's namespace."""
    install(kube_api, SYSTEM)
    return SYSTEM


@pytest.fixture
def processes(kube_api: KubeApi, system_namespace: str) -> Iterator[list[ControllerProcess]]:
    """Controller processes a test starts; killed afterwards, and the Lease deleted, so the next test starts clean."""
    started: list[ControllerProcess] = []
    yield started
    for process in started:
        process.stop()
        print(f"--- {process.identity} ---\n{process.log.read_text()}")  # shown when the test fails
    kube_api.kubectl("delete", "lease", NAME, "-n", system_namespace, "--ignore-not-found")


def drive(store: KubeStore, player: CapiPlayer, key: ObjectKey, *, timeout: float = 120.0,
          until: object = None) -> None:  # fmt: skip
    """Play CAPI until the rollout settles (or ``until()`` holds)."""
    deadline = time.monotonic() + timeout
    done = until if callable(until) else (lambda: settled(store, key))
    while not done():
        assert time.monotonic() < deadline, f"not done within {timeout} s: {store.find(key)}"
        player.step()
        store.wait(0.2)


def events(api: KubeApi, namespace: str) -> list[dict[str, Any]]:
    """The Kubernetes Events in a namespace, as kubectl lists them."""
    listed: dict[str, Any] = json.loads(api.kubectl("get", "events", "-n", namespace, "-o", "json").stdout)
    found: list[dict[str, Any]] = listed["items"]
    return found


def get(port: int, path: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=5) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode()


def test_a_rollout_runs_as_the_installed_service_account_without_a_403(
    kube_api: KubeApi, kube_namespace: str, system_namespace: str, processes: list[ControllerProcess], tmp_path: Path
) -> None:
    store = admin_store(kube_api, kube_namespace)
    player = CapiPlayer(store, kube_namespace, upgrade_seconds=1.0)
    desired = plan(kube_namespace, [("canary", 1, 1), ("rest", 3, 2)])
    for cluster in desired.clusters:
        player.seed(cluster.name)
    key = submit(store, desired)
    controller = ControllerProcess.start(kube_api, system_namespace, "solo", tmp_path,
                                         impersonate=service_account(system_namespace))  # fmt: skip
    processes.append(controller)
    port = controller.health_port()
    drive(store, player, key)

    view = read_rollout(store, key)
    assert view is not None and view.phase is Phase.COMPLETE
    assert {c.state for c in view.clusters} == {ClusterState.SUCCEEDED}
    for cluster in desired.clusters:
        live = store.read(ObjectKey(CAPI, "Cluster", kube_namespace, cluster.name))
        assert live["spec"]["topology"]["version"] == NEW
    log = controller.lines()
    assert all({"ts", "level", "logger", "msg"} <= set(line) for line in log)
    assert not [line for line in log if "forbidden" in json.dumps(line).lower() or line["level"] == "error"]
    conditions = {c["type"]: c for c in store.read(key)["status"]["conditions"]}
    assert (conditions["Complete"]["status"], conditions["Complete"]["reason"]) == ("True", "Completed")
    assert conditions["Complete"]["message"] == "4 clusters succeeded, 0 failed"
    assert (conditions["Progressing"]["status"], conditions["Halted"]["status"]) == ("False", "False")
    assert get(port, "/healthz") == (200, "ok\n")
    assert get(port, "/readyz") == (200, "leader\n")

    deadline = time.monotonic() + 10
    recorded = events(kube_api, kube_namespace)
    while sum(e["reason"] == "Completed" for e in recorded) < 1 and time.monotonic() < deadline:
        time.sleep(0.3)
        recorded = events(kube_api, kube_namespace)
    reasons = [e["reason"] for e in recorded]
    assert reasons.count("ClusterStarted") == 4 and reasons.count("ClusterSucceeded") == 4
    assert {"RolloutStarted", "WaveStarted", "Completed"} <= set(reasons)
    started = next(e for e in recorded if e["reason"] == "ClusterStarted" and "canary-01" in str(e["message"]))
    involved = started["involvedObject"]
    assert involved == {**involved, "kind": "ClusterRollout", "name": "acme-canary-01"}
    assert {e["reportingInstance"] for e in recorded} == {"solo"}

    assert controller.terminate() == 0
    released = lease_holder(kube_api, system_namespace)
    assert "holderIdentity" not in released and released["leaseDurationSeconds"] == 1


def test_the_service_account_may_do_only_what_the_controller_does(
    kube_api: KubeApi, kube_namespace: str, system_namespace: str
) -> None:
    user = service_account(system_namespace)

    def can(*args: str) -> bool:
        result = kube_api.kubectl("auth", "can-i", *args, "--as", user, check=False)
        return bool(result.stdout.strip() == "yes")

    allowed = [
        ("list", "fleetrollouts.fleetc.io", "-A"),
        ("update", "fleetrollouts.fleetc.io", "--subresource=status", "-n", kube_namespace),
        ("update", "clusterrollouts.fleetc.io", "--subresource=status", "-n", kube_namespace),
        ("watch", "machines.cluster.x-k8s.io", "-A"),
        ("patch", "clusters.cluster.x-k8s.io", "-n", kube_namespace),
        ("patch", "clusterclasses.cluster.x-k8s.io", "-n", kube_namespace),
        ("create", "kubeadmcontrolplanetemplates.controlplane.cluster.x-k8s.io", "-n", kube_namespace),
        ("create", "events", "-n", kube_namespace),
        ("update", f"leases/{NAME}", "-n", system_namespace),
        ("get", "leases", "-n", kube_namespace),  # a rollout's runner claim
        ("delete", "clusters.cluster.x-k8s.io", "-n", kube_namespace),  # a decommissioned cluster
    ]
    denied = [
        ("get", "secrets", "-n", kube_namespace),
        ("list", "secrets", "-A"),
        ("get", "configmaps", "-n", system_namespace),
        ("update", "fleetrollouts.fleetc.io", "-n", kube_namespace),
        ("create", "fleetrollouts.fleetc.io", "-n", kube_namespace),
        ("patch", "machines.cluster.x-k8s.io", "-n", kube_namespace),
        ("create", "pods", "-n", kube_namespace),
        ("update", "leases/someone-else", "-n", system_namespace),
        ("update", "leases", "-n", kube_namespace),
        ("list", "leases", "-A"),
        ("create", "leases", "-n", kube_namespace),
    ]
    assert [a for a in allowed if not can(*a)] == []
    assert [d for d in denied if can(*d)] == []
    kube_api.kubectl("create", "secret", "generic", "kubeconfig", "-n", kube_namespace, "--from-literal=k=v")
    as_controller = connect(kube_api.kubeconfig, kube_api.context, impersonate=user)
    with pytest.raises(ForbiddenError) as denied_read:
        as_controller.read(ObjectKey("", "Secret", kube_namespace, "kubeconfig"))
    assert "secrets" in str(denied_read.value) and "get" in str(denied_read.value)


def test_two_controllers_one_leader_and_a_kill_9_mid_wave_hands_over_within_the_lease(
    kube_api: KubeApi, kube_namespace: str, system_namespace: str, processes: list[ControllerProcess], tmp_path: Path
) -> None:
    lease = 3.0
    store = admin_store(kube_api, kube_namespace)
    player = CapiPlayer(store, kube_namespace, upgrade_seconds=1.5)
    desired = plan(kube_namespace, [("canary", 1, 1), ("rest", 6, 1)])
    for cluster in desired.clusters:
        player.seed(cluster.name)
    user = service_account(system_namespace)
    for identity in ("ctl-a", "ctl-b"):
        processes.append(ControllerProcess.start(kube_api, system_namespace, identity, tmp_path, lease=lease,
                                                 impersonate=user))  # fmt: skip
    deadline = time.monotonic() + 30
    while lease_holder(kube_api, system_namespace).get("holderIdentity") is None:
        assert time.monotonic() < deadline, "nobody took the lease"
        time.sleep(0.2)
    leader_name = lease_holder(kube_api, system_namespace)["holderIdentity"]
    leader, standby = sorted(processes, key=lambda p: p.identity != leader_name)
    key = submit(store, desired)

    def mid_wave() -> bool:
        view = read_rollout(store, key)
        rest = [c for c in view.clusters if c.wave == "rest"] if view else []
        done = sum(c.state is ClusterState.SUCCEEDED for c in rest)
        return done >= 2 and any(c.state is ClusterState.IN_FLIGHT for c in rest)

    drive(store, player, key, until=mid_wave)
    assert {e["reportingInstance"] for e in events(kube_api, kube_namespace)} <= {leader.identity}
    assert not [line for line in standby.lines() if line["msg"].startswith("leading")]
    leader.kill()
    killed = time.monotonic()
    taken_over = None

    def handed_over() -> bool:
        nonlocal taken_over
        if taken_over is None and lease_holder(kube_api, system_namespace).get("holderIdentity") == standby.identity:
            taken_over = time.monotonic() - killed
        return settled(store, key)

    drive(store, player, key, until=handed_over)
    assert taken_over is not None and taken_over <= lease + 3 * lease / 6 + 1.5, taken_over
    view = read_rollout(store, key)
    assert view is not None and view.phase is Phase.COMPLETE
    for shown in view.clusters:
        assert shown.state is ClusterState.SUCCEEDED and shown.attempts == 1, shown
        entry = store.read(ObjectKey("fleetc.io", "ClusterRollout", kube_namespace, f"acme-{shown.name}"))
        assert [e["type"] for e in entry["status"]["events"]].count("ClusterStarted") == 1, shown.name
    assert lease_holder(kube_api, system_namespace)["leaseTransitions"] >= 1
    assert [line for line in standby.lines() if line["msg"].startswith("leading")]
    assert standby.terminate() == 0


def test_the_controller_leaves_a_rollout_a_pipeline_claims_to_it_and_takes_over_when_the_claim_lapses(
    kube_api: KubeApi, kube_namespace: str, system_namespace: str, processes: list[ControllerProcess], tmp_path: Path
) -> None:
    """A pipeline's ``fleetc apply`` carries the rollout out and holds its runner claim: the in-cluster controller
    must not drive it too (it used to: two runners writing the same objects, notifications sent twice). When the
    pipeline dies, its claim lapses and the controller takes the rollout over."""
    store = admin_store(kube_api, kube_namespace)
    player = CapiPlayer(store, kube_namespace, upgrade_seconds=1.0)
    desired = plan(kube_namespace, [("canary", 1, 1), ("rest", 2, 2)])
    for cluster in desired.clusters:
        player.seed(cluster.name)
    config = ElectionConfig(kube_namespace, claim_key(desired.key).name, "fleetc-apply/ci/1", 6.0, 4.0, 1.0)
    pipeline = LeaderElector(ServerReads(admin_store(kube_api)), config)
    pipeline.start()
    try:
        deadline = time.monotonic() + 10
        while not pipeline.is_leader():
            assert time.monotonic() < deadline, "the pipeline could not claim the rollout"
            time.sleep(0.1)
        key = submit(store, desired)
        controller = ControllerProcess.start(kube_api, system_namespace, "solo", tmp_path,
                                             impersonate=service_account(system_namespace))  # fmt: skip
        processes.append(controller)
        deadline = time.monotonic() + 30
        while lease_holder(kube_api, system_namespace).get("holderIdentity") != "solo":
            assert time.monotonic() < deadline, "the controller did not lead"
            time.sleep(0.2)
        quiet_until = time.monotonic() + 5  # the claim is renewed meanwhile: the controller must not act
        while time.monotonic() < quiet_until:
            player.step()
            store.wait(0.2)
        assert not (store.read(key).get("status") or {}).get("timeline")
        canary = store.read(ObjectKey(CAPI, "Cluster", kube_namespace, desired.clusters[0].name))
        assert canary["spec"]["topology"]["version"] != NEW
    finally:
        pipeline.stop()  # the pipeline dies without releasing: the claim lapses 6 s after its last renewal
    lapsed = time.monotonic()
    drive(store, player, key)
    view = read_rollout(store, key)
    assert view is not None and view.phase is Phase.COMPLETE
    assert {c.state for c in view.clusters} == {ClusterState.SUCCEEDED}
    assert time.monotonic() - lapsed < 30
    log = controller.lines()
    assert not [line for line in log if "forbidden" in json.dumps(line).lower() or line["level"] == "error"]


def test_the_controller_orphans_and_decommissions_removed_clusters_as_its_service_account(
    kube_api: KubeApi, kube_namespace: str, system_namespace: str, processes: list[ControllerProcess], tmp_path: Path
) -> None:
    """A revision without two clusters, submitted for the controller (``apply --detach --allow-delete``): it takes the
    unmarked one's fleet label off (an update) and deletes the marked one. Its ClusterRole used to allow neither."""
    store = admin_store(kube_api, kube_namespace)
    for name, marked in (("old-1", False), ("old-2", True)):
        live = cluster_manifest(name, NEW, CLASS, kube_namespace)
        live["metadata"].setdefault("labels", {}).update({FLEET_LABEL: "acme", WAVE_LABEL: "canary"})
        live["metadata"]["finalizers"] = ["test.fleetc.io/machines"]  # CAPI's part: dropped once it is deleting
        if marked:
            live["metadata"]["annotations"] = {DECOMMISSION_ANNOTATION: "true"}
        store.create(live)
    wave = WaveSpec(name="canary", size=0, max_concurrent=1, soak_seconds=0, control_plane_deadline_seconds=600,
                    failure_budget=0)  # fmt: skip
    key = submit(store, RolloutPlan("acme", kube_namespace, "rev-2", (wave,), (), ()), allow_delete=True)
    controller = ControllerProcess.start(kube_api, system_namespace, "solo", tmp_path,
                                         impersonate=service_account(system_namespace))  # fmt: skip
    processes.append(controller)
    decommissioned = ObjectKey(CAPI, "Cluster", kube_namespace, "old-2")
    deadline = time.monotonic() + 60
    while not settled(store, key):
        assert time.monotonic() < deadline, f"not settled: {store.find(key)}\n{controller.log.read_text()}"
        going = store.find(decommissioned)
        if going is not None and going["metadata"].get("deletionTimestamp") and going["metadata"].get("finalizers"):
            with contextlib.suppress(NotFound, Conflict):  # read from the cache: gone or changed already
                store.update({**going, "metadata": {**going["metadata"], "finalizers": []}})
        store.wait(0.2)

    view = read_rollout(store, key)
    assert view is not None and view.phase is Phase.COMPLETE
    assert store.find(decommissioned) is None
    orphan = store.read(ObjectKey(CAPI, "Cluster", kube_namespace, "old-1"))
    assert "deletionTimestamp" not in orphan["metadata"] and FLEET_LABEL not in orphan["metadata"]["labels"]
    assert not [line for line in controller.lines() if "forbidden" in json.dumps(line).lower()]


def test_a_pipeline_applies_and_steers_a_rollout_as_the_installed_pipeline_service_account(
    kube_api: KubeApi, kube_namespace: str, system_namespace: str, tmp_path: Path
) -> None:
    """``fleetc install`` also creates a ServiceAccount for pipelines: with its token, ``fleetc apply`` (dry run and
    for real), ``rollout status|pause|resume`` work without a 403, and it can do nothing else of note."""
    user = f"system:serviceaccount:{system_namespace}:{PIPELINE}"
    deadline = time.monotonic() + 30
    while kube_api.kubectl("auth", "can-i", "create", "leases", "-n", kube_namespace, "--as", user,
                           check=False).stdout.strip() != "yes":  # fmt: skip
        assert time.monotonic() < deadline, f"RBAC for {user} not in effect after 30 s"
        time.sleep(0.2)
    token = kube_api.kubectl("create", "token", PIPELINE, "-n", system_namespace).stdout.strip()
    config = yaml.safe_load(kube_api.kubeconfig.read_text())
    for entry in config["users"]:
        entry["user"] = {"token": token}
    kubeconfig = tmp_path / "pipeline.kubeconfig"
    kubeconfig.write_text(yaml.safe_dump(config))
    root = write_fleet(tmp_path / "fleet", kube_namespace)

    def fleetc(*args: str) -> subprocess.CompletedProcess[str]:
        command = [sys.executable, "-m", "fleetc", *args, "--kubeconfig", str(kubeconfig)]
        env = {k: v for k, v in os.environ.items() if k != "KUBECONFIG"}
        return subprocess.run(command, capture_output=True, text=True, timeout=120, env=env, check=False)

    results = [fleetc("apply", str(root), "--dry-run=server")]
    with KubePlayer(kube_api, kube_namespace) as player:
        results.append(fleetc("apply", str(root)))
    results += [fleetc("rollout", "status", "-n", kube_namespace), fleetc("rollout", "pause", "-n", kube_namespace),
                fleetc("rollout", "resume", "-n", kube_namespace, "--detach"),
                fleetc("status", "canary-1", "-n", kube_namespace)]  # fmt: skip
    assert [r.returncode for r in results] == [0] * 6, "\n".join(r.stdout + r.stderr for r in results)
    assert "KubeadmControlPlane" in results[-1].stdout, results[-1].stdout
    assert not any("forbidden" in (r.stdout + r.stderr).lower() for r in results)
    assert not player.errors
    assert "rollout kfleet: Complete" in results[1].stdout

    def can(*args: str) -> bool:
        return bool(kube_api.kubectl("auth", "can-i", *args, "--as", user, check=False).stdout.strip() == "yes")

    denied = [
        ("get", "secrets", "-n", kube_namespace),
        ("create", "customresourcedefinitions.apiextensions.k8s.io"),
        ("delete", "namespaces"),
        ("delete", "fleetrollouts.fleetc.io", "-n", kube_namespace),
        ("patch", "machines.cluster.x-k8s.io", "-n", kube_namespace),
        ("create", "pods", "-n", kube_namespace),
    ]
    assert [d for d in denied if can(*d)] == []
