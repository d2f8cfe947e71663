"""What a change of a cluster's own deletion timeouts means: the notes ``fleetc diff`` gives it.

A cluster's ``controlPlane.nodeDrainTimeout``… and ``workers.<pool>.nodeDrainTimeout``… render into its CAPI
Cluster's topology ``deletion`` (merged by CAPI field by field over the class's). CAPI sets them on the live machines
in place, ones being deleted included, so the change replaces no machine. Caller: :mod:`fleetc.plan.impacts`.
"""

from __future__ import annotations

from fleetc.core.keys import Manifest
from fleetc.schema.types import format_duration

DELETION_STAGES = {
    "nodeDrainTimeoutSeconds": "drain",
    "nodeVolumeDetachTimeoutSeconds": "volume detach",
    "nodeDeletionTimeoutSeconds": "node deletion",
}
"""CAPI's deletion timeouts, by the stage of a machine's deletion each bounds."""


def deletion_notes(before: Manifest, after: Manifest) -> list[str]:
    """One note per part (the control plane, each pool on both sides) whose own deletion timeouts changed."""
    old_pools, new_pools = _pools(before), _pools(after)
    parts = [("control plane", _control_plane(before), _control_plane(after))]
    shared = sorted(old_pools.keys() & new_pools.keys())
    parts += [(f"pool {name}", old_pools[name], new_pools[name]) for name in shared]
    return [
        f"{part}: {_changed(old, new)} (set on its machines in place: none is replaced)"
        for part, old, new in parts
        if old != new
    ]


def _control_plane(cluster: Manifest) -> Manifest:
    deletion: Manifest = _topology(cluster).get("controlPlane", {}).get("deletion", {})
    return deletion


def _pools(cluster: Manifest) -> dict[str, Manifest]:
    workers = _topology(cluster).get("workers", {})
    groups = [*workers.get("machineDeployments", []), *workers.get("machinePools", [])]
    return {group["name"]: group.get("deletion", {}) for group in groups}


def _topology(cluster: Manifest) -> Manifest:
    topology: Manifest = (cluster.get("spec") or {}).get("topology") or {}
    return topology


def _changed(old: Manifest, new: Manifest) -> str:
    return ", ".join(
        f"{stage} timeout {_shown(old.get(field))} → {_shown(new.get(field))}"
        for field, stage in DELETION_STAGES.items()
        if old.get(field) != new.get(field)
    )


def _shown(seconds: object) -> str:
    return format_duration(seconds) if isinstance(seconds, int) else "the class's"
