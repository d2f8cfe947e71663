"""The plane as a whole: determinism, restart from a snapshot, deletion, and server-side apply."""

from __future__ import annotations

import json

from fleetc.core.keys import ObjectKey
from fleetc.runtime.clock import VirtualClock
from fleetc.runtime.manager import Manager
from fleetc.runtime.memory import MemoryStore
from fleetc.sim import InMemoryProvider, apply_objects, install
from fleetc.sim.api import SIM_VM_READY, moment
from tests.sim.support import CAPI, Plane, is_true, manifests, small_fleet

TWO_CLUSTERS = ("eu-1", "eu-2")


def _run_create_and_upgrade(seed: int) -> Plane:
    plane = Plane(seed=seed)
    plane.apply(manifests(small_fleet(*TWO_CLUSTERS)))
    assert plane.run(plane.settled(*TWO_CLUSTERS), hours=1)
    plane.apply(manifests(small_fleet(*TWO_CLUSTERS, version="v1.35.0")))
    assert plane.run(plane.settled(*TWO_CLUSTERS), hours=2)
    plane.run(hours=1)
    return plane


def test_the_same_seed_gives_an_identical_store() -> None:
    first, second = _run_create_and_upgrade(3), _run_create_and_upgrade(3)
    assert json.dumps(first.store.snapshot(), sort_keys=True) == json.dumps(second.store.snapshot(), sort_keys=True)
    assert first.manager.stats == second.manager.stats


def test_another_seed_gives_other_names_and_boot_times() -> None:
    first, second = _run_create_and_upgrade(3), _run_create_and_upgrade(4)
    names = {o["metadata"]["name"] for o in first.objects("Machine")}
    assert names.isdisjoint(o["metadata"]["name"] for o in second.objects("Machine"))
    assert _boot_seconds(first) != _boot_seconds(second)


def _boot_seconds(plane: Plane) -> list[float]:
    """How long each Machine's VM took to come up, in creation order."""
    machines = sorted(plane.objects("Machine"), key=lambda m: m["metadata"]["creationTimestamp"])
    return [
        moment(m["metadata"]["annotations"][SIM_VM_READY]) - moment(m["metadata"]["creationTimestamp"])
        for m in machines
    ]


def test_a_restarted_plane_resumes_a_rollout_from_the_persisted_store() -> None:
    plane = Plane()
    plane.apply(manifests(small_fleet("eu-1")))
    assert plane.run(plane.settled("eu-1"), hours=1)
    plane.apply(manifests(small_fleet("eu-1", version="v1.35.0")))
    assert plane.run(lambda: len(plane.kcp("eu-1").get("status", {}).get("versions", [])) == 2, hours=1)
    snapshot = json.loads(json.dumps(plane.store.snapshot()))
    created_before = {o["metadata"]["name"] for o in plane.objects("Machine")}
    new_cp_before = {
        m["metadata"]["name"] for m in plane.machines("eu-1", control_plane=True) if m["spec"]["version"] == "v1.35.0"
    }
    kcp_name = plane.kcp("eu-1")["metadata"]["name"]

    clock = VirtualClock(plane.clock.now())
    store = MemoryStore(clock)
    store.restore(snapshot)
    manager = Manager(store, clock)
    install(manager, InMemoryProvider(seed=plane.seed, start=clock.now()), seed=plane.seed)
    added: list[str] = []
    store.watch(lambda event: added.append(event.key.name) if event.type == "ADDED" else None)
    manager.run(lambda: False, deadline=clock.now() + 7200)
    machines = store.list(CAPI, "Machine")
    assert {m["spec"]["version"] for m in machines} == {"v1.35.0"} and len(machines) == 6
    assert all(is_true(m, "Ready") for m in machines)
    assert not set(added) & created_before  # nothing created twice
    new_cp_after = [name for name in added if name.startswith(f"{kcp_name}-")]
    assert len(new_cp_before) + len(new_cp_after) == 3  # one new control-plane Machine per old one, in all


def test_deleting_a_cluster_deletes_everything_it_owns() -> None:
    plane = Plane()
    plane.apply(manifests(small_fleet(*TWO_CLUSTERS)))
    assert plane.run(plane.settled(*TWO_CLUSTERS), hours=1)
    classes = {o["metadata"]["name"] for o in plane.objects("ClusterClass")}
    plane.store.delete(ObjectKey(CAPI, "Cluster", "fleet-clusters", "eu-1"))
    assert plane.run(lambda: not any(o["metadata"]["name"] == "eu-1" for o in plane.objects("Cluster")), hours=1)
    leftovers = [
        f"{o['kind']} {o['metadata']['name']}"
        for o in plane.everything()
        if o["metadata"].get("labels", {}).get(f"{CAPI}/cluster-name") == "eu-1"
    ]
    assert leftovers == []
    assert plane.healthy("eu-2")
    assert {o["metadata"]["name"] for o in plane.objects("ClusterClass")} == classes


def test_apply_keeps_what_controllers_set_and_writes_nothing_when_unchanged() -> None:
    plane = Plane()
    objects = manifests(small_fleet("eu-1"))
    plane.apply(objects)
    assert plane.run(plane.settled("eu-1"), hours=1)
    cluster = plane.cluster("eu-1")
    assert {"controlPlaneRef", "infrastructureRef", "controlPlaneEndpoint"} <= set(cluster["spec"])
    assert apply_objects(plane.store, manifests(small_fleet("eu-1"))) == []

    changed = manifests(small_fleet("eu-1"))
    for obj in changed:
        if obj["kind"] == "Cluster":
            del obj["metadata"]["labels"]["ring"]
            obj["metadata"]["labels"]["team"] = "payments"
    keys = apply_objects(plane.store, changed)
    assert [key.kind for key in keys] == ["Cluster"]
    after = plane.store.get(keys[0])
    labels = after["metadata"]["labels"]
    assert "ring" not in labels and labels["team"] == "payments"
    assert labels[f"{CAPI}/cluster-name"] == "eu-1"  # set by the topology controller, kept
    assert after["spec"]["controlPlaneRef"] == cluster["spec"]["controlPlaneRef"]
    assert after["metadata"]["finalizers"] == ["cluster.cluster.x-k8s.io"]
    assert [e["manager"] for e in after["metadata"]["managedFields"]] == ["fleetc"]
    assert after["metadata"]["generation"] == cluster["metadata"]["generation"]  # labels only: no new generation
