"""The simulated topology (managed Cluster) controller: Cluster + ClusterClass → the objects of a cluster.

Follows ``core/reconcilers/topology/cluster/`` and ``exp/topology/desiredstate/desired_state.go`` at CAPI v1.14
(with the ``ClusterTopology`` feature gate on). Split along CAPI's stages: :mod:`fleetc.sim.topology_current`
reads the current state, :mod:`fleetc.sim.topology_desired` computes the desired objects, and this module
reconciles (creates, updates, deletes in CAPI's order) and writes the Cluster's status
(:mod:`fleetc.sim.topology_status`):

- the infrastructure cluster and the KubeadmControlPlane are created from the ClusterClass templates, named
  ``<cluster>-<random>`` (L244), owned by the Cluster, which gets ``spec.controlPlaneRef``/``infrastructureRef``
  and the ``cluster-name``/``topology…/owned`` labels (computeCluster);
- machine templates are cloned per cluster (``cluster.x-k8s.io/cloned-from-name``) and rotated — a new clone, a
  new name — when the class's template content changes, which is what rolls Machines on a ClusterClass rebase
  (a ``classRef`` change to a new revision) only where templates really changed;
- MachinePools of ``spec.topology.workers.machinePools`` through :func:`fleetc.sim.machinepool.reconcile_machine_pools`;
- one MachineDeployment per ``spec.topology.workers.machineDeployments`` entry, named
  ``<cluster>-<name>-<random>`` (L977), with the topology labels (L1030-1052); MachineHealthChecks from the
  class's (or the topology's) ``healthCheck``, named after their target (computeMachineHealthCheck L1651);
- versions are sequenced by :mod:`fleetc.sim.topology_plan`; the current upgrade step is recorded
  in ``topology.internal.cluster.x-k8s.io/upgrade-step`` (L755-770);
- a deleted Cluster deletes its control plane and MachineDeployments and keeps its finalizer until every
  Machine is gone; the store's garbage collector removes the rest through owner references.

Simulation: ClusterClass patches and variables are not applied (templates are used as written); the
infrastructure cluster is provisioned by :meth:`~fleetc.sim.infra.InfrastructureProvider.provision_cluster`,
which also gives the control-plane endpoint (CAPI's Cluster controller copies it from the infrastructure cluster).
"""

from __future__ import annotations

from fleetc.contract.objects import annotations_of, is_deleting, labels, name_of, ref_group
from fleetc.contract.vocabulary import (
    CAPI_API,
    CAPI_GROUP,
    CLUSTER,
    CLUSTER_FINALIZER,
    CONTROL_PLANE_API,
    CONTROL_PLANE_GROUP,
    KCP,
    MACHINE,
    MACHINE_DEPLOYMENT,
    MACHINE_HEALTH_CHECK,
    MACHINE_POOL,
    MACHINE_SET,
    TOPOLOGY_DEPLOYMENT_LABEL,
    TOPOLOGY_OWNED_LABEL,
    UPGRADE_STEP,
    GroupKind,
)
from fleetc.core.errors import ProviderAPIError
from fleetc.core.keys import Manifest, ObjectKey
from fleetc.runtime.manager import DONE, Mapper, Request, Result, Watch, owner_of
from fleetc.runtime.store import copy
from fleetc.sim.api import key, owner_reference
from fleetc.sim.context import SettledFilter, SimContext, coalesced, with_metadata
from fleetc.sim.infra import ClusterRequest
from fleetc.sim.machine import infrastructure_provisioned
from fleetc.sim.machinepool import reconcile_machine_pools
from fleetc.sim.topology_current import (
    Topology,
    class_of,
    control_plane_of,
    current_state,
    desired_state_inputs,
    owned_deployments,
    refresh,
    version_plan,
)
from fleetc.sim.topology_current import template as class_template
from fleetc.sim.topology_desired import (
    cloned_from,
    deployment_labels,
    deployment_spec,
    health_checks,
    kcp_spec,
    owned_labels,
)
from fleetc.sim.topology_plan import VersionPlan
from fleetc.sim.topology_status import ClusterView, cluster_status

