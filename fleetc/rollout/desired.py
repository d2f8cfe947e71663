"""The desired state of a rollout: what the CLI builds from a compiled fleet and submits as rollout objects.

:func:`plan_rollout` turns a compiled revision into a :class:`RolloutPlan` (its waves resolved by
:func:`fleetc.plan.waves.resolve`, the function ``fleetc plan`` shows the rollout order with; its clusters in wave
order, each with its desired objects, the CAPI ``Cluster`` last; the namespaces and class revisions to apply before
any cluster). :func:`rollout_objects` turns a plan into the FleetRollout, the FleetRevision and the ClusterRollouts
(:mod:`fleetc.rollout.model`).
Callers: the CLI (``fleetc apply`` / ``simulate``), :func:`fleetc.rollout.control.submit`.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass

from fleetc.contract.objects import is_capi_cluster
from fleetc.core.keys import Manifest, ObjectKey
from fleetc.plan import waves as wave_rules
from fleetc.render.names import WAVE_LABEL
from fleetc.render.rendered import RenderedSet
from fleetc.rollout.model import (
    API_VERSION,
    FLEET_ROLLOUT,
    GROUP,
    ROLLOUT_LABEL,
    Approval,
    ClusterRef,
    ClusterRollout,
    ClusterRolloutSpec,
    ClusterTarget,
    FleetRevision,
    FleetRevisionSpec,
    FleetRollout,
    ObjectMeta,
    OwnerReference,
    RolloutSpec,
    WaveSpec,
)
from fleetc.schema.notifications import NotificationPolicy
from fleetc.schema.windows import MaintenanceWindow

_FIRST_KINDS = ("Namespace",)
_LAST_KINDS = ("ClusterClass",)


@dataclass(frozen=True)
class ClusterPlan:
    """One cluster of a rollout: where it sits and what to apply."""

    name: str
    namespace: str
    wave: str
    order: int
    version: str
    class_ref: str | None
    objects: tuple[Manifest, ...]
    """The desired objects of the cluster, the CAPI ``Cluster`` last."""
    action: str | None = None
    """``Delete`` or ``Orphan`` for a cluster that left the spec (:mod:`fleetc.rollout.removal`); None: apply."""
    machines: str | None = None
    """For a removal: the machines of the live Cluster, as events name them."""
    window: MaintenanceWindow | None = None
    """The cluster starts only inside this maintenance window (None: any time)."""


@dataclass(frozen=True)
class RolloutPlan:
    """Everything a rollout of one compiled revision needs; :func:`rollout_objects` turns it into store objects."""

    fleet: str
    namespace: str
    revision: str
    waves: tuple[WaveSpec, ...]
    clusters: tuple[ClusterPlan, ...]
    prerequisites: tuple[Manifest, ...]
    """Namespaces and class revisions, in apply order."""
    notifications: NotificationPolicy | None = None
    """The fleet's notification receivers."""
    approvals: tuple[Approval, ...] = ()
    """Waves approved in advance (``fleetc apply --approve WAVE``), kept with those already recorded."""

    @property
    def key(self) -> ObjectKey:
        """The FleetRollout's key."""
        return rollout_key(self.fleet, self.namespace)


def rollout_key(fleet: str, namespace: str) -> ObjectKey:
    """The key of a fleet's FleetRollout."""
    return ObjectKey(GROUP, FLEET_ROLLOUT, namespace, fleet)


def cluster_rollout_name(fleet: str, cluster: str) -> str:
    """``<fleet>-<cluster>``: the name of a cluster's ClusterRollout."""
    return f"{fleet}-{cluster}"


