"""One CAPI ClusterClass revision (and its templates) for a fleet class on a provider.

The counterpart of writing a ClusterClass by hand, with every name carrying the revision hash so that a
template change never rolls every cluster at once (docs/design.md §4).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from fleetc.contract.vocabulary import BOOTSTRAP_API as BOOTSTRAP
from fleetc.contract.vocabulary import CAPI_API as CAPI
from fleetc.contract.vocabulary import CONTROL_PLANE_API as CONTROL_PLANE
from fleetc.core.errors import CompileError
from fleetc.core.keys import Manifest
from fleetc.render import kubeadm
from fleetc.render.names import class_base, content_hash
from fleetc.render.providers.base import ClassExtras, InfraKinds, InfraProvider, MachineRequest
from fleetc.render.providers.registry import provider_for
from fleetc.render.variables import ClassTemplates, variable_patches
from fleetc.schema.cluster_class import (
    ClusterClassDocument,
    ClusterClassSpec,
    ControlPlane,
    HealthCheck,
    WorkerPool,
)
from fleetc.schema.naming import CONTROL_PLANE_ROLE
from fleetc.schema.provider import ProviderDocument
from fleetc.schema.shape import deletion_fields


@dataclass(frozen=True)
class ClassRevision:
    """A rendered class revision: its name and every object in it (ClusterClass last)."""

    name: str
    objects: tuple[Manifest, ...]


def _ref(api_version: str, kind: str, name: str) -> Manifest:
    return {"apiVersion": api_version, "kind": kind, "name": name}


def _object(api_version: str, kind: str, name: str, namespace: str, spec: Manifest) -> Manifest:
    return {"apiVersion": api_version, "kind": kind, "metadata": {"name": name, "namespace": namespace}, "spec": spec}


def health_check(check: HealthCheck) -> Manifest:
    """A ClusterClass ``healthCheck``: Node startup and Ready timeouts, optional remediation limit."""
    timeout = check.unhealthy_node_timeout
    result: Manifest = {
        "checks": {
            "nodeStartupTimeoutSeconds": check.node_startup_timeout,
            "unhealthyNodeConditions": [
                {"type": "Ready", "status": "Unknown", "timeoutSeconds": timeout},
                {"type": "Ready", "status": "False", "timeoutSeconds": timeout},
            ],
        }
    }
    if check.max_unhealthy is not None:
        limit = check.max_unhealthy
        value: int | str = f"{limit.value}%" if limit.percent else limit.value
        result["remediation"] = {"triggerIf": {"unhealthyLessThanOrEqualTo": value}}
    return result


def _machine_metadata(pool: WorkerPool) -> Manifest:
    """``metadata`` with the pool's Machine labels that CAPI copies to the Nodes, if it has any."""
    labels = kubeadm.machine_labels(pool)
    return {"metadata": {"labels": labels}} if labels else {}


def _variables(cluster_class: ClusterClassDocument, extras: ClassExtras) -> list[Manifest]:
    declared = []
    for name, variable in sorted(cluster_class.spec.variables.items()):
        schema: Manifest = {"type": variable.type}
        if variable.default is not None:
            schema["default"] = variable.default
        if variable.description:
            schema["description"] = variable.description
        declared.append({"name": name, "required": variable.required, "schema": {"openAPIV3Schema": schema}})
    return declared + list(extras.variables)


def _selects_a_template(selector: Manifest, has_workers: bool) -> bool:
    """True for a selector of the control plane or the cluster, or of MachineDeployment classes when there are."""
    match = selector["matchResources"]
    if match.get("infrastructureCluster") or match.get("controlPlane"):
        return True
    return has_workers and bool(match.get("machineDeploymentClass", {}).get("names"))


def selecting_templates(patches: list[Manifest], *, has_workers: bool) -> list[Manifest]:
    """The patches with only the definitions that select a template of the class (CAPI rejects the others).

    A class without MachineDeployment pools gets no worker definitions (provider patches select MachineDeployment
    classes only), and a patch left without definitions is dropped.
    """
    kept = []
    for patch in patches:
        definitions = [d for d in patch["definitions"] if _selects_a_template(d["selector"], has_workers)]
        if definitions:
            kept.append({**patch, "definitions": definitions})
    return kept


