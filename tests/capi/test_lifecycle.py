"""A dev-inmemory fleet rolled out by fleetc while real CAPI v1.14 creates and upgrades it.

Two clusters (1 control-plane machine + 1 worker each) in two waves: the first rollout creates them, and the
gates see them become Available from CAPI's real status; a channel bump then upgrades them wave by wave, KCP
replacing the control-plane machine before the MachineDeployment replaces the worker.
"""

from __future__ import annotations

import time

from fleetc.contract.timestamps import parse_timestamp
from tests.capi.fidelity import cluster_seconds, decisions, simulate
from tests.capi.lifecycle import Driver, install_rollout_crds, live, plan_of, small_fleet, valid
from tests.upstream.capi_stack import Session

CP_LABEL = "cluster.x-k8s.io/control-plane"
TIMINGS: dict[str, float] = {}


def _order(view_timeline: tuple[object, ...], *pairs: tuple[str, str]) -> list[int]:
    found = []
    for cluster, kind in pairs:
        found.append(next(i for i, e in enumerate(view_timeline)
                          if getattr(e, "cluster", "") == cluster and getattr(e, "type", "") == kind))  # fmt: skip
    return found


def test_create_then_a_channel_bump_rolls_through_the_waves_with_real_capi(capi: Session, kube_namespace: str) -> None:
    install_rollout_crds(capi.api)
    fleet = small_fleet(kube_namespace, {"lc-canary": "canary", "lc-broad": "broad"})
    driver = Driver.on(capi.api, kube_namespace)
    try:
        plans = [plan_of(valid(fleet))]
        started = time.monotonic()
        created = driver.run(driver.submit(plans[0]), timeout=420)
        TIMINGS["create"] = time.monotonic() - started
        assert str(created.phase) == "Complete", created
        for obj in live(capi.api, "clusters.cluster.x-k8s.io", kube_namespace):
            conditions = {c["type"]: c["status"] for c in obj["status"]["conditions"]}
            assert conditions["Available"] == "True", obj["metadata"]["name"]
        types = [(e.cluster, e.type) for e in created.timeline]
        assert types.index(("lc-canary", "ClusterSucceeded")) < types.index(("lc-broad", "ClusterStarted")), types

        before = {m["metadata"]["name"] for m in live(capi.api, "machines.cluster.x-k8s.io", kube_namespace)}
        fleet.set("Fleet", None, "spec.versions.channels.stable", "v1.35.0")
        plans.append(plan_of(valid(fleet)))
        started = time.monotonic()
        upgraded = driver.run(driver.submit(plans[1]), timeout=600)
        TIMINGS["upgrade"] = time.monotonic() - started
        assert str(upgraded.phase) == "Complete", upgraded
        types = [(e.cluster, e.type) for e in upgraded.timeline]
        assert types.index(("lc-canary", "ClusterSucceeded")) < types.index(("lc-broad", "ClusterStarted")), types

        machines = live(capi.api, "machines.cluster.x-k8s.io", kube_namespace)
        assert {m["spec"]["version"] for m in machines} == {"v1.35.0"}
        assert not before & {m["metadata"]["name"] for m in machines}, "every machine was replaced"
        for cluster in ("lc-canary", "lc-broad"):
            own = [m for m in machines if m["spec"]["clusterName"] == cluster]
            control_plane = [m for m in own if CP_LABEL in m["metadata"]["labels"]]
            workers = [m for m in own if CP_LABEL not in m["metadata"]["labels"]]
            assert len(control_plane) == 1 and len(workers) == 1
            born = {m["metadata"]["name"]: parse_timestamp(m["metadata"]["creationTimestamp"]) for m in own}
            assert born[control_plane[0]["metadata"]["name"]] <= born[workers[0]["metadata"]["name"]]

        tree = driver.tree(kube_namespace, "lc-canary")
        assert all(m["metadata"]["name"] in tree for m in machines if m["spec"]["clusterName"] == "lc-canary"), tree
        print(f"lifecycle: create {TIMINGS['create']:.0f} s, upgrade {TIMINGS['upgrade']:.0f} s\n{tree}")

        # Fidelity: the simulation of the same two revisions makes the same decisions in the same order.
        simulated = simulate(plans)
        assert [decisions(v) for v in simulated] == [decisions(created), decisions(upgraded)]
        print(
            f"per cluster, real: {cluster_seconds(created)} then {cluster_seconds(upgraded)}; simulated: "
            f"{cluster_seconds(simulated[0])} then {cluster_seconds(simulated[1])}"
        )
    finally:
        driver.close()