def revision_id(rendered: RenderedSet) -> str:
    """A content hash of every rendered object: equal renders give equal revisions."""
    canonical = json.dumps(list(rendered.manifests()), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()[:12]


def plan_rollout(rendered: RenderedSet, *, revision: str | None = None) -> RolloutPlan:
    """The rollout of a compiled revision (its waves come from the fleet's rollout policy, in order)."""
    per_cluster: dict[str, list[Manifest]] = {}
    prerequisites: list[tuple[int, ObjectKey, Manifest]] = []
    for key in rendered:
        item = rendered.objects[key]
        folder, _, cluster = item.folder.partition("/")
        if folder == "clusters" and cluster:
            per_cluster.setdefault(cluster, []).append(item.manifest)
        else:
            prerequisites.append((_apply_rank(key.kind), key, item.manifest))
    rules = wave_rules.resolve_all(rendered.waves)
    clusters = [
        _cluster_plan(name, wave.name, order, per_cluster.get(name, []), wave.windows[order] if wave.windows else None)
        for wave in rules
        for order, name in enumerate(wave.clusters)
    ]
    return RolloutPlan(
        fleet=rendered.fleet,
        namespace=rendered.namespace,
        revision=revision or revision_id(rendered),
        waves=tuple(WaveSpec.of_rules(wave) for wave in rules),
        clusters=tuple(clusters),
        prerequisites=tuple(manifest for _, _, manifest in sorted(prerequisites, key=lambda t: (t[0], t[1]))),
        notifications=rendered.notifications,
    )


def _apply_rank(kind: str) -> int:
    return 0 if kind in _FIRST_KINDS else 2 if kind in _LAST_KINDS else 1


def _cluster_plan(
    name: str, wave: str, order: int, objects: list[Manifest], window: MaintenanceWindow | None = None
) -> ClusterPlan:
    capi = [m for m in objects if is_capi_cluster(m)]
    if len(capi) != 1:
        raise ValueError(f"cluster {name}: expected one CAPI Cluster object, found {len(capi)}")
    cluster = capi[0]
    topology = cluster["spec"]["topology"]
    others = [m for m in objects if m is not cluster]
    return ClusterPlan(
        name=name,
        namespace=cluster["metadata"].get("namespace", ""),
        wave=wave,
        order=order,
        version=topology["version"],
        class_ref=topology.get("classRef", {}).get("name"),
        objects=(*others, cluster),
        window=window,
    )


def rollout_objects(plan: RolloutPlan, owner_uid: str | None = None) -> tuple[Manifest, Manifest, list[Manifest]]:
    """The FleetRollout, the FleetRevision and the ClusterRollouts of a plan (owned by ``owner_uid`` when given)."""
    labels = {ROLLOUT_LABEL: plan.fleet}
    rollout = FleetRollout(
        metadata=ObjectMeta(name=plan.fleet, namespace=plan.namespace, labels=dict(labels)),
        spec=RolloutSpec(
            revision=plan.revision,
            paused=False,
            waves=plan.waves,
            approvals=plan.approvals,
            notifications=plan.notifications,
        ),
    )
    revision = FleetRevision(
        metadata=ObjectMeta(name=plan.fleet, namespace=plan.namespace, labels=dict(labels)),
        spec=FleetRevisionSpec(revision=plan.revision, objects=list(plan.prerequisites)),
    )
    owners = None
    if owner_uid is not None:
        owners = [OwnerReference(api_version=API_VERSION, kind=FLEET_ROLLOUT, name=plan.fleet, uid=owner_uid)]
    clusters = [_cluster_rollout(plan, cluster, labels, owners).dump() for cluster in plan.clusters]
    return rollout.dump(), revision.dump(), clusters


def _cluster_rollout(
    plan: RolloutPlan, cluster: ClusterPlan, labels: dict[str, str], owners: list[OwnerReference] | None
) -> ClusterRollout:
    metadata = ObjectMeta(
        name=cluster_rollout_name(plan.fleet, cluster.name),
        namespace=plan.namespace,
        labels={**labels, WAVE_LABEL: cluster.wave},
        owner_references=owners,
    )
    spec = ClusterRolloutSpec(
        rollout=plan.fleet,
        revision=plan.revision,
        wave=cluster.wave,
        order=cluster.order,
        cluster=ClusterRef(name=cluster.name, namespace=cluster.namespace),
        target=ClusterTarget(version=cluster.version, class_ref=cluster.class_ref),
        objects=list(cluster.objects),
        action=cluster.action,
        machines=cluster.machines,
        window=cluster.window,
    )
    return ClusterRollout(metadata=metadata, spec=spec)
