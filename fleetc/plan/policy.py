"""Rules between two revisions (docs/design.md §3, "against a base revision"), reported as located errors.

- A Kubernetes version never goes down: CAPI cannot roll back a control plane.
- One minor per step, unless the class lists the versions in between (``kubernetesVersions``, which fleetc
  writes from the catalogue when the fleet sets ``spec.versions.chainedUpgrades``).
- Workers never newer than the control plane and at most 3 minors behind: this can arise when a pool's upgrade
  is deferred or held (``topology.cluster.x-k8s.io/defer-upgrade``, ``hold-upgrade-sequence``) while the control
  plane moves on.
- A class pool still running machines on a cluster is not removed: the cluster's move to the new revision would
  delete them. Scale the pool to 0 on those clusters in an earlier change first.

Repeated findings (one channel bump breaking 240 clusters) are folded into one diagnostic naming the first
cluster and counting the rest. Caller: :func:`fleetc.plan.report.compare`.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from fleetc.contract import topology
from fleetc.contract.versions import MAX_WORKER_SKEW, minor_skew
from fleetc.contract.vocabulary import DEFER_UPGRADE, HOLD_UPGRADE_SEQUENCE
from fleetc.core.diagnostics import Diagnostic, sorted_diagnostics
from fleetc.core.keys import Manifest, ObjectKey
from fleetc.plan import fleet_labels
from fleetc.plan.impact import ClusterImpact
from fleetc.plan.locate import Locator
from fleetc.plan.revisions import RevisionChange
from fleetc.plan.snapshot import Snapshot
from fleetc.schema.validate import folded


def _version_rules(impacts: Iterable[ClusterImpact], locator: Locator) -> Iterator[Diagnostic]:
    for impact in impacts:
        if impact.upgrade is not None and impact.upgrade.problem is not None:
            yield locator.version(impact.key, impact.upgrade.problem, impact.upgrade.code)


def _held_deployments(deployments: Iterable[topology.MachineDeployment]) -> list[str]:
    """MachineDeployments CAPI will not upgrade: deferred ones, and a held one with every one after it."""
    held, holding = [], False
    for deployment in deployments:
        holding = holding or HOLD_UPGRADE_SEQUENCE in deployment.annotations
        if holding or DEFER_UPGRADE in deployment.annotations:
            held.append(deployment.name)
    return held


def _skew_rules(impacts: Iterable[ClusterImpact], head: Snapshot, locator: Locator) -> Iterator[Diagnostic]:
    for impact in impacts:
        upgrade = impact.upgrade
        if upgrade is None or upgrade.problem is not None:
            continue
        skew = minor_skew(upgrade.after, upgrade.before)
        if skew is None or skew <= MAX_WORKER_SKEW:
            continue
        held = _held_deployments(topology.machine_deployments(head.objects[impact.key]).values())
        if held:
            message = (
                f"workers of {', '.join(held)} stay at {upgrade.before} (upgrade deferred or held) while the "
                f"control plane goes to {upgrade.after}: {skew} minors behind, at most "
                f"{MAX_WORKER_SKEW} are allowed"
            )
            yield locator.cluster(impact.key, ("spec", "workers"), message, "worker-skew")


def _pool_rules(
    revisions: Iterable[RevisionChange], base: Snapshot, head: Snapshot, locator: Locator
) -> Iterator[Diagnostic]:
    base_clusters = {k.name: m for k, m in topology.clusters(base.objects).items()}
    for revision in revisions:
        if revision.new is None:
            continue
        for pool in revision.pools_removed:
            running = sorted(
                name
                for name in revision.clusters
                if name in base_clusters
                and any(
                    d.pool == pool and d.machines.high > 0
                    for d in topology.machine_deployments(base_clusters[name]).values()
                )
            )
            if not running:
                continue
            shown = ", ".join(running[:5]) + (f" and {len(running) - 5} more" if len(running) > 5 else "")
            class_name = _fleet_class(revision, head)
            where = f"class {class_name} ({revision.new.base})" if class_name else revision.new.base
            message = (
                f"pool {pool} is removed from {where} while {len(running)} cluster(s) still run machines "
                f"in it ({shown}); moving them to the new revision would delete those machines: scale the pool to 0 "
                "on them in an earlier change, or keep it"
            )
            yield locator.pool(class_name, revision.new.key, pool, message, "pool-removed")


def _fleet_class(revision: RevisionChange, head: Snapshot) -> str | None:
    for key, manifest in topology.clusters(head.objects).items():
        if key.name in revision.clusters:
            return fleet_labels.fleet_class(manifest)
    return None


IMMUTABLE_FIELDS: dict[str, tuple[str, ...]] = {
    "AWSClusterTemplate": ("region", "controlPlaneLoadBalancer"),
    "AzureClusterTemplate": ("location", "subscriptionID", "resourceGroup"),
    "GCPClusterTemplate": ("project", "region", "credentialsRef", "loadBalancer"),
}
"""Infrastructure cluster template kind → spec fields its provider's update webhook refuses to change
(CAPA v2.11 ``awscluster_webhook.go``, CAPZ v1.26 ``azurecluster_webhook.go``, CAPG v1.12 ``gcpcluster_webhook.go``)."""


def _infrastructure(objects: Mapping[ObjectKey, Manifest], cluster: Manifest) -> tuple[str, Manifest] | None:
    """The kind of a cluster's infrastructure template and its spec with the class's constant patches applied."""
    class_key = topology.class_ref(cluster)
    cluster_class = objects.get(class_key) if class_key is not None else None
    if cluster_class is None:
        return None
    ref = cluster_class["spec"]["infrastructure"]["templateRef"]
    group = ref["apiVersion"].rpartition("/")[0]
    template = objects.get(ObjectKey(group, ref["kind"], class_key.namespace if class_key else "", ref["name"]))
    spec: dict[str, Any] = dict(template["spec"]["template"]["spec"]) if template is not None else {}
    prefix = "/spec/template/spec/"
    for patch in cluster_class["spec"].get("patches", []):
        for definition in patch.get("definitions", []):
            if definition.get("selector", {}).get("matchResources", {}).get("infrastructureCluster"):
                for json_patch in definition.get("jsonPatches", []):
                    field = str(json_patch.get("path", "")).removeprefix(prefix)
                    if "value" in json_patch and "/" not in field:
                        spec[field] = json_patch["value"]
    return ref["kind"], spec


def _infrastructure_rules(base: Snapshot, head: Snapshot, locator: Locator) -> Iterator[Diagnostic]:
    base_clusters = topology.clusters(base.objects)
    for key, after in topology.clusters(head.objects).items():
        before = base_clusters.get(key)
        if before is None:
            continue
        old, new = _infrastructure(base.objects, before), _infrastructure(head.objects, after)
        if old is None or new is None:
            continue
        (old_kind, old_spec), (new_kind, new_spec) = old, new
        if old_kind != new_kind:
            message = (
                f"cluster {key.name} would move from {old_kind} to {new_kind}: CAPI cannot change a cluster's "
                "provider type; create a new cluster on the new provider and move the workloads"
            )
            yield locator.cluster(key, ("spec", "provider"), message, "provider-type-change")
            continue
        for field in IMMUTABLE_FIELDS.get(new_kind, ()):
            if old_spec.get(field) != new_spec.get(field):
                message = (
                    f"{field} of cluster {key.name} would change from {old_spec.get(field)!r} to "
                    f"{new_spec.get(field)!r}: the provider refuses to change it on an existing "
                    f"{new_kind.removesuffix('Template')}; create a new cluster instead"
                )
                yield locator.cluster(key, ("spec", "provider"), message, "immutable-field")


def check(
    base: Snapshot, head: Snapshot, impacts: Iterable[ClusterImpact], revisions: Iterable[RevisionChange]
) -> tuple[Diagnostic, ...]:
    """Every cross-revision rule violation, located in the head revision, folded and sorted."""
    impacts, revisions = list(impacts), list(revisions)
    locator = Locator(head)
    found = [
        *_version_rules(impacts, locator),
        *_skew_rules(impacts, head, locator),
        *_pool_rules(revisions, base, head, locator),
        *_infrastructure_rules(base, head, locator),
    ]
    return tuple(sorted_diagnostics(folded(found)))
