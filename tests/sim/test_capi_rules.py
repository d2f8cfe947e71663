"""CAPI v1.14 rules the simulation follows: MachineSet remediation and preflight checks, deletion order, the
MachineHealthCheck target set, KCP's scale-down pick, and "is upgrading" as spec newer than status."""

from __future__ import annotations

from typing import Any

from fleetc.core.keys import Manifest, ObjectKey
from fleetc.sim import Faults
from fleetc.sim.api import DELETE_MACHINE_ANNOTATION, REMEDIATE_MACHINE_ANNOTATION, SKIP_REMEDIATION_ANNOTATION
from fleetc.sim.faults import FailingPool, SlowBoot, SlowDeletion
from fleetc.sim.machineset_rules import deletion_order
from fleetc.sim.topology_plan import ControlPlaneState
from tests.sim.support import Plane, condition, manifests, small_fleet

NEW = "v1.35.0"


def _annotate(plane: Plane, machine: Manifest, *keys: str) -> None:
    notes = {**machine["metadata"].get("annotations", {}), **dict.fromkeys(keys, "")}
    plane.store.patch(ObjectKey.of(machine), {"metadata": {"annotations": notes}})


def _owner_remediated(machine: Manifest) -> tuple[str, str] | None:
    found = condition(machine, "OwnerRemediated")
    return (found["reason"], found["message"]) if found is not None else None


def _workers(plane: Plane) -> list[Manifest]:
    return plane.machines("eu-1", control_plane=False)


def _named(plane: Plane, name: str) -> Manifest | None:
    return next((m for m in plane.machines("eu-1") if m["metadata"]["name"] == name), None)


def test_only_the_current_machine_set_remediates() -> None:
    """A flagged Machine of the MachineSet a rollout replaces is left for the rollout to remove."""
    plane = Plane(faults=Faults(failing_pools=[FailingPool(cluster="eu-1", pool="general", on_upgrade=True)]))
    plane.apply(manifests(small_fleet("eu-1")))
    assert plane.run(plane.settled("eu-1"), hours=1)
    old = _workers(plane)
    plane.apply(manifests(small_fleet("eu-1", version=NEW)))
    assert plane.run(lambda: any(m["spec"]["version"] == NEW for m in _workers(plane)), hours=2)
    _annotate(plane, old[0], REMEDIATE_MACHINE_ANNOTATION)
    plane.run(hours=0.1)
    flagged = _named(plane, old[0]["metadata"]["name"])
    assert flagged is not None and "deletionTimestamp" not in flagged["metadata"]
    assert (condition(flagged, "HealthCheckSucceeded") or {}).get("reason") == "HasRemediateAnnotation"
    assert _owner_remediated(flagged) == (
        "CannotBeRemediated",
        "Machine won't be remediated because it is pending removal due to rollout",
    )


def _with_max_in_flight(objects: list[Manifest], value: Any) -> list[Manifest]:
    for obj in objects:
        if obj["kind"] == "ClusterClass":
            for md_class in obj["spec"]["workers"]["machineDeployments"]:
                md_class.setdefault("healthCheck", {}).setdefault("remediation", {})["maxInFlight"] = value
    return objects


def test_remediation_takes_the_newest_first_within_max_in_flight() -> None:
    plane = Plane(faults=Faults(slow_deletions=[SlowDeletion(cluster="eu-1", pool="general", duration=600)]))
    plane.apply(_with_max_in_flight(manifests(small_fleet("eu-1")), 1))
    assert plane.run(plane.settled("eu-1"), hours=1)
    deployment = plane.one("MachineDeployment", cluster="eu-1")
    assert deployment["spec"]["remediation"] == {"maxInFlight": 1}
    check = next(
        c for c in plane.objects("MachineHealthCheck", cluster="eu-1") if "control-plane" not in str(c["spec"])
    )
    assert "maxInFlight" not in check["spec"].get("remediation", {})
    first_batch = {m["metadata"]["name"] for m in _workers(plane)}
    pairs: list[tuple[Manifest, Manifest]] = []
    for replaced in range(1, len(first_batch)):  # replace old Machines until a newer one sorts after an older one
        old = [m for m in _workers(plane) if m["metadata"]["name"] in first_batch]
        _annotate(plane, max(old, key=lambda m: m["metadata"]["name"]), REMEDIATE_MACHINE_ANNOTATION)  # replaced

        def replacements_started(count: int = replaced) -> bool:
            return len(first_batch - {m["metadata"]["name"] for m in _workers(plane)}) == count

        assert plane.run(replacements_started, hours=1)
        assert plane.run(plane.settled("eu-1"), hours=1)
        workers = _workers(plane)
        pairs = [
            (o, n)
            for n in workers
            if n["metadata"]["name"] not in first_batch
            for o in workers
            if o["metadata"]["name"] in first_batch and o["metadata"]["name"] < n["metadata"]["name"]
        ]
        if pairs:
            break
    assert pairs, "every replacement sorted before every older Machine: the test cannot tell age from name"
    older, newer = pairs[0]
    assert older["metadata"]["creationTimestamp"] < newer["metadata"]["creationTimestamp"]
    assert older["metadata"]["name"] < newer["metadata"]["name"]  # by name alone the older one would go first
    for machine in (older, newer):
        _annotate(plane, machine, REMEDIATE_MACHINE_ANNOTATION)
    plane.run(hours=0.05)
    first, second = _named(plane, newer["metadata"]["name"]), _named(plane, older["metadata"]["name"])
    assert first is not None and "deletionTimestamp" in first["metadata"]
    assert _owner_remediated(first) == ("MachineDeleting", "Machine is deleting")
    assert second is not None and "deletionTimestamp" not in second["metadata"]
    assert _owner_remediated(second) == (
        "RemediationDeferred",
        "Waiting because there are already too many remediations in progress "
        "(spec.strategy.remediation.maxInFlight is 1)",
    )
    assert plane.run(lambda: _named(plane, older["metadata"]["name"]) is None, hours=1)  # its turn came


