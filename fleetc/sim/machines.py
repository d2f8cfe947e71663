"""Reading Machines: what the simulated controllers need to know about one, and the counters over many.

Follows ``core/reconcilers/machine/machine_controller_status.go`` for what a Machine reports and
``internal/util/version/version.go`` L65 for the version a Machine counts as (its Node's kubelet version,
falling back to ``spec.version``), which KCP, MachineSet and MachineDeployment status ``versions`` aggregate.
"""

from __future__ import annotations

import operator
from collections import Counter
from collections.abc import Iterable, Sequence
from typing import NamedTuple

from fleetc.contract.objects import annotations_of, labels, name_of
from fleetc.contract.versions import version_order
from fleetc.contract.vocabulary import CONTROL_PLANE_LABEL
from fleetc.core.keys import Manifest
from fleetc.sim.api import (
    NEVER,
    PAUSED_ANNOTATION,
    REMEDIATE_MACHINE_ANNOTATION,
    SIM_INFRA_TEMPLATE,
    SIM_KUBEADM_CONFIG,
    SIM_NODE_READY,
    SIM_VM_READY,
    SKIP_REMEDIATION_ANNOTATION,
    content_hash,
    moment,
)
from fleetc.sim.status import TRUE, Condition, conditions_of, find, status_of


def is_control_plane(machine: Manifest) -> bool:
    """True for a control-plane Machine."""
    return CONTROL_PLANE_LABEL in labels(machine)


def vm_ready_at(machine: Manifest) -> float | None:
    """When the provider brings the VM up; None before provisioning started."""
    value = annotations_of(machine).get(SIM_VM_READY)
    return moment(value) if value else None


def node_ready_at(machine: Manifest) -> float | None:
    """When the provider brings the Node up; None before provisioning or when it never will."""
    value = annotations_of(machine).get(SIM_NODE_READY)
    return moment(value) if value and value != NEVER else None


def node_up(machine: Manifest, now: float) -> bool:
    """True once the provider's Node (and, for the control plane, etcd and the API server) is up."""
    at = node_ready_at(machine)
    return at is not None and at <= now


def has_node_ref(machine: Manifest) -> bool:
    """True when the Machine reports ``status.nodeRef``."""
    return "nodeRef" in machine.get("status", {})


def version_of(machine: Manifest) -> str:
    """The kubelet version of the Machine's Node, or its ``spec.version``."""
    kubelet: str | None = machine.get("status", {}).get("nodeInfo", {}).get("kubeletVersion")
    spec: str = machine["spec"].get("version", "")
    return kubelet or spec


def versions(machines: Iterable[Manifest]) -> list[dict[str, object]]:
    """``status.versions``: how many Machines run each version, ascending."""
    counts = Counter(version_of(m) for m in machines)
    return [{"replicas": counts[v], "version": v} for v in sorted(counts, key=version_order) if v]


def is_true(machine: Manifest, condition_type: str) -> bool:
    """True when the Machine's condition is True."""
    return status_of(machine, condition_type) == TRUE


class Summary(NamedTuple):
    """The conditions of one Machine its owners summarise (MachineSet, MachineDeployment, KubeadmControlPlane and
    the Cluster all read the same few), found in one pass over its conditions."""

    ready: Condition | None
    available: Condition | None
    up_to_date: Condition | None
    health_check: Condition | None
    owner_remediated: Condition | None

    @property
    def flagged(self) -> bool:
        """Marked for remediation (:func:`flagged`)."""
        return flagged(self.health_check, self.owner_remediated)


_SUMMARISED = ("Ready", "Available", "UpToDate", "HealthCheckSucceeded", "OwnerRemediated")
_SUMMARIES: dict[int, tuple[Sequence[Condition], Summary]] = {}
"""Summaries by the identity of the conditions list they were read from (kept alive here, so the identity is not
reused): stored objects are never changed in place, and each owner reads a Machine between two of its writes."""
SUMMARIES_KEPT = 1 << 13
"""Summaries kept before the memo starts afresh (bounds its memory to a few MB: owners read a Machine within the
same instant as its write, so a short memory is enough)."""


def summary_of(machine: Manifest) -> Summary:
    """The Machine's :class:`Summary`, computed once per version of its conditions."""
    conditions = conditions_of(machine)
    found = _SUMMARIES.get(id(conditions))
    if found is not None and found[0] is conditions:
        return found[1]
    by_type = {c["type"]: c for c in conditions}
    made = Summary(*(by_type.get(t) for t in _SUMMARISED))
    if len(_SUMMARIES) >= SUMMARIES_KEPT:
        _SUMMARIES.clear()
    _SUMMARIES[id(conditions)] = (conditions, made)
    return made


def _true(condition: Condition | None) -> bool:
    return condition is not None and condition["status"] == TRUE


class Counters(NamedTuple):
    """Replica counters over a set of Machines, as KCP/MachineSet/MachineDeployment report them."""

    replicas: int
    ready: int
    available: int
    up_to_date: int

    @classmethod
    def of(cls, machines: Sequence[Manifest]) -> Counters:
        """Counters of these Machines (Ready, Available, UpToDate conditions)."""
        summaries = [summary_of(m) for m in machines]
        return cls(
            len(machines),
            sum(_true(s.ready) for s in summaries),
            sum(_true(s.available) for s in summaries),
            sum(_true(s.up_to_date) for s in summaries),
        )


