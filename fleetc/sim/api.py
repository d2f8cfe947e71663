"""Names and small helpers the simulated CAPI controllers share (CAPI's own names are in :mod:`fleetc.contract`).

Keys under ``sim.fleetc.io/`` are the simulation's own: they record on a Machine what CAPI keeps in objects the
simulation does not materialise (the DevMachine and KubeadmConfig a Machine was cloned from, and the simulated
boot schedule).

Random name suffixes follow ``internal/topology/names/names.go`` L30-34: 5 characters from the
``k8s.io/apimachinery/pkg/util/rand`` alphabet, here drawn from an RNG seeded by the simulation seed.
"""

from __future__ import annotations

import functools
import hashlib
import json
import random
from typing import Any

from fleetc.contract.timestamps import parse_timestamp, timestamp
from fleetc.contract.vocabulary import GroupKind
from fleetc.core.keys import Manifest, ObjectKey

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
SIM_INFRA_DELETED = f"{SIM}/infrastructure-deleted-at"
"""When the provider finishes deleting the machine's infrastructure (set once the deletion was asked for)."""

# CAPI's Machine annotations the simulated controllers honour (``api/core/v1beta2/common_types.go``).
PAUSED_ANNOTATION = "cluster.x-k8s.io/paused"
SKIP_REMEDIATION_ANNOTATION = "cluster.x-k8s.io/skip-remediation"
REMEDIATE_MACHINE_ANNOTATION = "cluster.x-k8s.io/remediate-machine"
DELETE_MACHINE_ANNOTATION = "cluster.x-k8s.io/delete-machine"
EXCLUDE_DRAIN_ANNOTATION = "machine.cluster.x-k8s.io/exclude-node-draining"
EXCLUDE_VOLUME_DETACH_ANNOTATION = "machine.cluster.x-k8s.io/exclude-wait-for-node-volume-detach"
SKIP_PREFLIGHT_ANNOTATION = "machineset.cluster.x-k8s.io/skip-preflight-checks"

ALPHABET = "bcdfghjklmnpqrstvwxz2456789"
SUFFIX_LENGTH = 5


def key(group_kind: GroupKind, namespace: str, name: str) -> ObjectKey:
    """The key of an object of a (group, kind)."""
    return ObjectKey(group_kind[0], group_kind[1], namespace, name)


def random_suffix(seed: int, *parts: object) -> str:
    """Five characters from CAPI's alphabet, drawn from an RNG seeded by the simulation seed and ``parts``."""
    rng = random.Random(f"{seed}/" + "/".join(map(str, parts)))
    return "".join(rng.choice(ALPHABET) for _ in range(SUFFIX_LENGTH))


def content_hash(value: Any) -> str:
    """A short stable hash of plain data."""
    return hashlib.sha256(json.dumps(value, sort_keys=True, separators=(",", ":")).encode()).hexdigest()[:10]


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
