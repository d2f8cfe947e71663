"""Driving fleetc's rollout controller over a KubeStore while real CAPI builds and upgrades the clusters.

Until ``fleetc apply --kubeconfig`` exists, tests compose what the Kubernetes engine will: a
:class:`~fleetc.runtime.kube.KubeStore` on the test API server, a :class:`~fleetc.runtime.manager.Manager` on a real
clock, and the :class:`~fleetc.rollout.controller.RolloutController` applying through the store (the same
composition as ``tests/kube/test_deletion.py``). CAPI v1.14's managers (the ``capi`` fixture) do the rest.
Used by ``tests/capi/test_lifecycle.py``.
"""

from __future__ import annotations

import copy
import dataclasses
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from fleetc import rollout
from fleetc.core.keys import ObjectKey
from fleetc.render.compile import compile_fleet
from fleetc.rollout import RolloutPlan, RolloutView
from fleetc.rollout.controller import RolloutController
from fleetc.rollout.model import GROUP
from fleetc.runtime.clock import RealClock
from fleetc.runtime.describe import describe
from fleetc.runtime.kube import KubeStore, connect
from fleetc.runtime.manager import Manager
from fleetc.schema.model import Fleet
from tests.builders import API, FleetBuilder, cluster_doc
from tests.upstream.apiserver import KubeApi

KINDS = (("FleetRollout", "fleetrollouts"), ("ClusterRollout", "clusterrollouts"), ("FleetRevision", "fleetrevisions"))


def install_rollout_crds(api: KubeApi) -> None:
    """Schemaless CRDs for fleetc's rollout kinds unless the server has them (``fleetc install`` has real ones)."""
    for kind, plural in KINDS:
        if api.kubectl("get", "crd", f"{plural}.{GROUP}", check=False).returncode == 0:
            continue
        version = {
            "name": "v1alpha1",
            "served": True,
            "storage": True,
            "subresources": {"status": {}},
            "schema": {"openAPIV3Schema": {"type": "object", "x-kubernetes-preserve-unknown-fields": True}},
        }
        names = {"kind": kind, "plural": plural, "singular": kind.lower(), "listKind": f"{kind}List"}
        crd = {
            "apiVersion": "apiextensions.k8s.io/v1",
            "kind": "CustomResourceDefinition",
            "metadata": {"name": f"{plural}.{GROUP}"},
            "spec": {"group": GROUP, "scope": "Namespaced", "names": names, "versions": [version]},
        }
        api.kubectl("apply", "--server-side", "-f", "-", input=json.dumps(crd))
        api.kubectl("wait", "--for=condition=Established", "--timeout=60s", f"crd/{plural}.{GROUP}")


def small_fleet(namespace: str, clusters: dict[str, str], *, deadline: str = "5m") -> FleetBuilder:
    """A dev-inmemory fleet: clusters by name -> ring (``canary`` or ``broad``), 1 control-plane machine + 1 worker."""
    fleet = FleetBuilder.minimal().set("Fleet", None, "spec.namespace", namespace)
    waves = fleet.doc("Fleet")["spec"]["rollout"]["waves"]
    for wave in waves:
        wave.update({"controlPlaneDeadline": deadline, "soak": "0s", "maxConcurrent": 1})
    fleet.set("ClusterClass", "standard", "spec.controlPlane", {"replicas": 1, "size": "medium"})
    fleet.set("ClusterClass", "standard", "spec.workers", {"general": {"size": "large", "replicas": 1}})
    fleet.files["providers.yaml"] = [{"apiVersion": API, "kind": "Provider", "metadata": {"name": "local"},
                                      "spec": {"type": "dev-inmemory"}}]  # fmt: skip
    fleet.files["clusters.yaml"] = [cluster_doc(name, ring=ring, provider="local") for name, ring in clusters.items()]
    return fleet


def valid(fleet: FleetBuilder) -> Fleet:
    """The validated fleet (fails the test when it is not valid)."""
    result = fleet.validate()
    assert result.ok and result.fleet is not None, "\n".join(map(str, result.diagnostics))
    return result.fleet


