"""Names the simulated CAPI controllers share: API groups, labels, annotations, and small helpers.

Label and annotation keys are CAPI's (``api/core/v1beta2/common_types.go``, ``machine_types.go``,
``api/controlplane/kubeadm/v1beta2/kubeadm_control_plane_types.go``). Keys under ``sim.fleetc.io/`` are the
simulation's own: they record on a Machine what CAPI keeps in objects the simulation does not materialise
(the DevMachine and KubeadmConfig a Machine was cloned from, and the simulated boot schedule).

Random name suffixes follow ``internal/topology/names/names.go`` L30-34: 5 characters from the
``k8s.io/apimachinery/pkg/util/rand`` alphabet, here drawn from an RNG seeded by the simulation seed.
"""

from __future__ import annotations

import functools
import hashlib
import json
import random
from typing import Any

from fleetc.core.keys import Manifest, ObjectKey
from fleetc.plan.upgrade import parse
from fleetc.runtime.clock import parse_timestamp, timestamp

CAPI_GROUP = "cluster.x-k8s.io"
CAPI = f"{CAPI_GROUP}/v1beta2"
CONTROL_PLANE_GROUP = "controlplane.cluster.x-k8s.io"
CONTROL_PLANE_API = f"{CONTROL_PLANE_GROUP}/v1beta2"
BOOTSTRAP_GROUP = "bootstrap.cluster.x-k8s.io"

CLUSTER = (CAPI_GROUP, "Cluster")
CLUSTER_CLASS = (CAPI_GROUP, "ClusterClass")
MACHINE = (CAPI_GROUP, "Machine")
MACHINE_SET = (CAPI_GROUP, "MachineSet")
MACHINE_DEPLOYMENT = (CAPI_GROUP, "MachineDeployment")
MACHINE_HEALTH_CHECK = (CAPI_GROUP, "MachineHealthCheck")
KCP = (CONTROL_PLANE_GROUP, "KubeadmControlPlane")

CLUSTER_NAME_LABEL = "cluster.x-k8s.io/cluster-name"
CONTROL_PLANE_LABEL = "cluster.x-k8s.io/control-plane"
CONTROL_PLANE_NAME_LABEL = "cluster.x-k8s.io/control-plane-name"
DEPLOYMENT_NAME_LABEL = "cluster.x-k8s.io/deployment-name"
SET_NAME_LABEL = "cluster.x-k8s.io/set-name"
TEMPLATE_HASH_LABEL = "machine-template-hash"
TOPOLOGY_OWNED_LABEL = "topology.cluster.x-k8s.io/owned"
TOPOLOGY_DEPLOYMENT_LABEL = "topology.cluster.x-k8s.io/deployment-name"

CLONED_FROM_NAME = "cluster.x-k8s.io/cloned-from-name"
CLONED_FROM_GROUPKIND = "cluster.x-k8s.io/cloned-from-groupkind"
UPGRADE_CONCURRENCY = "topology.cluster.x-k8s.io/upgrade-concurrency"
UPGRADE_STEP = "topology.internal.cluster.x-k8s.io/upgrade-step"
DEFER_UPGRADE = "topology.cluster.x-k8s.io/defer-upgrade"
HOLD_UPGRADE_SEQUENCE = "topology.cluster.x-k8s.io/hold-upgrade-sequence"
AUTOSCALER_MIN = "cluster.x-k8s.io/cluster-api-autoscaler-node-group-min-size"
PRE_TERMINATE_KCP = "pre-terminate.delete.hook.machine.cluster.x-k8s.io/kcp-cleanup"
REMEDIATION_IN_PROGRESS = "controlplane.cluster.x-k8s.io/remediation-in-progress"
REMEDIATION_FOR = "controlplane.cluster.x-k8s.io/remediation-for"
MD_REVISION = "machinedeployment.clusters.x-k8s.io/revision"
MD_DESIRED_REPLICAS = "machinedeployment.clusters.x-k8s.io/desired-replicas"
MD_MAX_REPLICAS = "machinedeployment.clusters.x-k8s.io/max-replicas"
MS_DISABLE_CREATE = "machineset.cluster.x-k8s.io/disable-machine-create"

