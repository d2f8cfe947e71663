"""The simulated MachineHealthCheck controller: flag Machines that never got a Node or whose Node went bad.

Follows ``core/reconcilers/machinehealthcheck/`` at CAPI v1.14:

- targets are the Cluster's Machines matching ``spec.selector`` — deleting ones and ones no MachineSet or KCP owns
  included, as v1.14 lists them (``getMachinesFromMHC``) — except those annotated ``cluster.x-k8s.io/paused`` or
  ``cluster.x-k8s.io/skip-remediation`` (``shouldSkipRemediation``); a deleting Machine is never counted healthy
  and never asked to be remediated (``OwnerRemediated`` is left alone, L539); nothing is judged before the
  Cluster's infrastructure is ready, and only control-plane Machines before the control plane is initialised
  (``machinehealthcheck_targets.go`` L93-99); ``cluster.x-k8s.io/remediate-machine`` fails a Machine at once
  (``HasRemediateAnnotation``), and so does a Node deleted under a Machine that reported it (``NodeDeleted``);
- a Machine without a Node fails after ``checks.nodeStartupTimeoutSeconds`` (default 600; 0 disables), counted
  from the latest of its creation, the Cluster's ``InfrastructureReady`` and ``ControlPlaneInitialized`` and its
  own ``InfrastructureReady`` (L222-247): ``HealthCheckSucceeded=False/NodeStartupTimeout`` "Node failed to report
  startup in 10m0s"; a Machine with a Node fails when a Node condition (the simulation's Node ``Ready`` is the
  Machine's ``NodeReady``) or a Machine condition listed in ``checks`` holds longer than its timeout
  (``UnhealthyNode``/``UnhealthyMachine``); healthy Machines with a Node and no condition on its way to a timeout
  get ``HealthCheckSucceeded=True`` (one on its way counts neither healthy nor unhealthy, L398-403);
  ``HealthCheckSucceeded`` is not set on a Machine still waiting for its Node (L385-416);
- remediation is requested (``OwnerRemediated=False/WaitingForRemediation``, ``machinehealthcheck_controller.go``
  L543-555) only while the unhealthy count (expected − healthy) is within ``remediation.triggerIf``
  (``unhealthyLessThanOrEqualTo``, default 100%, rounded down; or ``unhealthyInRange``), else
  ``RemediationAllowed=False/TooManyUnhealthy`` (L731-755). The owner (KCP or MachineSet) remediates.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any, NamedTuple

from fleetc.contract.objects import annotations_of, is_deleting, labels, name_of
from fleetc.contract.vocabulary import CAPI_GROUP, CLUSTER, CLUSTER_NAME_LABEL, MACHINE, MACHINE_HEALTH_CHECK
from fleetc.core.keys import Manifest, ObjectKey
from fleetc.runtime.manager import DONE, Mapper, Request, Result, Watch
from fleetc.sim.api import (
    PAUSED_ANNOTATION,
    REMEDIATE_MACHINE_ANNOTATION,
    SKIP_REMEDIATION_ANNOTATION,
    go_duration,
    key,
    moment,
)
from fleetc.sim.context import ChangedView, SettledFilter, SettlingReconciler, SimContext
from fleetc.sim.machine import control_plane_initialized, infrastructure_provisioned
from fleetc.sim.machines import has_node_ref, health_view, is_control_plane
from fleetc.sim.status import FALSE, TRUE, Cond, build, conditions_of, find

DEFAULT_NODE_STARTUP_TIMEOUT = 600
REMEDIATE_MESSAGE = "Health check failed: marked for remediation via cluster.x-k8s.io/remediate-machine annotation"
_RANGE = re.compile(r"^\[(\d+)-(\d+)\]$")


class Verdict(NamedTuple):
    """One target's health: unhealthy (reason, why), healthy with a Node, or to look again at ``recheck``."""

    unhealthy: tuple[str, str] | None = None
    healthy: bool = False
    recheck: float | None = None


def selector_matches(selector: Manifest, obj: Manifest) -> bool:
    """``matchLabels`` of a label selector holds for ``obj``."""
    wanted: dict[str, str] = selector.get("matchLabels", {})
    return wanted.items() <= labels(obj).items()