def _templates(
    base: str,
    namespace: str,
    cluster_class: ClusterClassDocument,
    provider: ProviderDocument,
    infra: InfraProvider,
    sizes: Mapping[str, str],
) -> list[Manifest]:
    shape, kinds, extras = cluster_class.spec, infra.kinds, infra.class_extras(provider)
    machine_types = provider.spec.sizes
    cp_machine = MachineRequest("control-plane", machine_types.get(sizes[CONTROL_PLANE_ROLE]))
    objects = [
        _object(
            kinds.api_version,
            kinds.cluster_template,
            base,
            namespace,
            {"template": {"spec": infra.cluster_template_spec(provider)}},
        ),
        _object(
            CONTROL_PLANE,
            "KubeadmControlPlaneTemplate",
            f"{base}-control-plane",
            namespace,
            {"template": {"spec": kubeadm.control_plane_template_spec(shape, extras.kubelet_args, extras.cert_sans)}},
        ),
        _object(
            kinds.api_version,
            kinds.machine_template,
            f"{base}-control-plane",
            namespace,
            {"template": {"spec": infra.machine_template_spec(provider, cp_machine)}},
        ),
    ]
    for pool_name, pool in shape.workers.items():
        machine = MachineRequest("worker", machine_types.get(sizes[pool_name]), pool_name)
        infra_kind = _pool_infrastructure_kind(provider, kinds, pool_name) if pool.is_machine_pool else None
        objects += [
            _object(
                BOOTSTRAP,
                "KubeadmConfigTemplate",
                f"{base}-{pool_name}",
                namespace,
                {"template": {"spec": kubeadm.worker_bootstrap_spec(shape, pool, extras.kubelet_args)}},
            ),
            _object(
                kinds.api_version,
                infra_kind or kinds.machine_template,
                f"{base}-{pool_name}",
                namespace,
                {"template": {"spec": infra.machine_template_spec(provider, machine)}},
            ),
        ]
    return objects


def _pool_infrastructure_kind(provider: ProviderDocument, kinds: InfraKinds, pool: str) -> str:
    """The machine pool template kind (validation refuses machine pools on providers without one)."""
    if kinds.machine_pool_template is None:
        message = f"has no machine pool template for pool '{pool}' ({provider.spec.type})"
        raise CompileError("Provider", provider.metadata.name, message)
    return kinds.machine_pool_template


def _worker_class(base: str, name: str, infra_kind: str, infra_api: str) -> Manifest:
    return {
        "class": name,
        "bootstrap": {"templateRef": _ref(BOOTSTRAP, "KubeadmConfigTemplate", f"{base}-{name}")},
        "infrastructure": {"templateRef": _ref(infra_api, infra_kind, f"{base}-{name}")},
    }


def _workers(base: str, shape: ClusterClassSpec, kinds: InfraKinds) -> Manifest:
    """``spec.workers``: MachineDeployment classes (with their health check) and MachinePool classes."""
    workers: Manifest = {}
    deployments = {n: p for n, p in shape.workers.items() if not p.is_machine_pool}
    pools = [n for n, p in shape.workers.items() if p.is_machine_pool]
    if deployments:
        workers["machineDeployments"] = [
            {
                **_worker_class(base, name, kinds.machine_template, kinds.api_version),
                **_deletion(pool, shape),
                "healthCheck": health_check(pool.health_check or shape.health_check),
                **_machine_metadata(pool),
            }
            for name, pool in deployments.items()
        ]
    if pools:
        pool_kind = kinds.machine_pool_template or kinds.machine_template
        workers["machinePools"] = [
            {
                **_worker_class(base, name, pool_kind, kinds.api_version),
                **_deletion(pool, shape),
            }
            for name, pool in shape.workers.items()
            if pool.is_machine_pool
        ]
    return workers


