"""The simulated topology controller's desired state: the objects a Cluster's topology asks for, computed pure.

CAPI's ``exp/topology/desiredstate/desired_state.go`` at v1.14: the KubeadmControlPlane spec from the class
template and ``spec.topology.controlPlane`` (computeControlPlane), a MachineDeployment spec per
``workers.machineDeployments`` entry with the topology labels (computeMachineDeployment L977-1052), the
MachineHealthChecks from the class's (or the topology's) ``healthCheck`` (computeMachineHealthCheck L1651), and the
labels and ``cloned-from`` annotations every object the controller creates carries. No reads, no writes: the
reconciler (:mod:`fleetc.sim.topology`) supplies the names it drew and applies the result.
"""

from __future__ import annotations

from fleetc.contract.objects import name_of, ref_group
from fleetc.contract.vocabulary import (
    AUTOSCALER_MIN,
    CAPI_API,
    CLONED_FROM_GROUPKIND,
    CLONED_FROM_NAME,
    CLUSTER_NAME_LABEL,
    CONTROL_PLANE_LABEL,
    TOPOLOGY_DEPLOYMENT_LABEL,
    TOPOLOGY_OWNED_LABEL,
)
from fleetc.core.keys import Manifest
from fleetc.sim.api import owner_reference
from fleetc.sim.topology_current import Topology


def owned_labels(cluster: str, **extra: str) -> dict[str, str]:
    """``cluster-name`` and ``topology…/owned``, with ``extra``, sorted: the labels of every object it creates."""
    return dict(sorted({CLUSTER_NAME_LABEL: cluster, TOPOLOGY_OWNED_LABEL: "", **extra}.items()))


def cloned_from(template: Manifest) -> dict[str, str]:
    """The ``cloned-from-name``/``cloned-from-groupkind`` annotations of an object made from ``template``."""
    group = ref_group(template["apiVersion"])
    return {CLONED_FROM_GROUPKIND: f"{template['kind']}.{group}", CLONED_FROM_NAME: name_of(template)}


def kcp_spec(scope: Topology, template: Manifest, machine_ref: Manifest, infra: str, version: str) -> Manifest:
    """The KubeadmControlPlane spec: the class template's, with the topology's replicas and the cloned machine."""
    base: Manifest = template["spec"]["template"]["spec"]
    topology_cp = scope.topology.get("controlPlane", {})
    replicas = topology_cp.get("replicas", scope.kcp["spec"].get("replicas", 1) if scope.kcp else 1)
    rollout = base.get("rollout", {})
    default_strategy = {"rollingUpdate": {"maxSurge": 1}, "type": "RollingUpdate"}
    machine_template = base.get("machineTemplate", {})
    extra_labels = topology_cp.get("metadata", {}).get("labels", {})
    group, kind = ref_group(machine_ref["apiVersion"]), machine_ref["kind"]
    machine_spec = {
        **machine_template.get("spec", {}),
        "infrastructureRef": {"apiGroup": group, "kind": kind, "name": infra},
    }
    # The class's (or the topology's) drain and deletion timeouts (desired_state.go L470-520, in_place.py).
    timeouts = {**scope.cluster_class["spec"]["controlPlane"].get("deletion", {}), **topology_cp.get("deletion", {})}
    if timeouts:
        machine_spec["deletion"] = {**machine_spec.get("deletion", {}), **timeouts}
    return {
        **base,
        "machineTemplate": {
            **machine_template,
            "metadata": {"labels": {**extra_labels, **owned_labels(scope.name)}},
            "spec": machine_spec,
        },
        "replicas": replicas,
        "rollout": {**rollout, "strategy": rollout.get("strategy", default_strategy), **_after(topology_cp)},
        "version": version,
    }


def deployment_labels(scope: Topology, entry: Manifest) -> dict[str, str]:
    """The labels (and selector) of the MachineDeployment of a ``machineDeployments`` entry."""
    return owned_labels(scope.name, **{TOPOLOGY_DEPLOYMENT_LABEL: entry["name"]})


def entry_replicas(entry: Manifest, existing: Manifest | None) -> int:
    """The replicas of a topology worker entry: its own, else the live object's, else the autoscaler's minimum (1)."""
    if "replicas" in entry:
        replicas: int = entry["replicas"]
        return replicas
    if existing is not None:
        current: int = existing["spec"].get("replicas", 1)
        return current
    minimum = entry.get("metadata", {}).get("annotations", {}).get(AUTOSCALER_MIN)
    return int(minimum) if minimum and minimum.isdigit() else 1


