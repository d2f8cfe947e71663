"""Which workload cluster a CAPI object belongs to, and the status fields read through the contract."""

from __future__ import annotations

from typing import Any

from fleetc.contract.objects import cluster_name, labels, spec_version, status_versions
from fleetc.contract.vocabulary import CAPI_API, CLUSTER_NAME_LABEL, CONTROL_PLANE_API


def _obj(kind: str, api: str = CAPI_API, **extra: Any) -> dict[str, Any]:
    metadata = {"name": "x", "namespace": "ns", **extra.pop("metadata", {})}
    return {"apiVersion": api, "kind": kind, "metadata": metadata, **extra}


def test_a_cluster_is_its_own() -> None:
    assert cluster_name(_obj("Cluster", metadata={"name": "eu-1"})) == "eu-1"


def test_a_cluster_of_another_group_is_not_a_capi_cluster() -> None:
    assert cluster_name(_obj("Cluster", api="example.io/v1", metadata={"name": "eu-1"})) is None


def test_the_cluster_name_label_comes_first() -> None:
    machine = _obj("Machine", metadata={"labels": {CLUSTER_NAME_LABEL: "eu-1"}}, spec={"clusterName": "other"})
    assert cluster_name(machine) == "eu-1"


def test_spec_cluster_name_when_unlabelled_or_label_empty() -> None:
    assert cluster_name(_obj("MachineSet", spec={"clusterName": "eu-2"})) == "eu-2"
    empty_label = _obj("MachineSet", metadata={"labels": {CLUSTER_NAME_LABEL: ""}}, spec={"clusterName": "eu-2"})
    assert cluster_name(empty_label) == "eu-2"


def test_a_capi_cluster_owner_reference_as_last_resort() -> None:
    owners = [
        {"apiVersion": "example.io/v1", "kind": "Cluster", "name": "not-capi", "uid": "1"},
        {"apiVersion": CAPI_API, "kind": "Cluster", "name": "eu-3", "uid": "2"},
    ]
    assert cluster_name(_obj("KubeadmControlPlane", api=CONTROL_PLANE_API, metadata={"ownerReferences": owners})) == (
        "eu-3"
    )


def test_nothing_names_a_cluster() -> None:
    assert cluster_name(_obj("MachineDeployment", spec={})) is None


def test_labels_tolerate_odd_shapes() -> None:
    assert labels({"metadata": {"labels": None}}) == {}
    assert labels({"metadata": "oops"}) == {}
    assert labels({}) == {}


def test_status_versions_and_spec_version() -> None:
    kcp = _obj("KubeadmControlPlane", spec={"version": "v1.35.0"}, status={"versions": [{"version": "v1.34.2"}]})
    assert status_versions(kcp) == [{"version": "v1.34.2", "replicas": 0}]
    assert status_versions(_obj("MachineSet", status={"versions": None})) == []
    assert spec_version(kcp) == "v1.35.0"
    assert spec_version(_obj("Machine", spec={})) is None