def _passed(machine: Manifest) -> bool:
    """The Machine carries ``HealthCheckSucceeded=True`` as this controller writes it, and no ``OwnerRemediated``."""
    conditions = conditions_of(machine)
    found = find(conditions, "HealthCheckSucceeded")
    return (
        found is not None
        and found["status"] == TRUE
        and found["reason"] == "HealthCheckSucceeded"
        and found.get("message") == ""
        and found.get("observedGeneration") == machine["metadata"]["generation"]
        and find(conditions, "OwnerRemediated") is None
    )


def _since(obj: Manifest, condition_type: str) -> float | None:
    found = find(conditions_of(obj), condition_type)
    if found is None or found["status"] != TRUE:
        return None
    return moment(found["lastTransitionTime"])


class SimulatedMachineHealthCheckReconciler(SettlingReconciler):
    """Simulated CAPI MachineHealthCheck controller."""

    name = "sim-machinehealthcheck"
    level = 3
    """After the owners of the Machines it judges have acted at this instant."""
    group = CAPI_GROUP
    kind = "MachineHealthCheck"

    def __init__(self, ctx: SimContext) -> None:
        self.ctx = ctx
        self.gate = SettledFilter(ctx)
        self._cluster_state: dict[ObjectKey, tuple[bool, bool]] = {}
        self._selector_lists: dict[
            tuple[str, str], tuple[Sequence[Manifest], list[tuple[ObjectKey, dict[str, str]]]]
        ] = {}

    def watches(self) -> list[Watch]:
        """The Machines it targets, and its Cluster when infrastructure or initialisation changes."""
        return [
            Watch(CAPI_GROUP, "Machine", self.gate.waking(ChangedView(health_view, self._checks_of_machine))),
            Watch(CAPI_GROUP, "Cluster", self.gate.waking(self._checks_of_cluster())),
        ]

    def reconcile(self, request: Request) -> Result:
        """Judge every target, flag or clear them, report."""
        check = self.ctx.cache.find(request.key)
        if self.gate.settled(request.key, check) or check is None:
            return self.gate.rest(request.key)
        namespace = request.key.namespace
        cluster = self.ctx.cache.get(CLUSTER, namespace, check["spec"]["clusterName"])
        targets = self._targets(check)
        verdicts = {name_of(m): self._judge(check, cluster, m) for m in targets}
        healthy = sum(v.healthy for v in verdicts.values())
        allowed, remaining, why = self._remediation_allowed(check, len(targets), len(targets) - healthy)
        for machine in targets:
            self._mark(machine, verdicts[name_of(machine)], allowed)
        blocked = None if allowed else f"Remediation is not allowed, {why}"
        self.ctx.write_status(check, self._status(check, targets, healthy, remaining, blocked))
        due = [v.recheck for v in verdicts.values() if v.recheck is not None]
        result = Result(requeue_after=max(min(due) - self.ctx.now(), 0.0)) if due else DONE
        return self.gate.settle(request.key, result)

    def _targets(self, check: Manifest) -> list[Manifest]:
        """The Cluster's Machines the selector matches, but those with the ``cluster.x-k8s.io/paused`` or
        ``cluster.x-k8s.io/skip-remediation`` annotation (``getTargetsFromMHC``, ``shouldSkipRemediation``)."""
        namespace = check["metadata"]["namespace"]
        machines = self.ctx.cache.of_cluster(MACHINE, namespace, check["spec"]["clusterName"])
        selector = check["spec"].get("selector", {})
        return [m for m in machines if selector_matches(selector, m) and not _skipped(m)]

    def _judge(self, check: Manifest, cluster: Manifest | None, machine: Manifest) -> Verdict:
        if cluster is None or not infrastructure_provisioned(cluster):
            return Verdict()
        if not control_plane_initialized(cluster) and not is_control_plane(machine):
            return Verdict()
        if REMEDIATE_MACHINE_ANNOTATION in annotations_of(machine):
            return Verdict(unhealthy=("HasRemediateAnnotation", REMEDIATE_MESSAGE))
        # Nodes are deleted only by injected faults: without them the NodeHealthy lookup is skipped (hot path).
        if self.ctx.provider.checks_nodes and has_node_ref(machine) and _node_deleted(machine):
            node = machine["status"]["nodeRef"]["name"]
            return Verdict(unhealthy=("NodeDeleted", f"  * Node {node} has been deleted"))
        now, checks = self.ctx.now(), check["spec"].get("checks", {})
        failures, recheck = self._condition_failures(machine, checks, now)
        if has_node_ref(machine):
            return _verdict(failures, recheck, healthy=recheck is None and not is_deleting(machine))
        timeout = checks.get("nodeStartupTimeoutSeconds", DEFAULT_NODE_STARTUP_TIMEOUT)
        if timeout:
            started = [moment(machine["metadata"]["creationTimestamp"])]
            times = (_since(cluster, "InfrastructureReady"), _since(cluster, "ControlPlaneInitialized"))
            started += [t for t in (*times, _since(machine, "InfrastructureReady")) if t is not None]
            deadline = max(started) + timeout
            if now >= deadline:
                failures.append(("NodeStartupTimeout", f"Node failed to report startup in {go_duration(timeout)}"))
            else:
                recheck = deadline if recheck is None else min(deadline, recheck)
        return _verdict(failures, recheck, healthy=False)

    def _condition_failures(
        self, machine: Manifest, checks: Manifest, now: float
    ) -> tuple[list[tuple[str, str]], float | None]:
        """Node (via the Machine's NodeReady) and Machine conditions held past their timeouts."""
        failures: list[tuple[str, str]] = []
        recheck: float | None = None
        conditions = conditions_of(machine)
        rules = [("UnhealthyNode", "Node", rule) for rule in checks.get("unhealthyNodeConditions", [])]
        if not has_node_ref(machine):
            rules = []
        rules += [("UnhealthyMachine", "Machine", rule) for rule in checks.get("unhealthyMachineConditions", [])]
        for reason, subject, rule in rules:
            condition_type = "NodeReady" if subject == "Node" and rule["type"] == "Ready" else rule["type"]
            found = find(conditions, condition_type)
            if found is None or found["status"] != rule["status"]:
                continue
            until = moment(found["lastTransitionTime"]) + rule["timeoutSeconds"]
            if now < until:
                recheck = until if recheck is None else min(recheck, until)
                continue
            detail = f"with reason {found['reason']} " if subject == "Machine" else ""
            failures.append(
                (
                    reason,
                    f"Condition {rule['type']} on {subject} is reporting status {rule['status']} "
                    f"{detail}for more than {go_duration(rule['timeoutSeconds'])}",
                )
            )
        return failures, recheck

    def _remediation_allowed(self, check: Manifest, total: int, unhealthy: int) -> tuple[bool, int, str]:
        trigger = check["spec"].get("remediation", {}).get("triggerIf", {})
        match = _RANGE.match(str(trigger.get("unhealthyInRange", "")))
        if match:
            low, high = int(match[1]), int(match[2])
            allowed = low <= unhealthy <= high
            why = f"the number of unhealthy machines is not within the range {trigger['unhealthyInRange']}"
            return allowed, max(high - unhealthy, 0), why
        limit = trigger.get("unhealthyLessThanOrEqualTo", "100%")
        percent = isinstance(limit, str) and limit.endswith("%")
        maximum = total * int(str(limit)[:-1]) // 100 if percent else int(limit)
        why = (
            "the number of not started or unhealthy machines exceeds maxUnhealthy "
            f"(total: {total}, unhealthy: {unhealthy}, maxUnhealthy: {limit})"
        )
        return unhealthy <= maximum, max(maximum - unhealthy, 0), why

    def _mark(self, machine: Manifest, verdict: Verdict, allowed: bool) -> None:
        """Write ``HealthCheckSucceeded`` (and ``OwnerRemediated``) on a Machine when they change."""
        updates: list[Cond] = []
        drop: set[str] = set()
        if verdict.unhealthy is not None:
            reason, lines = verdict.unhealthy
            message = lines if reason == "HasRemediateAnnotation" else f"Health check failed:\n{lines}"
            updates.append(Cond("HealthCheckSucceeded", FALSE, reason, message))
            owner = find(conditions_of(machine), "OwnerRemediated")
            if allowed and not is_deleting(machine) and (owner is None or owner["status"] == TRUE):
                updates.append(Cond("OwnerRemediated", FALSE, "WaitingForRemediation", "Waiting for remediation"))
        elif verdict.healthy:
            if _passed(machine):
                return  # already marked so (the common case: saves rebuilding conditions to find nothing changed)
            updates.append(Cond("HealthCheckSucceeded", TRUE, "HealthCheckSucceeded"))
            drop.add("OwnerRemediated")
        else:
            return
        previous = conditions_of(machine)
        wanted: list[Cond | dict[str, Any]] = [c for c in previous if c["type"] not in drop]
        for update in updates:
            position = next((i for i, c in enumerate(wanted) if _type(c) in (update.type, "Updating")), len(wanted))
            if position < len(wanted) and _type(wanted[position]) == update.type:
                wanted[position] = update
            else:
                wanted.insert(position, update)
        conditions = build(previous, wanted, machine["metadata"]["generation"], self.ctx.now())
        self.ctx.write_status(machine, {**machine.get("status", {}), "conditions": conditions})

    def _status(
        self, check: Manifest, targets: list[Manifest], healthy: int, remaining: int, blocked: str | None
    ) -> dict[str, Any]:
        remediation = (
            Cond("RemediationAllowed", TRUE, "RemediationAllowed")
            if blocked is None
            else Cond("RemediationAllowed", FALSE, "TooManyUnhealthy", blocked)
        )
        generation = check["metadata"]["generation"]
        conditions = build(
            conditions_of(check), [remediation, Cond("Paused", FALSE, "NotPaused")], generation, self.ctx.now()
        )
        return {
            "conditions": conditions,
            "currentHealthy": healthy,
            "expectedMachines": len(targets),
            "observedGeneration": generation,
            "remediationsAllowed": remaining,
            "targets": sorted(name_of(m) for m in targets),
        }

    # watch mappers

    def _checks_of_machine(self, machine: Manifest) -> list[ObjectKey]:
        namespace = machine["metadata"]["namespace"]
        have = labels(machine)
        cluster = have.get(CLUSTER_NAME_LABEL) or machine["spec"].get("clusterName", "")
        return [check for check, wanted in self._selectors(namespace, cluster) if wanted.items() <= have.items()]

    def _selectors(self, namespace: str, cluster: str) -> list[tuple[ObjectKey, dict[str, str]]]:
        """The cluster's health checks with their ``matchLabels``, kept while the cache's list of them is the same."""
        checks = self.ctx.cache.of_cluster(MACHINE_HEALTH_CHECK, namespace, cluster)
        found = self._selector_lists.get((namespace, cluster))
        if found is None or found[0] is not checks:
            selectors = [
                (key(MACHINE_HEALTH_CHECK, namespace, name_of(c)), c["spec"].get("selector", {}).get("matchLabels", {}))
                for c in checks
            ]
            found = self._selector_lists[(namespace, cluster)] = (checks, selectors)
        return found[1]

    def _checks_of_cluster(self) -> Mapper:
        def mapper(cluster: Manifest) -> list[ObjectKey]:
            state = (infrastructure_provisioned(cluster), control_plane_initialized(cluster))
            cluster_key = ObjectKey.of(cluster)
            if self._cluster_state.get(cluster_key) == state:
                return []
            self._cluster_state[cluster_key] = state
            namespace = cluster_key.namespace
            found = self.ctx.cache.of_cluster(MACHINE_HEALTH_CHECK, namespace, cluster_key.name)
            return [key(MACHINE_HEALTH_CHECK, namespace, name_of(c)) for c in found]

        return mapper


def _verdict(failures: list[tuple[str, str]], recheck: float | None, *, healthy: bool) -> Verdict:
    if not failures:
        return Verdict(healthy=healthy, recheck=recheck)
    reasons = [reason for reason, _ in failures]
    reason = "UnhealthyMachine" if "UnhealthyMachine" in reasons else reasons[0]
    return Verdict(unhealthy=(reason, "\n".join(f"  * {line}" for _, line in failures)))


def _skipped(machine: Manifest) -> bool:
    notes = machine["metadata"].get("annotations")
    return bool(notes) and (PAUSED_ANNOTATION in notes or SKIP_REMEDIATION_ANNOTATION in notes)


def _node_deleted(machine: Manifest) -> bool:
    """The Machine reports its Node deleted while it still exists (CAPI's ``nodeMissing``)."""
    found = find(conditions_of(machine), "NodeHealthy")
    return found is not None and found["reason"] == "NodeDeleted"


def _type(condition: Cond | dict[str, Any]) -> str:
    return condition.type if isinstance(condition, Cond) else str(condition["type"])