def test_preflight_checks_hold_a_scale_up_while_the_control_plane_upgrades() -> None:
    plane = Plane(faults=Faults(slow_boots=[SlowBoot(cluster="eu-1", pool="control-plane", duration=400, version=NEW)]))
    plane.apply(manifests(small_fleet("eu-1")))
    assert plane.run(plane.settled("eu-1"), hours=1)
    more = {"general": {"size": "large", "replicas": 4}}
    plane.apply(manifests(small_fleet("eu-1", version=NEW, workers=more)))
    messages: list[str] = []

    def blocked() -> bool:
        for machine_set in plane.objects("MachineSet", cluster="eu-1"):
            found = condition(machine_set, "ScalingUp")
            if found is not None and "is blocked because" in found["message"]:
                messages.append(found["message"])
        return bool(messages)

    assert plane.run(blocked, hours=1)
    kcp = plane.kcp("eu-1")
    ref = f"KubeadmControlPlane {kcp['metadata']['namespace']}/{kcp['metadata']['name']}"
    assert messages[0].startswith("Scaling up from 3 to 4 replicas is blocked because:\n")
    assert f'* {ref} is upgrading ("ControlPlaneIsStable" preflight check failed)' in messages[0]
    assert '"KubeadmVersionSkew" preflight check failed' in messages[0]
    assert len(_workers(plane)) == 3  # no Machine created while the control plane upgrades
    assert not plane.crd_violations()
    assert plane.run(plane.settled("eu-1"), hours=3)
    assert len(_workers(plane)) == 4


def test_the_health_check_skips_paused_and_skip_remediation_machines() -> None:
    plane = Plane()
    plane.apply(manifests(small_fleet("eu-1")))
    assert plane.run(plane.settled("eu-1"), hours=1)
    skipped, paused = _workers(plane)[:2]
    _annotate(plane, skipped, SKIP_REMEDIATION_ANNOTATION, REMEDIATE_MACHINE_ANNOTATION)
    _annotate(plane, paused, "cluster.x-k8s.io/paused", REMEDIATE_MACHINE_ANNOTATION)
    plane.run(hours=0.1)
    check = next(
        c for c in plane.objects("MachineHealthCheck", cluster="eu-1") if "control-plane" not in str(c["spec"])
    )
    assert check["status"]["expectedMachines"] == 1
    for machine in (skipped, paused):
        assert machine["metadata"]["name"] not in check["status"]["targets"]
        current = _named(plane, machine["metadata"]["name"])
        assert current is not None and "deletionTimestamp" not in current["metadata"]


def test_kcp_scales_down_the_machine_marked_for_deletion_first() -> None:
    plane = Plane()
    plane.apply(manifests(small_fleet("eu-1")))
    assert plane.run(plane.settled("eu-1"), hours=1)
    old = sorted(plane.machines("eu-1", control_plane=True), key=lambda m: m["metadata"]["creationTimestamp"])
    marked = old[-1]["metadata"]["name"]  # the newest: without the annotation the oldest would go first
    _annotate(plane, old[-1], DELETE_MACHINE_ANNOTATION)
    plane.apply(manifests(small_fleet("eu-1", version=NEW)))
    deleted: list[str] = []

    def watch() -> bool:
        deleted.extend(
            m["metadata"]["name"]
            for m in plane.machines("eu-1", control_plane=True)
            if "deletionTimestamp" in m["metadata"] and m["metadata"]["name"] not in deleted
        )
        return plane.healthy("eu-1")

    assert plane.run(watch, hours=2)
    assert deleted[0] == marked


def test_a_control_plane_is_upgrading_only_while_its_spec_is_newer_than_a_reported_version() -> None:
    def state(spec: str, *reported: str) -> ControlPlaneState:
        versions = [{"replicas": 1, "version": v} for v in reported]
        return ControlPlaneState.of(
            {"spec": {"version": spec, "replicas": len(reported)}, "status": {"versions": versions}}
        )

    assert state(NEW, "v1.34.2", NEW).upgrading
    assert not state(NEW, NEW).upgrading
    assert not state(NEW, NEW, "v1.36.0").upgrading  # a newer reported version is not an upgrade in progress
    assert state(NEW).provisioning


def test_machine_set_deletion_order() -> None:
    def machine(name: str, created: str, *, healthy: bool = True, notes: tuple[str, ...] = ()) -> Manifest:
        status: dict[str, Any] = {"conditions": []}
        if healthy:
            status["nodeRef"] = {"name": name}
        return {
            "metadata": {
                "name": name,
                "creationTimestamp": f"2026-01-01T00:{created}:00Z",
                "annotations": dict.fromkeys(notes, ""),
            },
            "status": status,
        }

    machines = [
        machine("c", "01"),
        machine("a", "03"),
        machine("b", "02"),
        machine("z", "04", notes=(DELETE_MACHINE_ANNOTATION,)),
        machine("y", "05", healthy=False),
    ]

    def names(order: str) -> list[str]:
        now = 1767225600 + 7200.0  # 2026-01-01T02:00:00Z
        return [m["metadata"]["name"] for m in deletion_order({"spec": {"deletion": {"order": order}}}, machines, now)]

    assert names("Random") == ["z", "y", "a", "b", "c"]  # equal priorities: by name
    assert names("Oldest") == ["z", "y", "c", "b", "a"]
    assert names("Newest") == ["z", "y", "a", "b", "c"]
