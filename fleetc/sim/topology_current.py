"""The simulated topology controller's current state: a Cluster, its ClusterClass and what it owns, read back.

CAPI's ``core/reconcilers/topology/cluster/current_state.go`` (getCurrentState): the ClusterClass and its
templates must exist; the control plane is the Cluster's ``controlPlaneRef``; MachineDeployments are the
topology-owned ones of the cluster, by their ``topology.cluster.x-k8s.io/deployment-name``. Also the version plan
inputs CAPI reads from that state (``exp/topology/desiredstate/upgrade_plan.go``): which MachineDeployments are
still rolling, the ``upgrade-concurrency`` annotation and the class's ``kubernetesVersions``.
Caller: :class:`fleetc.sim.topology.SimulatedTopologyReconciler`.
"""

from __future__ import annotations

from dataclasses import dataclass

from fleetc.contract.objects import annotations_of, labels, name_of, ref_group
from fleetc.contract.vocabulary import (
    CLUSTER_CLASS,
    DEPLOYMENT_NAME_LABEL,
    KCP,
    MACHINE,
    MACHINE_DEPLOYMENT,
    MACHINE_HEALTH_CHECK,
    MACHINE_POOL,
    TOPOLOGY_DEPLOYMENT_LABEL,
    TOPOLOGY_OWNED_LABEL,
    UPGRADE_CONCURRENCY,
)
from fleetc.core.keys import Manifest, ObjectKey
from fleetc.sim.cache import ObjectCache
from fleetc.sim.topology_plan import ControlPlaneState, Deployment, VersionPlan, plan_versions


@dataclass
class Topology:
    """One Cluster, its ClusterClass and what the topology controller owns for it (current state)."""

    cluster: Manifest
    cluster_class: Manifest
    kcp: Manifest | None
    deployments: dict[str, Manifest]
    """Existing MachineDeployments by topology name."""
    templates: tuple[Manifest, ...]
    """The ClusterClass's templates, as found when the current state was read (all exist)."""

    @property
    def namespace(self) -> str:
        """The Cluster's namespace."""
        namespace: str = self.cluster["metadata"]["namespace"]
        return namespace

    @property
    def name(self) -> str:
        """The Cluster's name."""
        return name_of(self.cluster)

    @property
    def topology(self) -> Manifest:
        """``spec.topology``."""
        found: Manifest = self.cluster["spec"]["topology"]
        return found

    @property
    def entries(self) -> list[Manifest]:
        """``spec.topology.workers.machineDeployments``."""
        found: list[Manifest] = self.topology.get("workers", {}).get("machineDeployments", [])
        return found


def template(cache: ObjectCache, ref: Manifest, cluster_class: Manifest) -> Manifest | None:
    """The class template a ``templateRef`` of the ClusterClass names (in the class's namespace)."""
    return cache.find(_template_key(ref, cluster_class))


def _template_key(ref: Manifest, cluster_class: Manifest) -> ObjectKey:
    return ObjectKey(ref_group(ref["apiVersion"]), ref["kind"], cluster_class["metadata"]["namespace"], ref["name"])


def _class_template_refs(cluster_class: Manifest) -> list[Manifest]:
    spec = cluster_class["spec"]
    refs = [
        spec["infrastructure"]["templateRef"],
        spec["controlPlane"]["templateRef"],
        spec["controlPlane"]["machineInfrastructure"]["templateRef"],
    ]
    for md_class in spec.get("workers", {}).get("machineDeployments", []):
        refs += [md_class["bootstrap"]["templateRef"], md_class["infrastructure"]["templateRef"]]
    return refs


_TEMPLATE_KEYS: dict[int, tuple[Manifest, list[Manifest], tuple[ObjectKey, ...]]] = {}
"""The template refs and keys of each ClusterClass version, by identity (the class is kept alive here, so its
identity is not reused): every topology reconcile reads the templates of its class, and classes change rarely."""
TEMPLATE_KEYS_KEPT = 64


def _class_template_keys(cluster_class: Manifest) -> tuple[list[Manifest], tuple[ObjectKey, ...]]:
    """The class's template refs and the keys of the templates they name (:func:`template`)."""
    found = _TEMPLATE_KEYS.get(id(cluster_class))
    if found is None or found[0] is not cluster_class:
        refs = _class_template_refs(cluster_class)
        keys = tuple(_template_key(ref, cluster_class) for ref in refs)
        if len(_TEMPLATE_KEYS) >= TEMPLATE_KEYS_KEPT:
            _TEMPLATE_KEYS.clear()
        found = _TEMPLATE_KEYS[id(cluster_class)] = (cluster_class, refs, keys)
    return found[1], found[2]


def class_of(cache: ObjectCache, cluster: Manifest) -> Manifest | None:
    """The ClusterClass a Cluster's ``spec.topology.classRef`` names (its namespace defaults to the Cluster's)."""
    class_ref = cluster["spec"]["topology"]["classRef"]
    namespace = class_ref.get("namespace", cluster["metadata"]["namespace"])
    return cache.get(CLUSTER_CLASS, namespace, class_ref["name"])


def control_plane_of(cache: ObjectCache, cluster: Manifest) -> Manifest | None:
    """The KubeadmControlPlane the Cluster's ``spec.controlPlaneRef`` names, if any."""
    kcp_ref = cluster["spec"].get("controlPlaneRef")
    return cache.get(KCP, cluster["metadata"]["namespace"], kcp_ref["name"]) if kcp_ref else None


def owned_deployments(cache: ObjectCache, namespace: str, cluster: str) -> list[Manifest]:
    """The cluster's MachineDeployments the topology controller owns."""
    return [d for d in cache.of_cluster(MACHINE_DEPLOYMENT, namespace, cluster) if TOPOLOGY_OWNED_LABEL in labels(d)]


