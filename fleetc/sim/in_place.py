"""Machine template fields CAPI changes in place: a change to them rolls out no Machine, it reaches the live ones.

CAPI v1.14 leaves these fields out when it decides whether a MachineSet runs its MachineDeployment's template
(``mdutil.MachineTemplateDeepCopyRolloutFields``, ``core/reconcilers/machinedeployment/mdutil/util.go`` L416-446):
``minReadySeconds``, ``readinessGates``, ``taints`` and the ``deletion`` timeouts (``nodeDrainTimeoutSeconds``,
``nodeVolumeDetachTimeoutSeconds``, ``nodeDeletionTimeoutSeconds``; a Machine's ``deletion`` holds nothing else).
Instead it copies them down: the MachineDeployment into every MachineSet (``machinedeployment_rollout_planner.go``
L326-333), a MachineSet into each of its Machines, deleting ones included, so a longer or shorter drain timeout
applies to a drain already under way (``syncMachines``, ``machineset_controller.go`` L652-676), and the topology
controller the ClusterClass's control-plane ``deletion`` into the KubeadmControlPlane's machine template
(``exp/topology/desiredstate/desired_state.go`` L470-490), which KubeadmControlPlane copies into its Machines.
Callers: the simulated MachineDeployment, MachineSet and KubeadmControlPlane controllers and the topology.
"""

from __future__ import annotations

from collections.abc import Iterable

from fleetc.core.keys import Manifest
from fleetc.sim.context import SimContext

IN_PLACE = ("deletion", "minReadySeconds", "readinessGates", "taints")
"""The ``spec`` fields of a Machine (or a Machine template) that change in place."""


def rollout_part(spec: Manifest) -> Manifest:
    """``spec`` without the fields that change in place: what decides whether Machines are replaced."""
    return {k: v for k, v in spec.items() if k not in IN_PLACE}


def in_place_changed(spec: Manifest, source: Manifest, fields: tuple[str, ...] = IN_PLACE) -> bool:
    """True when ``spec`` differs from ``source`` in one of ``fields`` (a field absent from both is no change)."""
    return any(spec.get(field) != source.get(field) for field in fields)


def with_in_place(spec: Manifest, source: Manifest, fields: tuple[str, ...] = IN_PLACE) -> Manifest:
    """``spec`` with ``fields`` as ``source`` has them (removed where ``source`` has none); a new dict."""
    result = {k: v for k, v in spec.items() if k not in fields}
    result.update({field: source[field] for field in fields if field in source})
    return result


SYNCED_KEPT = 1 << 14
"""Owners :class:`SyncedTemplates` remembers before it starts afresh (forgetting only costs one more check)."""


class SyncedTemplates:
    """The template version each owner last copied its in-place fields from, by identity (stored objects are never
    changed in place): an owner whose template is the one it synced from skips the copy, since its children were
    made from that template or synced from it. A store that decodes every object anew (an API server) never hits."""

    def __init__(self) -> None:
        self._synced: dict[tuple[str, str], Manifest] = {}

    def current(self, owner: Manifest, template_spec: Manifest) -> bool:
        """True when ``owner``'s children already carry ``template_spec``'s in-place fields."""
        return self._synced.get((owner["metadata"]["namespace"], owner["metadata"]["name"])) is template_spec

    def mark(self, owner: Manifest, template_spec: Manifest) -> None:
        """Remember that ``owner``'s children now carry ``template_spec``'s in-place fields."""
        if len(self._synced) >= SYNCED_KEPT:
            self._synced.clear()
        self._synced[(owner["metadata"]["namespace"], owner["metadata"]["name"])] = template_spec


def copy_to_machines(
    ctx: SimContext,
    synced: SyncedTemplates,
    owner: Manifest,
    wanted: Manifest,
    machines: Iterable[Manifest],
    fields: tuple[str, ...] = IN_PLACE,
) -> bool:
    """Copy ``fields`` of an owner's machine template spec (``wanted``) into every one of its Machines, deleting ones
    too (a drain timeout set now applies to a drain under way), unless the owner's template is the one it last copied
    from; True when it wrote. The MachineSet's and the KubeadmControlPlane's ``syncMachines``."""
    if synced.current(owner, wanted):
        return False
    wrote = False
    for machine in machines:
        if in_place_changed(machine["spec"], wanted, fields):
            wrote |= ctx.write(machine, spec=with_in_place(machine["spec"], wanted, fields))
    synced.mark(owner, wanted)
    return wrote
