"""fleetc's CRDs on a real API server: accepted, and every rollout object fleetc writes (spec and status) is stored
exactly as written (nothing pruned by the schema), while objects the schema forbids are rejected."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from fleetc.core.errors import StoreError
from fleetc.core.keys import ObjectKey
from fleetc.engine import local
from fleetc.load.sources import DiskTree
from fleetc.render.compile import compile_fleet
from fleetc.rollout import crds, plan_rollout
from fleetc.rollout.model import CLUSTER_ROLLOUT, FLEET_REVISION, FLEET_ROLLOUT, GROUP
from fleetc.schema.validate import validate_tree
from fleetc.sim.faults import Faults
from tests.kube.fleetc_api import install_fleetc_crds
from tests.kube.support import KubeApi, store_on

REPO = Path(__file__).resolve().parents[2]
EXAMPLE = REPO / "examples" / "fleet"
CANARY = "sim-canary-1"


def _simulated_objects() -> dict[str, list[dict[str, Any]]]:
    """Every fleetc.io object of a simulated rollout of the example fleet that halts (so each status field is set:
    events, failures, halt reason, timeline), by kind."""
    fleet = validate_tree(DiskTree.open(EXAMPLE)).fleet
    assert fleet is not None
    plan = plan_rollout(compile_fleet(fleet))
    plane = local.open_plane(faults=Faults.from_flags(fail_control_plane=(CANARY,)))
    view = local.roll_out(plane, plan)
    assert view.halted
    return {kind: plane.store.list(GROUP, kind) for kind in (FLEET_ROLLOUT, CLUSTER_ROLLOUT, FLEET_REVISION)}


def _fresh(obj: dict[str, Any], namespace: str, owner_uid: str | None) -> dict[str, Any]:
    meta = obj["metadata"]
    metadata: dict[str, Any] = {"name": meta["name"], "namespace": namespace, "labels": meta.get("labels", {})}
    if meta.get("ownerReferences") and owner_uid is not None:
        metadata["ownerReferences"] = [{**ref, "uid": owner_uid} for ref in meta["ownerReferences"]]
    return {k: v for k, v in obj.items() if k not in ("metadata", "status")} | {"metadata": metadata}


def test_the_api_server_accepts_the_crds_with_columns_and_short_names(kube_api: KubeApi) -> None:
    names = install_fleetc_crds(kube_api)
    expected = [f"customresourcedefinition.apiextensions.k8s.io/{r}.{GROUP}" for r in crds.resources()]
    assert sorted(names) == sorted(expected)
    resources = kube_api.kubectl("api-resources", "--api-group", GROUP, "-o", "wide").stdout
    for short in ("fro", "cro", "frev"):
        assert f" {short}" in resources or f",{short}" in resources
    assert "fleetc" in resources  # the category


def test_every_object_fleetc_writes_is_stored_as_written(kube_api: KubeApi, kube_namespace: str) -> None:
    install_fleetc_crds(kube_api)
    by_kind = _simulated_objects()
    store = store_on(kube_api, kube_namespace)
    try:
        [rollout_obj] = by_kind[FLEET_ROLLOUT]
        created = store.create(_fresh(rollout_obj, kube_namespace, None))
        owner = created["metadata"]["uid"]
        written = [(rollout_obj, created)]
        for kind in (CLUSTER_ROLLOUT, FLEET_REVISION):
            written += [(obj, store.create(_fresh(obj, kube_namespace, owner))) for obj in by_kind[kind]]
        statuses = 0
        for original, live in written:
            if "status" in original:
                store.update_status({**live, "status": original["status"]})
                statuses += 1
        states = {o["status"]["state"] for o in by_kind[CLUSTER_ROLLOUT] if "status" in o}
        assert statuses == 1 + sum("status" in o for o in by_kind[CLUSTER_ROLLOUT]) and "Failed" in states
        for original, _ in written:
            stored = store.read(ObjectKey(GROUP, original["kind"], kube_namespace, original["metadata"]["name"]))
            assert stored["spec"] == original["spec"], original["metadata"]["name"]
            assert stored.get("status") == original.get("status"), original["metadata"]["name"]
    finally:
        store.close()
    table = kube_api.kubectl("get", "fro", "-n", kube_namespace).stdout.splitlines()
    assert table[0].split() == ["NAME", "PHASE", "WAVE", "PROGRESS", "AGE"]
    succeeded = sum(o.get("status", {}).get("state") == "Succeeded" for o in by_kind[CLUSTER_ROLLOUT])
    assert table[1].split()[1:4] == ["Halted", "canary", f"{succeeded}/{len(by_kind[CLUSTER_ROLLOUT])}"]
    clusters = kube_api.kubectl("get", "cro", "-n", kube_namespace).stdout
    assert f"{CANARY} " in clusters and "Failed" in clusters


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda o: o["spec"].pop("revision"), "spec.revision: Required value"),
        (lambda o: o["spec"]["waves"][0].update(size="three"), "spec.waves[0].size: Invalid value"),
    ],
    ids=["missing-revision", "wrong-type"],
)
def test_the_schema_rejects_what_the_model_rejects(
    kube_api: KubeApi, kube_namespace: str, change: Any, message: str
) -> None:
    install_fleetc_crds(kube_api)
    [rollout_obj] = _simulated_objects()[FLEET_ROLLOUT]
    obj = _fresh(rollout_obj, kube_namespace, None)
    change(obj)
    store = store_on(kube_api, kube_namespace)
    try:
        with pytest.raises(StoreError) as raised:
            store.create(obj)
        assert message in str(raised.value)
    finally:
        store.close()


def test_a_status_phase_outside_the_enum_is_rejected(kube_api: KubeApi, kube_namespace: str) -> None:
    install_fleetc_crds(kube_api)
    [rollout_obj] = _simulated_objects()[FLEET_ROLLOUT]
    store = store_on(kube_api, kube_namespace)
    try:
        created = store.create(_fresh(rollout_obj, kube_namespace, None))
        with pytest.raises(StoreError) as raised:
            store.update_status({**created, "status": {**rollout_obj["status"], "phase": "Exploded"}})
        assert "status.phase: Unsupported value" in str(raised.value)
    finally:
        store.close()
