"""The simulated Machine controller: bootstrap → infrastructure → Node, deletion, and the Machine's status.

Follows ``core/reconcilers/machine/machine_controller.go``: a Machine gets its bootstrap data (a join waits for
the Cluster's ``ControlPlaneInitialized``, as the KubeadmConfig controller does), then its infrastructure is
provisioned (``spec.providerID`` once the VM is up), then the Node is found (``status.nodeRef``, only once the
workload cluster answers); deletion goes through CAPI's stages — drain, pre-terminate hooks, infrastructure
deletion (:mod:`fleetc.sim.machine_delete`) — and then drops the finalizer. A Machine has no start-up timeout of
its own: only a MachineHealthCheck turns "never got a Node" into remediation. A joined Node may go bad when a
fault says so (:meth:`~fleetc.sim.infra.InfrastructureProvider.node_fault`): ``NodeReady``/``NodeHealthy`` then
report it (``machine_controller_status.go`` L300-400).

Simulation: no KubeadmConfig or DevMachine objects are created. The bootstrap step is immediate once allowed;
the infrastructure is one :meth:`~fleetc.sim.infra.InfrastructureProvider.provision_machine` call
whose answer (VM and Node times) is recorded on the Machine (``sim.fleetc.io/*-ready-at`` annotations), so the
run survives a restart from a persisted store and a reconcile is requeued exactly when the next step is due.
"""

from __future__ import annotations

from fleetc.contract.objects import annotations_of, cluster_name, is_deleting, labels, name_of
from fleetc.contract.vocabulary import (
    CAPI_GROUP,
    CLUSTER,
    CONTROL_PLANE_GROUP,
    DEPLOYMENT_NAME_LABEL,
    KCP,
    MACHINE,
    MACHINE_DEPLOYMENT,
    MACHINE_FINALIZER,
    MACHINE_SET,
    SET_NAME_LABEL,
    TOPOLOGY_DEPLOYMENT_LABEL,
)
from fleetc.core.errors import ProviderAPIError
from fleetc.core.keys import Manifest, ObjectKey
from fleetc.runtime.manager import DONE, Mapper, Request, Result, Watch
from fleetc.sim.api import (
    NEVER,
    SIM_INFRA_DELETED,
    SIM_INFRA_TEMPLATE,
    SIM_KUBEADM_CONFIG,
    SIM_NODE_READY,
    SIM_VM_READY,
    key,
    moment,
    stamp,
)
from fleetc.sim.context import SettledFilter, SettlingReconciler, SimContext, with_metadata
from fleetc.sim.infra import MachineRequest
from fleetc.sim.machine_delete import DeletionInputs, deletion_stage
from fleetc.sim.machine_status import MachineFacts, machine_status
from fleetc.sim.machines import (
    bullets,
    has_node_ref,
    is_control_plane,
    kcp_outdated_reasons,
    node_ready_at,
    node_up,
    template_outdated_reasons,
    vm_ready_at,
)
from fleetc.sim.status import find


def infrastructure_provisioned(cluster: Manifest | None) -> bool:
    """The Cluster's ``status.initialization.infrastructureProvisioned``."""
    return bool(cluster and cluster.get("status", {}).get("initialization", {}).get("infrastructureProvisioned"))


def control_plane_initialized(cluster: Manifest | None) -> bool:
    """The Cluster's ``status.initialization.controlPlaneInitialized``."""
    return bool(cluster and cluster.get("status", {}).get("initialization", {}).get("controlPlaneInitialized"))


def owner(machine: Manifest, kind: str) -> str | None:
    """The name of the Machine's controller owner of ``kind``."""
    for ref in machine["metadata"].get("ownerReferences", []):
        if ref["kind"] == kind:
            name: str = ref["name"]
            return name
    return None