def current_state(cache: ObjectCache, cluster_key: ObjectKey) -> tuple[Topology | None, str | None]:
    """The Cluster's current state, or the problem that stops the reconcile (class or templates missing)."""
    cluster = cache.find(cluster_key)
    assert cluster is not None
    class_name = cluster["spec"]["topology"]["classRef"]["name"]
    cluster_class = class_of(cache, cluster)
    if cluster_class is None:
        return None, f"ClusterClass {class_name} not found"
    refs, keys = _class_template_keys(cluster_class)
    templates = [cache.find(template_key) for template_key in keys]
    missing = [ref["name"] for ref, found in zip(refs, templates, strict=True) if found is None]
    if missing:
        return None, f"ClusterClass {class_name}: templates not found: {', '.join(missing)}"
    found_templates = tuple(t for t in templates if t is not None)
    return refresh(cache, Topology(cluster, cluster_class, None, {}, found_templates)), None


def refresh(cache: ObjectCache, scope: Topology) -> Topology:
    """The same Cluster and class, with the Cluster and what it owns read again."""
    cluster = cache.find(ObjectKey.of(scope.cluster))
    assert cluster is not None
    namespace, name = scope.namespace, scope.name
    deployments = {labels(d).get(TOPOLOGY_DEPLOYMENT_LABEL, ""): d for d in owned_deployments(cache, namespace, name)}
    kcp = control_plane_of(cache, cluster)
    return Topology(cluster, scope.cluster_class, kcp, deployments, scope.templates)


def _deployment_upgrading(cache: ObjectCache, deployment: Manifest | None, namespace: str, cluster: str) -> bool:
    """Some Machines of a MachineDeployment run another version than its template."""
    if deployment is None:
        return False
    version = deployment["spec"]["template"]["spec"]["version"]
    machines = cache.labelled(MACHINE, namespace, cluster, DEPLOYMENT_NAME_LABEL, name_of(deployment))
    return any(m["spec"].get("version") != version for m in machines)


def version_plan(cache: ObjectCache, scope: Topology) -> VersionPlan:
    """Where the control plane and each MachineDeployment go next (:func:`~fleetc.sim.topology_plan.plan_versions`)."""
    deployments = []
    for entry in scope.entries:
        found = scope.deployments.get(entry["name"])
        upgrading = _deployment_upgrading(cache, found, scope.namespace, scope.name)
        deployments.append(Deployment(entry["name"], entry, found, upgrading))
    state = ControlPlaneState.of(scope.kcp) if scope.kcp is not None else None
    concurrency = int(annotations_of(scope.cluster).get(UPGRADE_CONCURRENCY, "1") or 1)
    catalogue = scope.cluster_class["spec"].get("kubernetesVersions")
    return plan_versions(scope.topology["version"], state, deployments, catalogue, max(concurrency, 1))


def desired_state_inputs(cache: ObjectCache, scope: Topology) -> tuple[object, ...]:
    """Everything the topology controller's desired-state pass reads, as one comparable value.

    Two equal values mean the pass would compute the same objects and the same version plan: when the last pass
    wrote nothing, the next one with equal inputs writes nothing either, and the controller skips it (CAPI's
    topology controller recomputes it on every event; the result is the same, this only saves the work). Most
    topology reconciles follow a status change of a child that the desired state does not read. Stored objects
    are never changed in place and a status write keeps an object's ``spec``, labels and annotations dicts, so the
    comparison is mostly identity checks. The provider's cluster call is not an input: callers skip only once the
    infrastructure is provisioned.
    """
    cluster, cluster_class = scope.cluster, scope.cluster_class
    namespace, name = scope.namespace, scope.name
    spec = cluster["spec"]
    kcp = scope.kcp
    infra_ref = spec.get("infrastructureRef")
    infra = cache.get((infra_ref["apiGroup"], infra_ref["kind"]), namespace, infra_ref["name"]) if infra_ref else None
    control_plane = (
        None
        if kcp is None
        else (name_of(kcp), kcp["spec"], ControlPlaneState.of(kcp), _clone_of(cache, kcp, namespace))
    )
    deployments = tuple(
        (
            name_of(d),
            d["spec"],
            labels(d),
            annotations_of(d),
            _deployment_upgrading(cache, d, namespace, name),
            _clones_of(cache, d, namespace),
        )
        for d in scope.deployments.values()
    )
    return (
        cluster["metadata"]["uid"],
        spec,
        labels(cluster),
        annotations_of(cluster),
        cluster_class,
        scope.templates,
        infra is not None,
        control_plane,
        deployments,
        tuple((p["spec"], labels(p), annotations_of(p)) for p in cache.of_cluster(MACHINE_POOL, namespace, name)),
        tuple((name_of(c), c["spec"], labels(c)) for c in cache.of_cluster(MACHINE_HEALTH_CHECK, namespace, name)),
    )


def _clone_of(cache: ObjectCache, kcp: Manifest, namespace: str) -> Manifest | None:
    """The control plane's machine template clone."""
    ref = kcp["spec"]["machineTemplate"]["spec"]["infrastructureRef"]
    return cache.get((ref["apiGroup"], ref["kind"]), namespace, ref["name"])


def _clones_of(cache: ObjectCache, deployment: Manifest, namespace: str) -> tuple[Manifest | None, ...]:
    """A MachineDeployment's bootstrap and infrastructure template clones."""
    template_spec = deployment["spec"]["template"]["spec"]
    refs = (template_spec.get("bootstrap", {}).get("configRef"), template_spec.get("infrastructureRef"))
    return tuple(cache.get((r["apiGroup"], r["kind"]), namespace, r["name"]) if r else None for r in refs)