def deployment_spec(
    scope: Topology,
    entry: Manifest,
    md_class: Manifest,
    existing: Manifest | None,
    templates: tuple[str, str],
    version: str,
) -> Manifest:
    """A MachineDeployment spec; ``templates`` are the names of its bootstrap and infrastructure clones."""
    bootstrap_ref = md_class["bootstrap"]["templateRef"]
    infra_ref = md_class["infrastructure"]["templateRef"]
    template_spec: Manifest = {
        "bootstrap": {
            "configRef": {
                "apiGroup": ref_group(bootstrap_ref["apiVersion"]),
                "kind": bootstrap_ref["kind"],
                "name": templates[0],
            }
        },
        "clusterName": scope.name,
        "infrastructureRef": {
            "apiGroup": ref_group(infra_ref["apiVersion"]),
            "kind": infra_ref["kind"],
            "name": templates[1],
        },
        "version": version,
    }
    failure_domain = entry.get("failureDomain", md_class.get("failureDomain"))
    if failure_domain:
        template_spec["failureDomain"] = failure_domain
    min_ready = entry.get("minReadySeconds", md_class.get("minReadySeconds"))
    if min_ready:
        template_spec["minReadySeconds"] = min_ready
    deletion: Manifest = {**md_class.get("deletion", {}), **entry.get("deletion", {})}
    timeouts = {k: v for k, v in deletion.items() if k != "order"}
    if timeouts:
        template_spec["deletion"] = timeouts
    rollout: Manifest = entry.get("rollout") or md_class.get("rollout") or {}
    strategy: Manifest = rollout.get("strategy", {})
    rolling = {"maxSurge": 1, "maxUnavailable": 0, **strategy.get("rollingUpdate", {})}
    selector = deployment_labels(scope, entry)
    extra: Manifest = {}
    if "order" in deletion:
        extra["deletion"] = {"order": deletion["order"]}
    in_flight = (_health_check(md_class.get("healthCheck"), entry) or {}).get("remediation", {}).get("maxInFlight")
    if in_flight is not None:
        extra["remediation"] = {"maxInFlight": in_flight}
    return {
        **extra,
        "clusterName": scope.name,
        "replicas": entry_replicas(entry, existing),
        "rollout": {
            "strategy": {"rollingUpdate": rolling, "type": strategy.get("type", "RollingUpdate")},
            **_after(entry),
        },
        "selector": {"matchLabels": dict(sorted(selector.items()))},
        "template": {"metadata": {"labels": dict(sorted(selector.items()))}, "spec": template_spec},
    }


def _after(topology_entry: Manifest) -> Manifest:
    """``rollout.after`` of a topology entry (machine rotation), as ``{"after": ...}`` or nothing."""
    after = topology_entry.get("rollout", {}).get("after")
    return {"after": after} if after else {}


def _health_check(from_class: Manifest | None, topology_entry: Manifest) -> Manifest | None:
    override = topology_entry.get("healthCheck", {})
    if override.get("enabled") is False:
        return None
    merged = {**(from_class or {}), **{k: v for k, v in override.items() if k != "enabled"}}
    return merged or None


def _health_check_object(scope: Topology, name: str, selector: dict[str, str], check: Manifest) -> Manifest:
    spec: Manifest = {
        "checks": check.get("checks", {}),
        "clusterName": scope.name,
        "selector": {"matchLabels": selector},
    }
    remediation = {k: v for k, v in check.get("remediation", {}).items() if k != "maxInFlight"}
    if remediation:  # maxInFlight goes to the MachineDeployment (spec.remediation.maxInFlight)
        spec["remediation"] = remediation
    return {
        "apiVersion": CAPI_API,
        "kind": "MachineHealthCheck",
        "metadata": {
            "name": name,
            "namespace": scope.namespace,
            "labels": owned_labels(scope.name),
            "ownerReferences": [owner_reference(scope.cluster, controller=False)],
        },
        "spec": spec,
    }


def health_checks(scope: Topology) -> dict[str, Manifest]:
    """The MachineHealthChecks the topology asks for, by name (the control plane's, then each deployment's)."""
    wanted: dict[str, Manifest] = {}
    class_spec = scope.cluster_class["spec"]
    if scope.kcp is not None:
        check = _health_check(class_spec["controlPlane"].get("healthCheck"), scope.topology.get("controlPlane", {}))
        if check is not None:
            selector = {CONTROL_PLANE_LABEL: "", TOPOLOGY_OWNED_LABEL: ""}
            wanted[name_of(scope.kcp)] = _health_check_object(scope, name_of(scope.kcp), selector, check)
    classes = {c["class"]: c for c in class_spec.get("workers", {}).get("machineDeployments", [])}
    for entry in scope.entries:
        deployment = scope.deployments.get(entry["name"])
        md_class = classes.get(entry["class"], {})
        check = _health_check(md_class.get("healthCheck"), entry)
        if deployment is not None and check is not None:
            selector = {TOPOLOGY_DEPLOYMENT_LABEL: entry["name"], TOPOLOGY_OWNED_LABEL: ""}
            wanted[name_of(deployment)] = _health_check_object(scope, name_of(deployment), selector, check)
    return wanted
