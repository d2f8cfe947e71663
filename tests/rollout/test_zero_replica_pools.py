"""A pool scaled to zero (an autoscaled pool at its minimum of 0, such as a GPU pool) rolls out like any other.

CAPI v1.14 reports no ``status.versions`` for a MachineDeployment without Machines; the gate used to want
``[vX: 0]`` there, so every cluster with such a pool stayed progressing until its progress deadline failed it and a
healthy fleet halted (found running ``fleetc simulate`` on a synthetic fleet).
"""

from __future__ import annotations

from fleetc.contract.vocabulary import CAPI_GROUP, TOPOLOGY_DEPLOYMENT_LABEL
from fleetc.engine import local
from fleetc.render.compile import compile_fleet
from fleetc.rollout import Phase, plan_rollout
from tests.builders import FleetBuilder, cluster_doc


def test_a_fleet_whose_pool_is_scaled_to_zero_completes() -> None:
    builder = FleetBuilder.minimal()
    builder.set("ClusterClass", "standard", "spec.workers.gpu", {"size": "large", "autoscaling": {"min": 0, "max": 4}})
    builder.files["clusters.yaml"] = [
        cluster_doc("eu-1", ring="canary", provider="local"),
        cluster_doc("eu-2", provider="local"),
    ]
    result = builder.validate()
    assert result.fleet is not None, result.diagnostics
    plane = local.open_plane()

    view = local.roll_out(plane, plan_rollout(compile_fleet(result.fleet)))

    assert view.phase is Phase.COMPLETE, view.halt_reason
    pools = [
        deployment
        for deployment in plane.store.list(CAPI_GROUP, "MachineDeployment")
        if deployment["metadata"]["labels"].get(TOPOLOGY_DEPLOYMENT_LABEL) == "gpu"
    ]
    assert len(pools) == 2
    assert all(pool["spec"]["replicas"] == 0 and not pool["status"].get("versions") for pool in pools)