class SimulatedMachineReconciler(SettlingReconciler):
    """Simulated CAPI Machine controller."""

    name = "sim-machine"
    level = 0
    """Machines settle first at an instant: every other simulated controller summarises them."""
    group = CAPI_GROUP
    kind = "Machine"

    def __init__(self, ctx: SimContext) -> None:
        self.ctx = ctx
        self.gate = SettledFilter(ctx)
        self._generations: dict[ObjectKey, int] = {}
        self._epoch = ctx.provider.epoch

    def watches(self) -> list[Watch]:
        """Cluster changes wake Machines waiting on it; an owner's spec change recomputes UpToDate."""
        return [
            Watch(CAPI_GROUP, "Cluster", self.gate.waking(self._waiting_on_cluster)),
            Watch(CONTROL_PLANE_GROUP, "KubeadmControlPlane", self.gate.waking(self._machines_of_changed())),
            Watch(CAPI_GROUP, "MachineDeployment", self.gate.waking(self._machines_of_changed())),
        ]

    def absorbs_own_write(self, key: ObjectKey) -> bool:
        """True when ``key`` is settled and the provider's faults have not changed since its last pass."""
        return self.ctx.provider.epoch == self._epoch and self.gate.holds(key)

    def reconcile(self, request: Request) -> Result:
        """One pass: deletion, or bootstrap → infrastructure → provider ID → status."""
        if self.ctx.provider.epoch != self._epoch:  # new faults: every Machine must be looked at again
            self._epoch = self.ctx.provider.epoch
            self.gate.reset()
        machine = self.ctx.cache.find(request.key)
        if self.gate.settled(request.key, machine) or machine is None:
            return self.gate.rest(request.key)
        cluster = self.ctx.cache.get(CLUSTER, request.key.namespace, machine["spec"]["clusterName"])
        if is_deleting(machine):
            return self.gate.settle(request.key, self._reconcile_delete(request.key, machine, cluster))
        self._reconcile_bootstrap_and_infrastructure(machine, cluster)
        machine = self._reconcile_provider_id(self._current(request.key))
        fault = self._node_fault(machine, cluster)
        facts = self._facts(machine, cluster, node_fault=fault)
        self.ctx.write_status(machine, machine_status(machine, facts, self.ctx.now()))
        return self.gate.settle(request.key, self._next_wakeup(self._current(request.key), cluster))

    # stages

    def _reconcile_bootstrap_and_infrastructure(self, machine: Manifest, cluster: Manifest | None) -> None:
        spec = machine["spec"]
        bootstrapped = "dataSecretName" in spec["bootstrap"]
        if not bootstrapped and self._can_bootstrap(machine, cluster):
            spec = {**spec, "bootstrap": {**spec["bootstrap"], "dataSecretName": name_of(machine)}}
            bootstrapped = True
        metadata = machine["metadata"]
        if MACHINE_FINALIZER not in metadata.get("finalizers", []):
            metadata = with_metadata(machine, finalizers=[*metadata.get("finalizers", []), MACHINE_FINALIZER])
        if bootstrapped and vm_ready_at(machine) is None and cluster is not None:
            try:
                boot = self.ctx.provider.provision_machine(self._request(machine, cluster), self.ctx.now())
            except ProviderAPIError:
                self.ctx.write(machine, spec=spec)
                raise
            node = NEVER if boot.node_ready_at is None else stamp(boot.node_ready_at)
            stamps = {SIM_VM_READY: stamp(boot.vm_ready_at), SIM_NODE_READY: node}
            metadata = {**metadata, "annotations": {**annotations_of(machine), **stamps}}
        self.ctx.write(machine, spec=spec, metadata=metadata)

    def _reconcile_provider_id(self, machine: Manifest) -> Manifest:
        vm_at = vm_ready_at(machine)
        if vm_at is None or vm_at > self.ctx.now() or "providerID" in machine["spec"]:
            return machine
        cluster = self.ctx.cache.get(CLUSTER, machine["metadata"]["namespace"], machine["spec"]["clusterName"])
        provider_id = self.ctx.provider.provider_id(self._request(machine, cluster))
        self.ctx.write(machine, spec={**machine["spec"], "providerID": provider_id})
        return self._current(ObjectKey.of(machine))

    def _reconcile_delete(self, machine_key: ObjectKey, machine: Manifest, cluster: Manifest | None) -> Result:
        now, provider = self.ctx.now(), self.ctx.provider
        fault = self._node_fault(machine, cluster)
        made: list[MachineRequest] = []

        def request() -> MachineRequest:  # what the provider calls below are about, made once if at all
            if not made:
                made.append(self._request(machine, cluster))
            return made[0]

        inputs = DeletionInputs(
            now=now,
            node_deleted=fault == "Deleted",
            node_unreachable=fault == "NotReady",
            cluster_deleting=cluster is None or is_deleting(cluster),
            owner_alive=self._owner_alive(machine, KCP),
            infrastructure_kind=machine["spec"]["infrastructureRef"]["kind"],
            drain_blocked_until=lambda started: provider.drain_blocked_until(request(), started),
            volumes_attached_until=lambda started: provider.volumes_attached_until(request(), started),
            delete_infrastructure=lambda: provider.delete_machine(request(), now),
        )
        stage = deletion_stage(machine, inputs)
        if stage.gone_at is not None and stage.reason is not None:
            notes = {**annotations_of(machine), SIM_INFRA_DELETED: stamp(stage.gone_at)}
            self.ctx.write(machine, metadata=with_metadata(machine, annotations=notes))
            machine = self._current(machine_key)
        facts = self._facts(machine, cluster, node_fault=fault)._replace(
            deleting_stage=(stage.reason, stage.message) if stage.reason else None
        )
        status = machine_status(machine, facts, now)
        if stage.deletion:
            status["deletion"] = stage.deletion
        self.ctx.write_status(machine, status)
        if stage.reason is not None:
            return Result(requeue_after=stage.due - now) if stage.due is not None else DONE
        machine = self._current(machine_key)
        finalizers = [f for f in machine["metadata"].get("finalizers", []) if f != MACHINE_FINALIZER]
        self.ctx.write(machine, metadata=with_metadata(machine, finalizers=finalizers or None))
        return DONE

    # what the stages need

    def _current(self, machine_key: ObjectKey) -> Manifest:
        machine = self.ctx.cache.find(machine_key)
        assert machine is not None, f"{machine_key} vanished during its own reconcile"
        return machine

    def _can_bootstrap(self, machine: Manifest, cluster: Manifest | None) -> bool:
        if not infrastructure_provisioned(cluster):
            return False
        if is_control_plane(machine) and annotations_of(machine).get(SIM_KUBEADM_CONFIG, "").startswith("init/"):
            return True
        return control_plane_initialized(cluster)

    def _request(self, machine: Manifest, cluster: Manifest | None) -> MachineRequest:
        namespace = machine["metadata"]["namespace"]
        pool = labels(machine).get(TOPOLOGY_DEPLOYMENT_LABEL, "")
        topology = (cluster or {}).get("spec", {}).get("topology", {})
        classes = {md["name"]: md["class"] for md in topology.get("workers", {}).get("machineDeployments", [])}
        infra_ref = machine["spec"]["infrastructureRef"]
        template_name = annotations_of(machine).get(SIM_INFRA_TEMPLATE, "")
        template = self.ctx.cache.get((infra_ref["apiGroup"], f"{infra_ref['kind']}Template"), namespace, template_name)
        return MachineRequest(
            namespace=namespace,
            cluster=machine["spec"]["clusterName"],
            machine=name_of(machine),
            role="control-plane" if is_control_plane(machine) else "worker",
            pool=pool,
            pool_class=classes.get(pool, ""),
            version=machine["spec"].get("version", ""),
            class_revision=topology.get("classRef", {}).get("name", ""),
            control_plane_initialized=control_plane_initialized(cluster),
            template=template["spec"].get("template", {}).get("spec") if template else None,
            upgrade=self.ctx.provider.asks_upgrade and self._owner_rolling_out(machine),
        )

    def _owner_rolling_out(self, machine: Manifest) -> bool:
        """The Machine's owner still has Machines of another spec: another MachineSet of its MachineDeployment, or
        control-plane Machines of another version, template or kubeadm configuration."""
        namespace, mine = machine["metadata"]["namespace"], labels(machine)
        siblings = [
            m
            for m in self.ctx.cache.of_cluster(MACHINE, namespace, machine["spec"]["clusterName"])
            if name_of(m) != name_of(machine)
        ]
        if is_control_plane(machine):
            made = _made_of(machine)
            return any(is_control_plane(m) and _made_of(m) != made for m in siblings)
        deployment = mine.get(DEPLOYMENT_NAME_LABEL)
        return any(
            labels(m).get(DEPLOYMENT_NAME_LABEL) == deployment
            and labels(m).get(SET_NAME_LABEL) != mine.get(SET_NAME_LABEL)
            for m in siblings
        )

    def _node_fault(self, machine: Manifest, cluster: Manifest | None) -> str | None:
        """``NotReady`` or ``Deleted`` once the provider's Node of a joined Machine went bad, else None."""
        if not self.ctx.provider.checks_nodes:
            return None
        up_at = node_ready_at(machine)
        if up_at is None or not has_node_ref(machine):
            return None
        fault = self.ctx.provider.node_fault(self._request(machine, cluster), up_at)
        return fault.state if fault is not None and fault.at <= self.ctx.now() else None

    def _facts(self, machine: Manifest, cluster: Manifest | None, node_fault: str | None = None) -> MachineFacts:
        now = self.ctx.now()
        vm_at = vm_ready_at(machine)
        min_ready = machine["spec"].get("minReadySeconds", 0)
        return MachineFacts(
            control_plane=is_control_plane(machine),
            infrastructure_kind=machine["spec"]["infrastructureRef"]["kind"],
            cluster_infrastructure_ready=infrastructure_provisioned(cluster),
            cluster_initialized=control_plane_initialized(cluster),
            bootstrapped="dataSecretName" in machine["spec"]["bootstrap"],
            vm_up=vm_at is not None and vm_at <= now,
            node_up=node_up(machine, now),
            provider_id=machine["spec"].get("providerID"),
            deleting=is_deleting(machine),
            up_to_date=self._up_to_date(machine),
            min_ready_seconds=min_ready,
            node_fault=node_fault,
        )

    def _up_to_date(self, machine: Manifest) -> tuple[bool, str]:
        namespace = machine["metadata"]["namespace"]
        kcp_name = owner(machine, "KubeadmControlPlane")
        if kcp_name is not None:
            kcp = self.ctx.cache.get(KCP, namespace, kcp_name)
            reasons = kcp_outdated_reasons(machine, kcp) if kcp is not None else []
            return not reasons, bullets(reasons)
        set_name = owner(machine, "MachineSet")
        machine_set = self.ctx.cache.get(MACHINE_SET, namespace, set_name) if set_name else None
        deployment_name = owner(machine_set, "MachineDeployment") if machine_set else None
        deployment = self.ctx.cache.get(MACHINE_DEPLOYMENT, namespace, deployment_name) if deployment_name else None
        if machine_set is None or deployment is None:
            return True, ""
        reasons = template_outdated_reasons(machine_set["spec"]["template"], deployment["spec"]["template"])
        return not reasons, bullets(reasons)

    def _owner_alive(self, machine: Manifest, group_kind: tuple[str, str]) -> bool:
        name = owner(machine, group_kind[1])
        found = self.ctx.cache.get(group_kind, machine["metadata"]["namespace"], name) if name else None
        return found is not None and not is_deleting(found)

    def _next_wakeup(self, machine: Manifest, cluster: Manifest | None) -> Result:
        now = self.ctx.now()
        due = [at for at in (vm_ready_at(machine), node_ready_at(machine)) if at is not None and at > now]
        up_at = node_ready_at(machine) if self.ctx.provider.checks_nodes else None
        if up_at is not None and has_node_ref(machine):
            fault = self.ctx.provider.node_fault(self._request(machine, cluster), up_at)
            if fault is not None and fault.at > now:
                due.append(fault.at)
        available = _available_at(machine)
        if available is not None and available > now:
            due.append(available)
        return Result(requeue_after=min(due) - now) if due else DONE

    # watch mappers

    def _waiting_on_cluster(self, cluster: Manifest) -> list[ObjectKey]:
        """Machines that wait for the Cluster: no bootstrap data yet, or a Node up but not yet reported."""
        if not infrastructure_provisioned(cluster):
            return []
        namespace, now = cluster["metadata"]["namespace"], self.ctx.now()
        return [
            key(MACHINE, namespace, name_of(m))
            for m in self.ctx.cache.of_cluster(MACHINE, namespace, name_of(cluster))
            if "dataSecretName" not in m["spec"]["bootstrap"] or (not has_node_ref(m) and node_up(m, now))
        ]

    def _machines_of_changed(self) -> Mapper:
        def mapper(owner_object: Manifest) -> list[ObjectKey]:
            owner_key = ObjectKey.of(owner_object)
            generation = owner_object["metadata"].get("generation", 0)
            if self._generations.get(owner_key) == generation:
                return []
            self._generations[owner_key] = generation
            namespace, owner_name = owner_key.namespace, owner_key.name
            cluster = cluster_name(owner_object)
            machines = self.ctx.cache.of_cluster(MACHINE, namespace, cluster or "")
            return [key(MACHINE, namespace, name_of(m)) for m in machines if _belongs(m, owner_object, owner_name)]

        return mapper


def _made_of(machine: Manifest) -> tuple[str, str, str]:
    """What a control-plane Machine was made from: version, infrastructure template, kubeadm configuration."""
    notes = annotations_of(machine)
    config = notes.get(SIM_KUBEADM_CONFIG, "").partition("/")[2]
    return machine["spec"].get("version", ""), notes.get(SIM_INFRA_TEMPLATE, ""), config


def _belongs(machine: Manifest, owner_object: Manifest, owner_name: str) -> bool:
    if owner_object["kind"] == "KubeadmControlPlane":
        return owner(machine, "KubeadmControlPlane") == owner_name
    return labels(machine).get(DEPLOYMENT_NAME_LABEL) == owner_name


def _available_at(machine: Manifest) -> float | None:
    min_ready = machine["spec"].get("minReadySeconds", 0)
    if not min_ready:
        return None
    ready = find(machine.get("status", {}).get("conditions", []), "Ready")
    if ready is None or ready["status"] != "True":
        return None
    return moment(ready["lastTransitionTime"]) + float(min_ready)
