"""Deletion timeouts through CAPI v1.14's real topology controller: a class's and one cluster's own.

fleetc renders a class's ``nodeDrainTimeout``… into the ClusterClass's ``deletion`` and a cluster's own into its
Cluster's topology ``deletion``; CAPI merges the two field by field into the KubeadmControlPlane's and each
MachineDeployment's machine template. The real topology controller computes that here from ``fleetc``'s output, and
the simulation must compute the same (its machines are deleted by these values).
"""

from __future__ import annotations

import json
import time
from typing import Any

from fleetc.core.keys import Manifest
from tests.capi.lifecycle import small_fleet
from tests.sim.support import Plane, manifests
from tests.upstream.capi_stack import Session

KCP = "kubeadmcontrolplanes.controlplane.cluster.x-k8s.io"
MD = "machinedeployments.cluster.x-k8s.io"


def _applied(capi: Session, objects: list[Manifest]) -> None:
    listed = {"apiVersion": "v1", "kind": "List", "items": objects}
    capi.api.kubectl("apply", "--server-side", "--field-manager", "fleetc", "-f", "-", input=json.dumps(listed))


def _live(capi: Session, resource: str, namespace: str, timeout: float = 60.0) -> list[dict[str, Any]]:
    deadline = time.monotonic() + timeout
    while True:
        listed = json.loads(capi.api.kubectl("get", resource, "-n", namespace, "-o", "json").stdout)["items"]
        if listed or time.monotonic() > deadline:
            assert listed, f"CAPI made no {resource} in {timeout:.0f} s"
            return list(listed)
        time.sleep(0.5)


def test_capi_merges_a_cluster_s_own_timeouts_over_its_class_s_as_the_simulation_does(
    capi: Session, kube_namespace: str
) -> None:
    fleet = small_fleet(kube_namespace, {"dt-1": "canary"})
    fleet.set("ClusterClass", "standard", "spec.nodeDrainTimeout", "20m")
    fleet.set("ClusterClass", "standard", "spec.nodeVolumeDetachTimeout", "5m")
    fleet.set("Cluster", "dt-1", "spec.controlPlane", {"nodeDrainTimeout": "1h"})
    fleet.set("Cluster", "dt-1", "spec.workers", {"general": {"nodeDeletionTimeout": "30s"}})
    objects = manifests(fleet)
    _applied(capi, [o for o in objects if o["kind"] != "Namespace"])

    [kcp] = _live(capi, KCP, kube_namespace)
    [md] = _live(capi, MD, kube_namespace)
    real = (kcp["spec"]["machineTemplate"]["spec"]["deletion"], md["spec"]["template"]["spec"]["deletion"])

    plane = Plane()
    plane.apply(objects)
    assert plane.run(lambda: bool(plane.objects("MachineDeployment", cluster="dt-1")), hours=1)
    simulated_md = plane.one("MachineDeployment", cluster="dt-1")
    simulated = (plane.kcp("dt-1")["spec"]["machineTemplate"]["spec"]["deletion"],
                 simulated_md["spec"]["template"]["spec"]["deletion"])  # fmt: skip

    assert real == (
        {"nodeDrainTimeoutSeconds": 3600, "nodeVolumeDetachTimeoutSeconds": 300},
        {"nodeDrainTimeoutSeconds": 1200, "nodeVolumeDetachTimeoutSeconds": 300, "nodeDeletionTimeoutSeconds": 30},
    )
    assert simulated == real