def plan_of(fleet: Fleet) -> RolloutPlan:
    """The rollout plan of a fleet's compiled revision."""
    return rollout.plan_rollout(compile_fleet(fleet))


def slow_control_plane(plan: RolloutPlan, provider: str, startup: str) -> RolloutPlan:
    """The plan with the in-memory VMs of ``provider``'s control-plane template taking ``startup`` to boot
    (fault injection: fleetc has no setting for it, the DevMachineTemplate does)."""
    prerequisites = []
    for original in plan.prerequisites:
        name, manifest = original["metadata"]["name"], copy.deepcopy(original)
        if manifest["kind"] == "DevMachineTemplate" and f"-{provider}-" in name and name.endswith("-control-plane"):
            vm = manifest["spec"]["template"]["spec"]["backend"]["inMemory"]["vm"]
            vm["provisioning"] = {"startupDuration": startup, "startupJitter": "0"}
        prerequisites.append(manifest)
    assert prerequisites != list(plan.prerequisites), f"no control-plane DevMachineTemplate of provider {provider}"
    return dataclasses.replace(plan, prerequisites=tuple(prerequisites))


@dataclass
class Driver:
    """fleetc's rollout controller on a real API server."""

    store: KubeStore
    clock: RealClock = field(default_factory=RealClock)
    manager: Manager = field(init=False)

    def __post_init__(self) -> None:
        self.manager = Manager(self.store, self.clock)
        controller = RolloutController(
            self.store,
            self.clock,
            rollout.store_applier(self.store),
            enqueue=lambda key: self.manager.enqueue(rollout.NAME, key),
        )
        self.manager.add(controller)

    @classmethod
    def on(cls, api: KubeApi, namespace: str) -> Driver:
        """A driver whose informers watch one namespace."""
        return cls(connect(api.kubeconfig, api.context, namespace=namespace))

    def roll_out(self, fleet: Fleet, timeout: float, during: Callable[[], None] = lambda: None) -> RolloutView:
        """Submit the fleet's compiled revision and reconcile until the rollout completes or halts."""
        return self.run(self.submit(plan_of(fleet)), timeout, during)

    def submit(self, plan: RolloutPlan) -> ObjectKey:
        """Submit a rollout plan; its FleetRollout's key."""
        return rollout.submit(self.store, plan)

    def run(self, key: ObjectKey, timeout: float, during: Callable[[], None] = lambda: None) -> RolloutView:
        """Reconcile until the rollout settles (``during`` runs between steps); its view."""

        def settled() -> bool:
            during()
            return rollout.settled(self.store, key)

        started = time.monotonic()
        assert self.manager.run(settled, deadline=self.clock.now() + timeout), (
            f"rollout not settled after {time.monotonic() - started:.0f} s: {rollout.read_rollout(self.store, key)}"
        )
        view = rollout.read_rollout(self.store, key)
        assert view is not None
        return view

    def tree(self, namespace: str, cluster: str) -> str:
        """``fleetc status CLUSTER``'s tree of one cluster's real CAPI objects, as text."""
        found = rollout.cluster_objects(self.store, namespace, cluster)
        objects = [*([found.cluster] if found.cluster else []), *found.control_planes,
                   *found.machine_deployments, *found.machines]  # fmt: skip
        rows = describe(objects, self.clock.now())
        return "\n".join(" | ".join((r.name, r.replicas, r.available, r.status, r.reason)) for r in rows)

    def close(self) -> None:
        """Stop the store's informers."""
        self.store.close()


def live(api: KubeApi, kind: str, namespace: str) -> list[dict[str, Any]]:
    """Every object of a CAPI kind in a namespace, read with kubectl (not through fleetc)."""
    items: list[dict[str, Any]] = json.loads(api.kubectl("get", kind, "-n", namespace, "-o", "json").stdout)["items"]
    return items