def _deletion(own: ControlPlane | WorkerPool, shape: ClusterClassSpec) -> Manifest:
    """``deletion.nodeDrainTimeoutSeconds``, ``nodeVolumeDetachTimeoutSeconds`` and ``nodeDeletionTimeoutSeconds`` from
    the pool's (or the control plane's) ``nodeDrainTimeout``, ``nodeVolumeDetachTimeout`` and ``nodeDeletionTimeout``,
    else the class's; nothing for one that neither sets (CAPI then waits as long as it takes, or its 10 s for the
    Node's deletion). CAPI changes them on live Machines in place, deleting ones included: no Machine is replaced
    for them."""
    deletion = dict(deletion_fields(own, shape))
    return {"deletion": deletion} if deletion else {}


def _cluster_class_spec(
    base: str,
    cluster_class: ClusterClassDocument,
    infra: InfraProvider,
    extras: ClassExtras,
    versions: list[str] | None,
    templates: ClassTemplates,
) -> Manifest:
    shape, kinds = cluster_class.spec, infra.kinds
    spec: Manifest = {
        "controlPlane": {
            "templateRef": _ref(CONTROL_PLANE, "KubeadmControlPlaneTemplate", f"{base}-control-plane"),
            "machineInfrastructure": {
                "templateRef": _ref(kinds.api_version, kinds.machine_template, f"{base}-control-plane")
            },
            **_deletion(shape.control_plane, shape),
            "healthCheck": health_check(shape.control_plane.health_check or shape.health_check),
        },
        "infrastructure": {"templateRef": _ref(kinds.api_version, kinds.cluster_template, base)},
    }
    if shape.workers:
        spec["workers"] = _workers(base, shape, kinds)
    variables = _variables(cluster_class, extras)
    if variables:
        spec["variables"] = variables
    has_deployments = any(not pool.is_machine_pool for pool in shape.workers.values())
    patches = selecting_templates(extras.patches, has_workers=has_deployments)
    patches += variable_patches(cluster_class, kinds, templates, patches)
    if patches:
        spec["patches"] = patches
    if versions:
        spec["kubernetesVersions"] = list(versions)
    return spec


@dataclass(frozen=True)
class RevisionInputs:
    """Everything a class revision is made of; two clusters share a revision when these are equal."""

    cluster_class: ClusterClassDocument
    provider: ProviderDocument
    namespace: str
    versions: tuple[str, ...] | None
    sizes: tuple[tuple[str, str], ...]
    """Machine size per role (``control-plane`` and pool names), after the cluster's overrides."""
    certificates_expiry_days: int | None = None
    """Renew control-plane certificates this many days before they expire (KCP ``rollout.before``)."""


def _objects(base: str, inputs: RevisionInputs) -> list[Manifest]:
    infra = provider_for(inputs.provider.spec.type)
    extras = infra.class_extras(inputs.provider)
    templates = _templates(base, inputs.namespace, inputs.cluster_class, inputs.provider, infra, dict(inputs.sizes))
    if inputs.certificates_expiry_days is not None:
        before = {"certificatesExpiryDays": inputs.certificates_expiry_days}
        templates[1]["spec"]["template"]["spec"]["rollout"] = {"before": before}
    versions = list(inputs.versions) if inputs.versions else None
    pools = list(inputs.cluster_class.spec.workers)
    by_role = ClassTemplates(
        infrastructure_cluster=templates[0],
        control_plane=templates[1],
        control_plane_machine=templates[2],
        worker_bootstrap={pool: templates[3 + 2 * index] for index, pool in enumerate(pools)},
        worker_machine={pool: templates[4 + 2 * index] for index, pool in enumerate(pools)},
        machine_pools=frozenset(n for n, p in inputs.cluster_class.spec.workers.items() if p.is_machine_pool),
    )
    spec = _cluster_class_spec(base, inputs.cluster_class, infra, extras, versions, by_role)
    return [*templates, _object(CAPI, "ClusterClass", base, inputs.namespace, spec)]


def class_revision(inputs: RevisionInputs) -> ClassRevision:
    """The revision of a class on a provider (with given machine sizes), named by the hash of its content.

    A cluster that overrides a machine size gets its own revision: the size lives in the machine template.
    """
    base = class_base(inputs.cluster_class.metadata.name, inputs.provider.metadata.name)
    revision = f"{base}-{content_hash(_objects(base, inputs))}"
    return ClassRevision(revision, tuple(_objects(revision, inputs)))
