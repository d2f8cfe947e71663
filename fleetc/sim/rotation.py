"""``rollout.after`` in the simulation: machine rotation on a date (fleetc's ``machineRotation.rotateAfter``).

CAPI's KubeadmControlPlane (``kubeadm/pkg/filters.go``, NeedsRollout) and MachineDeployment (``mdutil``,
rolloutAfter) treat a Machine or MachineSet created before ``spec.rollout.after`` as out of date once that moment
has passed, and replace it like any outdated one. The simulation applies the same rule when it reconciles; it does
not wake up on its own at a future ``after`` (fleetc tells users to commit a date that has passed). Callers:
:mod:`fleetc.sim.kcp_scope`, :mod:`fleetc.sim.machinedeployment`.
"""

from __future__ import annotations

from fleetc.contract.timestamps import parse_timestamp
from fleetc.core.keys import Manifest


def rotation_due(obj: Manifest, owner: Manifest, now: float) -> bool:
    """``obj`` was created before its owner's ``spec.rollout.after``, which has passed."""
    after = owner.get("spec", {}).get("rollout", {}).get("after")
    created = obj["metadata"].get("creationTimestamp")
    if not after or not created:
        return False
    moment = parse_timestamp(after)
    return moment <= now and parse_timestamp(created) < moment