DELETION_POLL = 5.0


class SimulatedTopologyReconciler:
    """Simulated CAPI topology controller (Cluster with ``spec.topology``).

    It does not absorb its own writes (:class:`~fleetc.sim.context.SettlingReconciler`): its watches are coalesced,
    so a change of its control plane or MachineDeployments unsettles the Cluster without queuing it at once, and the
    pass its own write queued is the one that sees that change within the same instant."""

    name = "sim-topology"
    level = 4
    """Last of CAPI's controllers at an instant: the Cluster summarises everything below it."""
    group = CAPI_GROUP
    kind = "Cluster"

    def __init__(self, ctx: SimContext) -> None:
        self.ctx = ctx
        self.gate = SettledFilter(ctx)
        self._unchanged: dict[ObjectKey, tuple[tuple[object, ...], VersionPlan]] = {}
        """Per Cluster, the inputs of its last desired-state pass that wrote nothing, and that pass's plan."""

    def watches(self) -> list[Watch]:
        """Its control plane and MachineDeployments, and the ClusterClass it uses."""
        return [
            Watch(CONTROL_PLANE_GROUP, "KubeadmControlPlane", self._owned_changed()),
            Watch(CAPI_GROUP, "MachineDeployment", self._owned_changed()),
            Watch(CAPI_GROUP, "MachinePool", self._owned_changed()),
            Watch(CAPI_GROUP, "ClusterClass", self.gate.waking(self._clusters_of_class())),
        ]

    def reconcile(self, request: Request) -> Result:
        """Current state → desired state → apply; then the Cluster's status."""
        cluster = self.ctx.cache.find(request.key)
        if self.gate.settled(request.key, cluster) or cluster is None or "topology" not in cluster.get("spec", {}):
            return self.gate.rest(request.key)
        if is_deleting(cluster):
            return self._reconcile_delete(cluster)
        self._ensure_metadata(cluster)
        scope, problem = current_state(self.ctx.cache, request.key)
        if scope is None:
            self._write_status(request.key, None, problem, None)
            return self.gate.settle(request.key, DONE)
        plan = self._desired_state(request.key, scope)
        self._write_status(request.key, plan, plan.problem, None)
        return self.gate.settle(request.key, DONE)

    def _desired_state(self, cluster_key: ObjectKey, scope: Topology) -> VersionPlan:
        """Apply the desired state, unless the last pass wrote nothing and its inputs are unchanged (then it would
        write nothing again: :func:`~fleetc.sim.topology_current.desired_state_inputs`); the version plan."""
        cluster = scope.cluster
        provider_done = infrastructure_provisioned(cluster) or "controlPlaneEndpoint" in cluster["spec"]
        inputs = desired_state_inputs(self.ctx.cache, scope) if provider_done else None
        last = self._unchanged.get(cluster_key)
        if inputs is not None and last is not None and last[0] == inputs:
            return last[1]
        writes = self.ctx.writes
        plan, infrastructure_error = self._reconcile_state(cluster_key, scope)
        if infrastructure_error is not None:
            self._write_status(cluster_key, plan, plan.problem, infrastructure_error)
            raise ProviderAPIError(infrastructure_error)
        if inputs is not None and self.ctx.writes == writes:
            self._unchanged[cluster_key] = (inputs, plan)
        else:
            self._unchanged.pop(cluster_key, None)
        return plan

    def _reconcile_state(self, cluster_key: ObjectKey, scope: Topology) -> tuple[VersionPlan, str | None]:
        """Apply the desired state in CAPI's order; the version plan and a provider error to retry on, if any."""
        infrastructure_error = self._reconcile_infrastructure(scope)
        scope = refresh(self.ctx.cache, scope)
        plan = version_plan(self.ctx.cache, scope)
        self._reconcile_control_plane(scope, plan)
        scope = refresh(self.ctx.cache, scope)
        self._reconcile_machine_deployments(scope, plan)
        reconcile_machine_pools(self.ctx, scope, plan)
        self._reconcile_health_checks(refresh(self.ctx.cache, scope))
        self._reconcile_upgrade_step(cluster_key, plan)
        return plan, infrastructure_error

    # reconcile state

    def _ensure_metadata(self, cluster: Manifest) -> None:
        finalizers = cluster["metadata"].get("finalizers", [])
        wanted_labels = {**labels(cluster), **owned_labels(name_of(cluster))}
        if CLUSTER_FINALIZER in finalizers and wanted_labels == labels(cluster):
            return
        metadata = with_metadata(
            cluster,
            finalizers=[*finalizers, CLUSTER_FINALIZER] if CLUSTER_FINALIZER not in finalizers else finalizers,
            labels=dict(sorted(wanted_labels.items())),
        )
        self.ctx.write(cluster, metadata=metadata)

    def _reconcile_infrastructure(self, scope: Topology) -> str | None:
        """The infrastructure cluster object, the provider's cluster, the endpoint and the Cluster's refs."""
        cluster, spec = scope.cluster, dict(scope.cluster["spec"])
        infra_ref = spec.get("infrastructureRef")
        if (
            infra_ref is None
            or self.ctx.cache.get((infra_ref["apiGroup"], infra_ref["kind"]), scope.namespace, infra_ref["name"])
            is None
        ):
            spec["infrastructureRef"] = self._create_infrastructure_cluster(scope)
        error = None
        if not infrastructure_provisioned(cluster) and "controlPlaneEndpoint" not in spec:
            request = ClusterRequest(scope.namespace, scope.name, scope.topology["classRef"]["name"])
            try:
                endpoint = self.ctx.provider.provision_cluster(request, self.ctx.now())
                spec["controlPlaneEndpoint"] = {"host": endpoint.host, "port": endpoint.port}
            except ProviderAPIError as exc:
                error = str(exc)
        self.ctx.write(cluster, spec=spec)
        return error

    def _create_infrastructure_cluster(self, scope: Topology) -> Manifest:
        template_ref = scope.cluster_class["spec"]["infrastructure"]["templateRef"]
        template = class_template(self.ctx.cache, template_ref, scope.cluster_class)
        assert template is not None
        kind = template_ref["kind"].removesuffix("Template")
        group = ref_group(template_ref["apiVersion"])
        name = self.ctx.fresh_name((group, kind), scope.namespace, scope.name)
        self.ctx.create(
            {
                "apiVersion": template_ref["apiVersion"],
                "kind": kind,
                "metadata": {
                    "name": name,
                    "namespace": scope.namespace,
                    "labels": owned_labels(scope.name),
                    "annotations": cloned_from(template),
                    "ownerReferences": [owner_reference(scope.cluster)],
                },
                "spec": copy(template["spec"]["template"]["spec"]),
            }
        )
        return {"apiGroup": group, "kind": kind, "name": name}

    def _clone(self, scope: Topology, template_ref: Manifest, current: str | None, prefix: str, **extra: str) -> str:
        """The per-cluster copy of a class template: the current one while its content matches, else a new one."""
        template = class_template(self.ctx.cache, template_ref, scope.cluster_class)
        assert template is not None
        group_kind: GroupKind = (ref_group(template_ref["apiVersion"]), template_ref["kind"])
        existing = self.ctx.cache.get(group_kind, scope.namespace, current) if current else None
        if existing is not None and existing["spec"] == template["spec"]:
            return name_of(existing)
        name = self.ctx.fresh_name(group_kind, scope.namespace, prefix)
        self.ctx.create(
            {
                "apiVersion": template_ref["apiVersion"],
                "kind": template_ref["kind"],
                "metadata": {
                    "name": name,
                    "namespace": scope.namespace,
                    "labels": owned_labels(scope.name, **extra),
                    "annotations": cloned_from(template),
                    "ownerReferences": [owner_reference(scope.cluster, controller=False)],
                },
                "spec": copy(template["spec"]),
            }
        )
        return name

    def _reconcile_control_plane(self, scope: Topology, plan: VersionPlan) -> None:
        class_spec = scope.cluster_class["spec"]["controlPlane"]
        machine_ref = class_spec["machineInfrastructure"]["templateRef"]
        current = scope.kcp["spec"]["machineTemplate"]["spec"]["infrastructureRef"]["name"] if scope.kcp else None
        infra_name = self._clone(scope, machine_ref, current, scope.name)
        template = class_template(self.ctx.cache, class_spec["templateRef"], scope.cluster_class)
        assert template is not None
        spec = kcp_spec(scope, template, machine_ref, infra_name, plan.control_plane)
        if scope.kcp is None:
            self._create_kcp(scope, template, spec)
        else:
            self.ctx.write(scope.kcp, spec=spec)

    def _create_kcp(self, scope: Topology, template: Manifest, spec: Manifest) -> None:
        name = self.ctx.fresh_name(KCP, scope.namespace, scope.name)
        self.ctx.create(
            {
                "apiVersion": CONTROL_PLANE_API,
                "kind": "KubeadmControlPlane",
                "metadata": {
                    "name": name,
                    "namespace": scope.namespace,
                    "labels": owned_labels(scope.name),
                    "annotations": cloned_from(template),
                    "ownerReferences": [owner_reference(scope.cluster)],
                },
                "spec": spec,
            }
        )
        cluster = self.ctx.cache.find(ObjectKey.of(scope.cluster))
        assert cluster is not None
        ref = {"apiGroup": CONTROL_PLANE_GROUP, "kind": "KubeadmControlPlane", "name": name}
        self.ctx.write(cluster, spec={**cluster["spec"], "controlPlaneRef": ref})

    def _reconcile_machine_deployments(self, scope: Topology, plan: VersionPlan) -> None:
        classes = {c["class"]: c for c in scope.cluster_class["spec"].get("workers", {}).get("machineDeployments", [])}
        wanted = set()
        for entry in scope.entries:
            wanted.add(entry["name"])
            existing = scope.deployments.get(entry["name"])
            md_class = classes.get(entry["class"])
            if md_class is None:
                plan.problem = f"MachineDeployment class {entry['class']} not found in ClusterClass"
                continue
            if existing is None and not plan.create_deployments:
                continue
            version = plan.deployments.get(entry["name"], plan.target)
            self._apply_deployment(scope, entry, md_class, existing, version)
        for topology_name, deployment in scope.deployments.items():
            if topology_name not in wanted:
                self.ctx.delete(deployment)

    def _apply_deployment(
        self, scope: Topology, entry: Manifest, md_class: Manifest, existing: Manifest | None, version: str
    ) -> None:
        template = existing["spec"]["template"]["spec"] if existing else {}
        prefix = f"{scope.name}-{entry['name']}"
        bootstrap = self._clone(
            scope,
            md_class["bootstrap"]["templateRef"],
            template.get("bootstrap", {}).get("configRef", {}).get("name"),
            prefix,
            **{TOPOLOGY_DEPLOYMENT_LABEL: entry["name"]},
        )
        infrastructure = self._clone(
            scope,
            md_class["infrastructure"]["templateRef"],
            template.get("infrastructureRef", {}).get("name"),
            prefix,
            **{TOPOLOGY_DEPLOYMENT_LABEL: entry["name"]},
        )
        spec = deployment_spec(scope, entry, md_class, existing, (bootstrap, infrastructure), version)
        metadata_labels = {**entry.get("metadata", {}).get("labels", {}), **deployment_labels(scope, entry)}
        notes = dict(entry.get("metadata", {}).get("annotations", {}))
        if existing is None:
            name = self.ctx.fresh_name(MACHINE_DEPLOYMENT, scope.namespace, prefix)
            metadata: Manifest = {
                "name": name,
                "namespace": scope.namespace,
                "labels": metadata_labels,
                "ownerReferences": [owner_reference(scope.cluster, controller=False)],
            }
            if notes:
                metadata["annotations"] = notes
            self.ctx.create({"apiVersion": CAPI_API, "kind": "MachineDeployment", "metadata": metadata, "spec": spec})
            return
        merged = {**annotations_of(existing), **notes}
        self.ctx.write(
            existing,
            spec=spec,
            metadata=with_metadata(
                existing, labels={**labels(existing), **metadata_labels}, annotations=merged or None
            ),
        )

    def _reconcile_health_checks(self, scope: Topology) -> None:
        wanted = health_checks(scope)
        existing = {name_of(c): c for c in self.ctx.cache.of_cluster(MACHINE_HEALTH_CHECK, scope.namespace, scope.name)}
        for name, desired in wanted.items():
            if name not in existing:
                self.ctx.create(desired)
            else:
                self.ctx.write(existing[name], spec=desired["spec"])
        for name, current in existing.items():
            if name not in wanted and TOPOLOGY_OWNED_LABEL in labels(current):
                self.ctx.delete(current)

    def _reconcile_upgrade_step(self, cluster_key: ObjectKey, plan: VersionPlan) -> None:
        cluster = self.ctx.cache.find(cluster_key)
        assert cluster is not None
        kcp = control_plane_of(self.ctx.cache, cluster)
        behind = kcp is not None and (
            kcp["spec"]["version"] != plan.target or any(v != plan.target for v in plan.deployments.values())
        )
        notes = dict(annotations_of(cluster))
        if behind and kcp is not None:
            notes[UPGRADE_STEP] = kcp["spec"]["version"]
        else:
            notes.pop(UPGRADE_STEP, None)
        if notes != annotations_of(cluster):
            self.ctx.write(cluster, metadata=with_metadata(cluster, annotations=notes or None))

    def _write_status(
        self, cluster_key: ObjectKey, plan: VersionPlan | None, problem: str | None, infrastructure_error: str | None
    ) -> None:
        cluster = self.ctx.cache.find(cluster_key)
        assert cluster is not None
        namespace, name = cluster_key.namespace, cluster_key.name
        kcp = control_plane_of(self.ctx.cache, cluster)
        deployments = owned_deployments(self.ctx.cache, namespace, name)
        cluster_class = class_of(self.ctx.cache, cluster)
        view = ClusterView(
            cluster=cluster,
            kcp=kcp,
            deployments=deployments,
            machines=self.ctx.cache.of_cluster(MACHINE, namespace, name),
            plan=plan,
            problem=problem,
            infrastructure_provisioned=infrastructure_provisioned(cluster) or "controlPlaneEndpoint" in cluster["spec"],
            infrastructure_error=infrastructure_error,
            catalogue=cluster_class["spec"].get("kubernetesVersions") if cluster_class else None,
            now=self.ctx.now(),
        )
        self.ctx.write_status(cluster, cluster_status(view))

    # deletion

    def _reconcile_delete(self, cluster: Manifest) -> Result:
        namespace, name = cluster["metadata"]["namespace"], name_of(cluster)
        self._unchanged.pop(ObjectKey.of(cluster), None)
        for group_kind in (KCP, MACHINE_DEPLOYMENT, MACHINE_SET, MACHINE_POOL):
            for owned in self.ctx.cache.of_cluster(group_kind, namespace, name):
                if not is_deleting(owned):
                    self.ctx.delete(owned)
        if self.ctx.cache.of_cluster(MACHINE, namespace, name):
            self._write_status(ObjectKey.of(cluster), None, None, None)
            return Result(requeue_after=DELETION_POLL)
        finalizers = [f for f in cluster["metadata"].get("finalizers", []) if f != CLUSTER_FINALIZER]
        self.ctx.write(cluster, metadata=with_metadata(cluster, finalizers=finalizers or None))
        return DONE

    # watch mappers

    def _owned_changed(self) -> Mapper:
        return coalesced(self.ctx, self.name, self.gate.waking(owner_of("Cluster")))

    def _clusters_of_class(self) -> Mapper:
        def mapper(cluster_class: Manifest) -> list[ObjectKey]:
            namespace, class_name = cluster_class["metadata"]["namespace"], name_of(cluster_class)
            return [
                key(CLUSTER, c["metadata"]["namespace"], name_of(c))
                for c in self.ctx.cache.all(CLUSTER)
                if c["spec"].get("topology", {}).get("classRef", {}).get("name") == class_name
                and c["spec"]["topology"]["classRef"].get("namespace", c["metadata"]["namespace"]) == namespace
            ]

        return mapper