def needs_remediation(machine: Manifest) -> bool:
    """Marked by a MachineHealthCheck: ``HealthCheckSucceeded=False`` and ``OwnerRemediated=False``."""
    conditions = machine.get("status", {}).get("conditions", [])
    check = find(conditions, "HealthCheckSucceeded")
    if check is None or check["status"] != "False":
        return False
    return flagged(check, find(conditions, "OwnerRemediated"))


def flagged(check: Manifest | None, owner: Manifest | None) -> bool:
    """:func:`needs_remediation` from the two conditions: ``HealthCheckSucceeded`` and ``OwnerRemediated`` both
    ``False``."""
    return check is not None and check["status"] == "False" and owner is not None and owner["status"] == "False"


def oldest_first(machines: Iterable[Manifest]) -> list[Manifest]:
    """Machines by creation time, then name."""
    return sorted(machines, key=lambda m: (m["metadata"].get("creationTimestamp", ""), name_of(m)))


def infrastructure_kind(template_ref: Manifest) -> str:
    """The infrastructure machine kind a template reference makes (``DevMachineTemplate`` → ``DevMachine``)."""
    kind: str = template_ref["kind"]
    return kind.removesuffix("Template")


_CONFIG_HASHES: dict[int, tuple[object, str]] = {}


def kubeadm_config_hash(kcp: Manifest) -> str:
    """A hash of the KubeadmControlPlane's kubeadm configuration (what its Machines' KubeadmConfigs are made of).

    Memoised on the identity of the (never modified) spec object, which versions of the object share."""
    config = kcp["spec"].get("kubeadmConfigSpec", {})
    found = _CONFIG_HASHES.get(id(config))
    if found is None or found[0] is not config:
        if len(_CONFIG_HASHES) > 1 << 14:
            _CONFIG_HASHES.clear()
        found = _CONFIG_HASHES[id(config)] = (config, content_hash(config))
    return found[1]


def kcp_outdated_reasons(machine: Manifest, kcp: Manifest) -> list[str]:
    """Why a control-plane Machine is not up to date with its KubeadmControlPlane (``kubeadm/pkg/filters.go``)."""
    reasons = []
    wanted = kcp["spec"]["version"]
    if machine["spec"].get("version") != wanted:
        reasons.append(f"Version {machine['spec'].get('version')}, {wanted} required")
    infra_ref = kcp["spec"]["machineTemplate"]["spec"]["infrastructureRef"]
    if annotations_of(machine).get(SIM_INFRA_TEMPLATE) != infra_ref["name"]:
        reasons.append(f"{infrastructure_kind(infra_ref)} is not up-to-date")
    created_with = annotations_of(machine).get(SIM_KUBEADM_CONFIG, "").partition("/")[2]
    if created_with != kubeadm_config_hash(kcp):
        reasons.append("KubeadmConfig is not up-to-date")
    return reasons


def template_outdated_reasons(current: Manifest, wanted: Manifest) -> list[str]:
    """Why a MachineSet's template differs from its MachineDeployment's (``mdutil.MachineTemplateUpToDate``)."""
    reasons = []
    have, want = current["spec"], wanted["spec"]
    if have.get("version") != want.get("version"):
        reasons.append(f"Version {have.get('version')}, {want.get('version')} required")
    if have["infrastructureRef"]["name"] != want["infrastructureRef"]["name"]:
        reasons.append(f"{infrastructure_kind(have['infrastructureRef'])} is not up-to-date")
    have_config, want_config = have["bootstrap"].get("configRef", {}), want["bootstrap"].get("configRef", {})
    if have_config.get("name") != want_config.get("name"):
        reasons.append(f"{infrastructure_kind(have_config)} is not up-to-date")
    return reasons


def bullets(lines: Iterable[str]) -> str:
    """``* a\\n* b``."""
    return "\n".join(f"* {line}" for line in lines)


def owner_view(machine: Manifest) -> tuple[object, ...]:
    """What a Machine's owner (KubeadmControlPlane, MachineSet) reads of it: metadata and status, not the spec
    (spec changes are always followed by a status change) nor a passing health check."""
    metadata, status = machine["metadata"], machine.get("status", {})
    conditions = [
        c for c in status.get("conditions", []) if c["type"] != "HealthCheckSucceeded" or c["status"] != "True"
    ]
    return (
        metadata.get("finalizers"),
        metadata.get("annotations"),
        metadata.get("labels"),
        {**status, "conditions": conditions},
    )


_HEALTH_FIELDS = operator.itemgetter("type", "status", "reason", "lastTransitionTime")


def health_view(machine: Manifest) -> int:
    """What a MachineHealthCheck reads of a Machine: labels, its annotations, the Node, conditions without messages;
    as a hash, so remembering it costs an int per Machine (two different views hashing alike would hide one change:
    a chance of 2**-64 per event)."""
    metadata, status = machine["metadata"], machine.get("status", {})
    conditions = tuple(map(_HEALTH_FIELDS, status.get("conditions", ())))
    notes = metadata.get("annotations", {})
    marks = tuple(
        k for k in (PAUSED_ANNOTATION, SKIP_REMEDIATION_ANNOTATION, REMEDIATE_MACHINE_ANNOTATION) if k in notes
    )
    finalizers = tuple(metadata.get("finalizers", ()))
    return hash((finalizers, tuple(metadata.get("labels", {}).items()), marks, "nodeRef" in status, conditions))