MACHINE_FINALIZER = "machine.cluster.x-k8s.io"
CLUSTER_FINALIZER = "cluster.cluster.x-k8s.io"

SIM = "sim.fleetc.io"
SIM_INFRA_TEMPLATE = f"{SIM}/infrastructure-template"
"""The infrastructure machine template a Machine was created from (CAPI: the DevMachine's cloned-from-name)."""
SIM_KUBEADM_CONFIG = f"{SIM}/kubeadm-config"
"""``init/<hash>`` or ``join/<hash>``: the KubeadmConfig a control-plane Machine was created with."""
SIM_VM_READY = f"{SIM}/vm-ready-at"
"""When the simulated VM is (or was) up, as the provider scheduled it."""
SIM_NODE_READY = f"{SIM}/node-ready-at"
"""When the simulated Node is (or was) up, or ``never``."""
NEVER = "never"

ALPHABET = "bcdfghjklmnpqrstvwxz2456789"
SUFFIX_LENGTH = 5


def key(group_kind: tuple[str, str], namespace: str, name: str) -> ObjectKey:
    """The key of an object of a (group, kind)."""
    return ObjectKey(group_kind[0], group_kind[1], namespace, name)


def random_suffix(seed: int, *parts: object) -> str:
    """Five characters from CAPI's alphabet, drawn from an RNG seeded by the simulation seed and ``parts``."""
    rng = random.Random(f"{seed}/" + "/".join(map(str, parts)))
    return "".join(rng.choice(ALPHABET) for _ in range(SUFFIX_LENGTH))


def content_hash(value: Any) -> str:
    """A short stable hash of plain data."""
    return hashlib.sha256(json.dumps(value, sort_keys=True, separators=(",", ":")).encode()).hexdigest()[:10]


@functools.lru_cache(maxsize=1024)
def version_key(version: str) -> tuple[int, int, int]:
    """A sort key for ``vX.Y.Z`` (unparsable versions sort first)."""
    return parse(version) or (0, 0, 0)


def minor_of(version: str) -> int:
    """The minor of ``vX.Y.Z``."""
    return version_key(version)[1]


def owner_reference(owner: Manifest, *, controller: bool = True) -> Manifest:
    """An ownerReference to ``owner`` (a controller reference unless ``controller`` is False)."""
    ref: Manifest = {
        "apiVersion": owner["apiVersion"],
        "kind": owner["kind"],
        "name": owner["metadata"]["name"],
        "uid": owner["metadata"]["uid"],
    }
    if controller:
        ref["blockOwnerDeletion"] = True
        ref["controller"] = True
    return ref


def labels(obj: Manifest) -> dict[str, str]:
    """The labels of an object (empty when none)."""
    found: dict[str, str] = obj["metadata"].get("labels", {})
    return found


def annotations_of(obj: Manifest) -> dict[str, str]:
    """The annotations of an object (empty when none)."""
    found: dict[str, str] = obj["metadata"].get("annotations", {})
    return found


def name_of(obj: Manifest) -> str:
    """``metadata.name``."""
    name: str = obj["metadata"]["name"]
    return name


def is_deleting(obj: Manifest) -> bool:
    """True when the object has a deletionTimestamp."""
    return "deletionTimestamp" in obj["metadata"]


def ref_group(api_version: str) -> str:
    """The group of an ``apiVersion``."""
    return api_version.rpartition("/")[0]


def go_duration(seconds: float) -> str:
    """Seconds as Go's ``time.Duration.String()`` writes them: ``10m0s``, ``1h0m0s``, ``30s``."""
    total = int(seconds)
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours}h{minutes}m{secs}s"
    if minutes:
        return f"{minutes}m{secs}s"
    return f"{secs}s"


@functools.lru_cache(maxsize=1 << 16)
def moment(text: str) -> float:
    """An RFC 3339 timestamp in seconds (cached: the same times are read over and over)."""
    return parse_timestamp(text)


@functools.lru_cache(maxsize=1 << 12)
def stamp(now: float) -> str:
    """Seconds as an RFC 3339 timestamp (cached)."""
    return timestamp(now)
