"""Typed shapes and cheap accessors of the CAPI objects fleetc reads (Cluster, KubeadmControlPlane,
MachineDeployment, MachineSet, Machine, MachineHealthCheck).

The objects stay plain dicts (:data:`~fleetc.core.keys.Manifest`): the simulator reads them on hot paths and
wrapping each in a model would cost more than the rest of a reconcile. The :class:`~typing.TypedDict` shapes say
what fleetc relies on (``status.versions`` entries, ``metav1.Condition``, owner references), and the accessors
read them with CAPI's defaults. Callers: the gates, the simulator, ``fleetc status`` (describe) and plan.
"""

from __future__ import annotations

from typing import NotRequired, TypedDict

from fleetc.contract.vocabulary import CAPI_GROUP, CLUSTER_NAME_LABEL
from fleetc.core.keys import Manifest


class OwnerReference(TypedDict):
    """``metav1.OwnerReference``."""

    apiVersion: str
    kind: str
    name: str
    uid: str
    controller: NotRequired[bool]
    blockOwnerDeletion: NotRequired[bool]


class VersionCount(TypedDict):
    """One ``status.versions`` entry (KubeadmControlPlane, MachineDeployment, MachineSet; CAPI v1.14)."""

    version: str
    replicas: int


def name_of(obj: Manifest) -> str:
    """``metadata.name``."""
    name: str = obj["metadata"]["name"]
    return name


def labels(obj: Manifest) -> dict[str, str]:
    """``metadata.labels`` (empty when none, or when a tree read from disk holds something else)."""
    metadata = obj.get("metadata")
    if isinstance(metadata, dict):
        found = metadata.get("labels")
        if isinstance(found, dict):
            return found
    return {}


def annotations_of(obj: Manifest) -> dict[str, str]:
    """``metadata.annotations`` (empty when none)."""
    found: dict[str, str] = obj["metadata"].get("annotations", {})
    return found


def is_deleting(obj: Manifest) -> bool:
    """True when the object has a deletionTimestamp."""
    return "deletionTimestamp" in obj["metadata"]


def ref_group(api_version: str) -> str:
    """The group of an ``apiVersion`` (``cluster.x-k8s.io/v1beta2`` → ``cluster.x-k8s.io``)."""
    return api_version.rpartition("/")[0]


def is_capi_cluster(obj: Manifest) -> bool:
    """True for a ``cluster.x-k8s.io`` Cluster (not some other group's kind called Cluster)."""
    return obj.get("kind") == "Cluster" and ref_group(str(obj.get("apiVersion", ""))) == CAPI_GROUP


def cluster_name(obj: Manifest) -> str | None:
    """The workload cluster a CAPI object belongs to, by CAPI's rule.

    A Cluster is its own; any other object names it with the ``cluster.x-k8s.io/cluster-name`` label, which CAPI
    puts on everything it creates for a cluster; objects that carry ``spec.clusterName`` (Machine, MachineSet,
    MachineDeployment, MachineHealthCheck) name it there too; failing both, a Cluster owner reference
    (``util.GetOwnerCluster``). None when nothing names one.
    """
    metadata = obj["metadata"]
    if obj["kind"] == "Cluster" and obj["apiVersion"].startswith(f"{CAPI_GROUP}/"):
        own: str = metadata["name"]
        return own
    found = metadata.get("labels", {}).get(CLUSTER_NAME_LABEL)
    if not found:
        spec = obj.get("spec")
        found = spec.get("clusterName") if isinstance(spec, dict) else None
    if not found:
        found = next(
            (
                ref.get("name")
                for ref in metadata.get("ownerReferences", ())
                if ref.get("kind") == "Cluster" and ref_group(ref.get("apiVersion", "")) == CAPI_GROUP
            ),
            None,
        )
    return found if isinstance(found, str) and found else None


def cluster_name_kept(before: Manifest, after: Manifest) -> bool:
    """True when ``after``, a new version of ``before``, keeps everything :func:`cluster_name` reads: the very same
    labels, spec and owner references (a status write). Identity is enough where objects are replaced, never
    edited in place (the stores and caches); a False only means "look again"."""
    was, now = before["metadata"], after["metadata"]
    return (
        was.get("labels") is now.get("labels")
        and before.get("spec") is after.get("spec")
        and was.get("ownerReferences") is now.get("ownerReferences")
    )


def spec_version(obj: Manifest) -> str | None:
    """``spec.version`` (a Machine's or a KubeadmControlPlane's Kubernetes version)."""
    value = obj.get("spec", {}).get("version")
    return str(value) if value is not None else None


def status_versions(obj: Manifest) -> list[VersionCount]:
    """``status.versions``: how many replicas run each Kubernetes version (empty when not reported)."""
    return [
        {"version": str(v.get("version")), "replicas": int(v.get("replicas", 0))}
        for v in obj.get("status", {}).get("versions") or []
    ]
