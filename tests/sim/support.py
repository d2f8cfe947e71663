"""Helpers for behaviour tests of the simulated management plane, in virtual time.

:class:`Plane` wires a virtual clock, an embedded store, a manager and the simulated controllers; fleets are
compiled from :class:`tests.builders.FleetBuilder` or ``examples/fleet`` and applied with ``apply_objects``.
Status fixtures and CRDs are located through ``tests.upstream.reference``.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import yaml

from fleetc.core.keys import Manifest, ObjectKey
from fleetc.load.sources import DiskTree
from fleetc.render.compile import compile_fleet
from fleetc.render.crds import CrdSchemas
from fleetc.runtime.clock import EPOCH, VirtualClock
from fleetc.runtime.manager import Manager
from fleetc.runtime.memory import MemoryStore
from fleetc.runtime.store import Event
from fleetc.schema.validate import validate_tree
from fleetc.sim import Faults, InMemoryProvider, SimulatedPlane, apply_objects, install
from tests.builders import FleetBuilder, cluster_doc
from tests.upstream.reference import CAPI_CRDS, PROVIDER_CRDS, reference

REPO = Path(__file__).resolve().parents[2]
FIXTURES = reference().capi_status
EXAMPLE = REPO / "examples" / "fleet"
CAPI = "cluster.x-k8s.io"
KCP_GROUP = "controlplane.cluster.x-k8s.io"
HOUR = 3600.0


@cache
def crd_schemas() -> CrdSchemas:
    """CAPI's CRDs and every provider's (the example fleet uses AWS, Azure and vSphere templates)."""
    return CrdSchemas.load(reference().crds(*CAPI_CRDS, *PROVIDER_CRDS))


@cache
def fixture_objects(scenario: str) -> tuple[Manifest, ...]:
    """Every object of one status-fixture scenario folder."""
    folder = FIXTURES / scenario
    return tuple(yaml.safe_load(path.read_text()) for path in sorted(folder.glob("*.yaml")))


def fixture(scenario: str, kind: str, name_part: str = "") -> Manifest:
    """The first fixture object of a kind (whose name contains ``name_part``)."""
    for obj in fixture_objects(scenario):
        if obj["kind"] == kind and name_part in obj["metadata"]["name"]:
            return obj
    raise KeyError(f"no {kind} {name_part!r} in {scenario}")


def condition(obj: Manifest, condition_type: str) -> dict[str, Any] | None:
    """A condition of an object, or None."""
    for found in obj.get("status", {}).get("conditions", []):
        if found["type"] == condition_type:
            result: dict[str, Any] = found
            return result
    return None


def is_true(obj: Manifest, condition_type: str) -> bool:
    """The condition is True."""
    found = condition(obj, condition_type)
    return found is not None and found["status"] == "True"


def condition_types(obj: Manifest) -> list[str]:
    """The condition types of an object, in order."""
    return [c["type"] for c in obj.get("status", {}).get("conditions", [])]


def small_fleet(
    *clusters: str,
    version: str = "v1.34.2",
    workers: dict[str, Any] | None = None,
    control_plane: int = 3,
    health_check: dict[str, Any] | None = None,
) -> FleetBuilder:
    """A fleet of in-memory clusters of class ``standard`` (3 CP by default, pool ``general`` × 3)."""
    builder = FleetBuilder.minimal()
    builder.files["clusters.yaml"] = [
        cluster_doc(name, ring="canary", provider="local", version=version) for name in clusters or ("eu-1",)
    ]
    builder.set("ClusterClass", "standard", "spec.controlPlane.replicas", control_plane)
    builder.set("ClusterClass", "standard", "spec.workers", workers or {"general": {"size": "large", "replicas": 3}})
    if health_check is not None:
        builder.set("ClusterClass", "standard", "spec.healthCheck", health_check)
    return builder


def manifests(builder: FleetBuilder) -> list[Manifest]:
    """The compiled objects of a fleet (fails the test when the fleet is invalid)."""
    result = builder.validate()
    assert result.ok, "\n".join(map(str, result.diagnostics))
    assert result.fleet is not None
    return [copy.deepcopy(o.manifest) for o in compile_fleet(result.fleet).objects.values()]


def example_manifests() -> list[Manifest]:
    """The compiled objects of ``examples/fleet``."""
    result = validate_tree(DiskTree.open(EXAMPLE))
    assert result.ok, "\n".join(map(str, result.diagnostics))
    assert result.fleet is not None
    return [copy.deepcopy(o.manifest) for o in compile_fleet(result.fleet).objects.values()]


def with_kcp_remediation(objects: list[Manifest], remediation: dict[str, Any]) -> list[Manifest]:
    """Set ``remediation`` in every KubeadmControlPlaneTemplate (as the fixtures' ClusterClass does)."""
    for obj in objects:
        if obj["kind"] == "KubeadmControlPlaneTemplate":
            obj["spec"]["template"]["spec"]["remediation"] = remediation
    return objects


@dataclass
class Plane:
    """A simulated management plane in virtual time."""

    seed: int = 7
    faults: Faults = field(default_factory=Faults)
    clock: VirtualClock = field(default_factory=VirtualClock)
    events: list[tuple[float, Event]] = field(default_factory=list)
    record: bool = False
    absorb_own_writes: bool = True

    def __post_init__(self) -> None:
        self.store = MemoryStore(self.clock)
        self.manager = Manager(self.store, self.clock, absorb_own_writes=self.absorb_own_writes)
        self.provider = InMemoryProvider(seed=self.seed, faults=self.faults, start=self.clock.now())
        self.plane: SimulatedPlane = install(self.manager, self.provider, seed=self.seed)
        if self.record:
            self.store.watch(lambda event: self.events.append((self.clock.now(), event)))

    @property
    def elapsed(self) -> float:
        """Virtual seconds since the start."""
        return self.clock.now() - EPOCH

    def apply(self, objects: Iterable[Manifest]) -> None:
        """Server-side apply rendered objects."""
        apply_objects(self.store, objects)

    def run(self, until: Callable[[], bool] = lambda: False, *, hours: float = 6.0) -> bool:
        """Reconcile until ``until`` holds or the deadline (virtual hours from now) passes."""
        return self.manager.run(until, deadline=self.clock.now() + hours * HOUR)

    def objects(self, kind: str, group: str = CAPI, cluster: str | None = None) -> list[Manifest]:
        """Objects of a kind (of one cluster), read from the controllers' cache: read-only, no copies."""
        found = self.plane.cache.all((group, kind))
        if cluster is None:
            return found
        return [o for o in found if o["metadata"].get("labels", {}).get(f"{CAPI}/cluster-name") == cluster]

    def one(self, kind: str, group: str = CAPI, cluster: str | None = None) -> Manifest:
        """The one object of a kind (of one cluster)."""
        found = self.objects(kind, group, cluster)
        assert len(found) == 1, [o["metadata"]["name"] for o in found]
        return found[0]

    def cluster(self, name: str) -> Manifest:
        """A Cluster by name."""
        return next(c for c in self.objects("Cluster") if c["metadata"]["name"] == name)

    def get(self, key: ObjectKey) -> Manifest | None:
        """An object by key (read-only)."""
        return self.plane.cache.find(key)

    def kcp(self, cluster: str) -> Manifest:
        """The KubeadmControlPlane of a cluster."""
        return self.one("KubeadmControlPlane", KCP_GROUP, cluster)

    def machines(self, cluster: str, *, control_plane: bool | None = None) -> list[Manifest]:
        """The Machines of a cluster (only control-plane or only worker ones)."""
        found = self.objects("Machine", cluster=cluster)
        if control_plane is None:
            return found
        return [m for m in found if (f"{CAPI}/control-plane" in m["metadata"]["labels"]) == control_plane]

    def settled(self, *clusters: str) -> Callable[[], bool]:
        """A condition: every named cluster is Available at its topology version with every Machine Ready."""

        def check() -> bool:
            return all(self.healthy(name) for name in clusters)

        return check

    def healthy(self, name: str) -> bool:
        """Available, topology reconciled, every Machine Ready at the topology version, as many as the spec asks."""
        cluster = self.cluster(name)
        topology = cluster["spec"]["topology"]
        status = cluster.get("status", {})
        machines = self.machines(name)
        pools = topology.get("workers", {}).get("machineDeployments", [])
        if any("replicas" not in pool for pool in pools):
            workers = status.get("workers", {}).get("desiredReplicas", -1)
        else:
            workers = sum(pool["replicas"] for pool in pools)
        control_plane = topology["controlPlane"]["replicas"]
        return (
            status.get("observedGeneration") == cluster["metadata"]["generation"]
            and is_true(cluster, "Available")
            and is_true(cluster, "TopologyReconciled")
            and len(machines) == control_plane + workers
            and all(is_true(m, "Ready") and m["spec"]["version"] == topology["version"] for m in machines)
            and status.get("controlPlane", {}).get("versions")
            == [{"replicas": control_plane, "version": topology["version"]}]
        )

    def everything(self) -> list[Manifest]:
        """Every object in the store (read-only)."""
        objects: list[Manifest] = self.store.snapshot()["objects"]
        return objects

    def crd_violations(self) -> list[str]:
        """Every CAPI/provider object that breaks its real CRD schema (core kinds such as Namespace are skipped)."""
        schemas = crd_schemas()
        problems = []
        for obj in self.everything():
            if "/" not in obj["apiVersion"]:
                continue
            where = f"{obj['kind']} {obj['metadata']['name']}"
            if not schemas.knows(obj):
                problems.append(f"{where}: no CRD")
            problems += [f"{where}: {v}" for v in schemas.violations(obj)]
        return problems

    def events_of(self, kind: str, *types: str) -> list[tuple[float, Event]]:
        """Recorded events of a kind (of some types)."""
        return [(t, e) for t, e in self.events if e.key.kind == kind and (not types or e.type in types)]
