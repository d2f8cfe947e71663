"""A whole simulated rollout through a real API server: fleetc's simulated CAPI controllers and its rollout
controller over the Kubernetes store (:func:`fleetc.engine.kube.open_simulated_plane`), every object in the server."""

from __future__ import annotations

from pathlib import Path

from fleetc.engine import kube as engine
from fleetc.load.sources import DiskTree
from fleetc.render.compile import compile_fleet
from fleetc.rollout import plan_rollout
from fleetc.schema.validate import validate_tree
from tests.kube.fleetc_api import ensure_fleetc_crds
from tests.kube.fleets import BROAD, CANARY, FLEET, write_fleet
from tests.kube.support import KubeApi, store_on


def test_a_simulated_rollout_runs_through_the_api_server(
    kube_api: KubeApi, kube_namespace: str, tmp_path: Path
) -> None:
    ensure_fleetc_crds(kube_api)
    fleet = validate_tree(DiskTree.open(write_fleet(tmp_path / "fleet", kube_namespace, deadline="60m"))).fleet
    assert fleet is not None
    plan = plan_rollout(compile_fleet(fleet))
    store = store_on(kube_api, kube_namespace)
    try:
        plane = engine.open_simulated_plane(store, speed=120.0)
        view = engine.roll_out(plane, plan, timeout=120)
    finally:
        store.close()
    assert str(view.phase) == "Complete", view
    assert {c.name: str(c.state) for c in view.clusters} == {n: "Succeeded" for n in (CANARY, *BROAD)}
    shown = kube_api.kubectl("get", "clusters,fleetrollouts,machines", "-n", kube_namespace).stdout
    assert all(name in shown for name in (CANARY, *BROAD, FLEET)) and "Complete" in shown
    machines = kube_api.kubectl("get", "machines", "-n", kube_namespace, "-o", "name").stdout.split()
    assert len(machines) == 3 * 6  # 3 control plane + 3 worker Machines per cluster, all written by the simulation
