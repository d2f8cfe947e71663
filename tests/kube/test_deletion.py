"""Clusters that left the spec, over the real API server: the rollout controller on a KubeStore orphans or deletes.

No CAPI controllers run here: the test plays CAPI's part in a deletion (a finalizer on the Cluster that it removes
once the Cluster is being deleted, as CAPI does after deleting the machines). The plan has no cluster left, so the
rollout consists of its removals only and completes without any health gate.
"""

from __future__ import annotations

import json

import pytest

from fleetc import rollout
from fleetc.core.errors import DeletionNotAllowedError
from fleetc.core.keys import ObjectKey
from fleetc.render.names import DECOMMISSION_ANNOTATION, FLEET_LABEL, WAVE_LABEL
from fleetc.rollout import RolloutPlan, WaveSpec
from fleetc.rollout.controller import RolloutController
from fleetc.rollout.model import GROUP
from fleetc.runtime.clock import RealClock
from fleetc.runtime.kube import KubeStore
from fleetc.runtime.manager import Manager
from tests.kube.support import CAPI, KubeApi, cluster, store_on

FLEET = "acme"
CAPI_FINALIZER = "test.fleetc.io/machines"
KINDS = (("FleetRollout", "fleetrollouts"), ("ClusterRollout", "clusterrollouts"), ("FleetRevision", "fleetrevisions"))


def _rollout_crds(api: KubeApi) -> None:
    """Minimal CRDs for fleetc's rollout kinds unless the server has them (``fleetc install`` ships the real ones)."""
    for kind, plural in KINDS:
        if api.kubectl("get", "crd", f"{plural}.{GROUP}", check=False).returncode == 0:
            continue
        crd = {
            "apiVersion": "apiextensions.k8s.io/v1",
            "kind": "CustomResourceDefinition",
            "metadata": {"name": f"{plural}.{GROUP}"},
            "spec": {
                "group": GROUP,
                "scope": "Namespaced",
                "names": {"kind": kind, "plural": plural, "singular": kind.lower(), "listKind": f"{kind}List"},
                "versions": [
                    {
                        "name": "v1alpha1",
                        "served": True,
                        "storage": True,
                        "subresources": {"status": {}},
                        "schema": {"openAPIV3Schema": {"type": "object", "x-kubernetes-preserve-unknown-fields": True}},
                    }
                ],
            },
        }
        api.kubectl("apply", "--server-side", "-f", "-", input=json.dumps(crd))
        api.kubectl("wait", "--for=condition=Established", "--timeout=60s", f"crd/{plural}.{GROUP}")


def _plan(namespace: str, revision: str) -> RolloutPlan:
    """A revision of the fleet with no cluster left in it (one wave)."""
    wave = WaveSpec(
        name="canary", size=0, max_concurrent=1, soak_seconds=0, control_plane_deadline_seconds=600, failure_budget=0
    )
    return RolloutPlan(FLEET, namespace, revision, (wave,), (), ())


def _live_cluster(store: KubeStore, namespace: str, name: str, *, marked: bool) -> None:
    manifest = cluster(
        namespace,
        name,
        topology={"version": "v1.34.2", "classRef": {"name": "standard"}, "controlPlane": {"replicas": 3}},
    )
    manifest["metadata"]["labels"] = {FLEET_LABEL: FLEET, WAVE_LABEL: "canary"}
    manifest["metadata"]["finalizers"] = [CAPI_FINALIZER]
    if marked:
        manifest["metadata"]["annotations"] = {DECOMMISSION_ANNOTATION: "true"}
    store.create(manifest)


def _key(namespace: str, name: str) -> ObjectKey:
    return ObjectKey(CAPI, "Cluster", namespace, name)


def _play_capi(store: KubeStore, key: ObjectKey) -> None:
    """CAPI's part: once the Cluster is being deleted (its machines gone), drop the finalizer."""
    live = store.find(key)
    if live is not None and live["metadata"].get("deletionTimestamp") and live["metadata"].get("finalizers"):
        store.update({**live, "metadata": {**live["metadata"], "finalizers": []}})


def test_a_rollout_over_the_api_server_orphans_the_unmarked_and_deletes_the_marked_cluster(
    kube_api: KubeApi, kube_namespace: str
) -> None:
    _rollout_crds(kube_api)
    store = store_on(kube_api, kube_namespace)
    try:
        _live_cluster(store, kube_namespace, "old-1", marked=False)
        _live_cluster(store, kube_namespace, "old-2", marked=True)
        plan = _plan(kube_namespace, "r2")

        with pytest.raises(DeletionNotAllowedError, match=f"{kube_namespace}/old-2"):
            rollout.submit(store, plan)
        assert store.list(GROUP, "FleetRollout", kube_namespace) == []

        clock = RealClock()
        manager = Manager(store, clock)
        # Not rollout.install: it also registers the verdict checks, keyed by a kind no API server serves (on main a
        # KubeStore cannot inform on it; the Kubernetes engine composes the controller itself). Checks run at once.
        controller = RolloutController(
            store, clock, rollout.store_applier(store), enqueue=lambda k: manager.enqueue(rollout.NAME, k)
        )
        manager.add(controller)
        key = rollout.submit(store, plan, allow_delete=True)

        def done() -> bool:
            _play_capi(store, _key(kube_namespace, "old-2"))
            return rollout.settled(store, key)

        assert manager.run(done, deadline=clock.now() + 60)
        view = rollout.read_rollout(store, key)
        assert view is not None and view.phase == "Complete"
        assert store.find(_key(kube_namespace, "old-2")) is None
        orphan = store.get(_key(kube_namespace, "old-1"))
        assert "deletionTimestamp" not in orphan["metadata"] and FLEET_LABEL not in orphan["metadata"]["labels"]
        kinds = {(e.cluster, e.type) for e in view.timeline}
        assert {("old-1", "ClusterOrphaned"), ("old-2", "ClusterDeleting"), ("old-2", "ClusterSucceeded")} <= kinds
    finally:
        store.close()
