"""A canary whose control plane really fails to come up: fleetc halts on CAPI's own conditions, and resumes.

The canary runs on its own dev-inmemory provider whose control-plane VMs take an hour to boot (the in-memory
backend's provisioning time, set in the DevMachineTemplate), far beyond the wave's control-plane deadline. fleetc
must halt naming the cluster and what CAPI says about it, leave the later wave alone, and after the fault is
removed (the stuck DevMachine told to boot at once) complete with one ``rollout resume``.
"""

from __future__ import annotations

import json
import re
import time

from fleetc import rollout
from fleetc.sim.faults import ControlPlaneNeverReady, Faults
from tests.builders import API, cluster_doc
from tests.capi.fidelity import decisions, simulate
from tests.capi.lifecycle import Driver, install_rollout_crds, live, plan_of, slow_control_plane, small_fleet, valid
from tests.upstream.capi_stack import Session

TIMINGS: dict[str, float] = {}


def test_a_canary_whose_control_plane_never_boots_halts_the_rollout_until_resumed(
    capi: Session, kube_namespace: str
) -> None:
    install_rollout_crds(capi.api)
    fleet = small_fleet(kube_namespace, {"h-broad": "broad"}, deadline="60s")
    fleet.add("providers.yaml", {"apiVersion": API, "kind": "Provider", "metadata": {"name": "slow"},
                                 "spec": {"type": "dev-inmemory"}})  # fmt: skip
    fleet.add("clusters.yaml", cluster_doc("h-canary", ring="canary", provider="slow"))
    plan = slow_control_plane(plan_of(valid(fleet)), "slow", "1h")
    driver = Driver.on(capi.api, kube_namespace)
    try:
        started = time.monotonic()
        key = driver.submit(plan)
        halted = driver.run(key, timeout=300)
        TIMINGS["halt"] = time.monotonic() - started
        assert halted.halted, halted
        assert halted.halt_reason is not None and "h-canary" in halted.halt_reason, halted.halt_reason
        canary = next(c for c in halted.clusters if c.name == "h-canary")
        print(f"halt after {TIMINGS['halt']:.0f} s: {halted.halt_reason}\ncanary: {canary.reason}")
        # which object: the Cluster, its KubeadmControlPlane or a Machine, by name (on v1.14 today: the KCP)
        assert re.search(r"\b(Cluster|KubeadmControlPlane|Machine) h-canary", canary.reason), canary.reason
        names = {c["metadata"]["name"] for c in live(capi.api, "clusters.cluster.x-k8s.io", kube_namespace)}
        assert names == {"h-canary"}, "the broad wave was not touched"

        # Fidelity: the simulation with the canary's control plane never coming up halts with the same decisions.
        fault = Faults(control_plane_never_ready=[ControlPlaneNeverReady(cluster="h-canary", on_create=True)])
        (simulated,) = simulate([plan], fault)
        assert simulated.halted and decisions(simulated) == decisions(halted)
        assert simulated.halt_reason is not None and "h-canary" in simulated.halt_reason
        print(f"simulated halt: {simulated.halt_reason}")

        (stuck,) = [m for m in live(capi.api, "devmachines.infrastructure.cluster.x-k8s.io", kube_namespace)
                    if m["metadata"]["labels"].get("cluster.x-k8s.io/cluster-name") == "h-canary"
                    and "cluster.x-k8s.io/control-plane" in m["metadata"]["labels"]]  # fmt: skip
        boot_now = {"spec": {"backend": {"inMemory": {"vm": {"provisioning": {"startupDuration": "1s"}}}}}}
        capi.api.kubectl("patch", "devmachine.infrastructure.cluster.x-k8s.io", stuck["metadata"]["name"],
                         "-n", kube_namespace, "--type=merge", "-p", json.dumps(boot_now))  # fmt: skip
        started = time.monotonic()
        rollout.resume(driver.store, key)
        resumed = driver.run(key, timeout=420)
        TIMINGS["resume"] = time.monotonic() - started
        assert str(resumed.phase) == "Complete", resumed
        names = {c["metadata"]["name"] for c in live(capi.api, "clusters.cluster.x-k8s.io", kube_namespace)}
        assert names == {"h-canary", "h-broad"}
        print(f"resumed to Complete in {TIMINGS['resume']:.0f} s")
    finally:
        driver.close()
