"""What ``fleetc install --print`` prints: fleetc's CRDs, a ServiceAccount, least-privilege RBAC and a Deployment for
the controller, and a ServiceAccount with least-privilege RBAC for pipelines running ``fleetc apply``
(:func:`pipeline_rules`).

The RBAC rules are derived from what the controller's code paths do (:func:`controller_rules`), not written by hand:

- fleetc's own kinds (:mod:`fleetc.rollout.model`): read through informers (get, list, watch); the FleetRollout's and
  ClusterRollouts' status written through the status subresource (update ``…/status``); nothing else;
- the CAPI objects of a workload cluster (:data:`fleetc.contract.vocabulary.WORKLOAD_KINDS`): list and watch (the
  gates read them from informer caches); the ``Cluster`` also get, create and patch (server-side apply; the store
  reads the object first to report what the apply did), update (a cluster that left the spec is orphaned: its fleet
  label is taken off, :mod:`fleetc.rollout.removal`) and delete (one marked for decommissioning is deleted);
- the objects a FleetRevision applies before any cluster (namespaces, ClusterClasses, kubeadm templates and every
  infrastructure provider's templates from :data:`fleetc.render.providers.registry.IMPLEMENTATIONS`): get, create,
  patch;
- Kubernetes Events about rollouts: create;
- Leases: get, to read a rollout's runner claim (:mod:`fleetc.engine.runner`: a pipeline's ``fleetc apply`` carrying
  it out); never list, watch or write another's;
- in the controller's own namespace only, its Lease (:mod:`fleetc.engine.leader`): create, and get and update of
  that one name.
Everything else is denied (the ServiceAccount cannot read Secrets, for instance).

The CRDs are :func:`fleetc.rollout.crds.crds` (structural schemas from the pydantic models, the status
subresource, printer columns, short names). Callers: ``fleetc install`` (:mod:`fleetc.cli.install_cmd`) and the
tests.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import yaml

from fleetc.contract.vocabulary import (
    BOOTSTRAP_GROUP,
    CLUSTER,
    CLUSTER_CLASS,
    CONTROL_PLANE_GROUP,
    INFRASTRUCTURE_GROUP,
    WORKLOAD_KINDS,
)
from fleetc.core.keys import Manifest
from fleetc.engine.leader import LEASE_GROUP
from fleetc.render.providers.registry import IMPLEMENTATIONS
from fleetc.rollout.crds import crds
from fleetc.rollout.model import (
    CLUSTER_ROLLOUT,
    FLEET_REVISION,
    FLEET_ROLLOUT,
    GROUP,
)

NAME = "fleetc-controller"
"""The ServiceAccount, ClusterRole, Role, Deployment and Lease are all called this."""
PIPELINE = "fleetc-pipeline"
"""The pipelines' ServiceAccount, ClusterRole and ClusterRoleBinding."""
DEFAULT_NAMESPACE = "fleetc-system"
DEFAULT_IMAGE = "ghcr.io/fleetc/fleetc:latest"
"""The controller image; any image with fleetc installed whose entry point runs ``fleetc`` will do (``--image``)."""
HEALTH_PORT = 8081
READ = ("get", "list", "watch")
INFORM = ("list", "watch")
APPLY = ("create", "get", "patch")
"""Server-side apply creates or patches; KubeStore reads the object first to say what the apply did."""

Rule = dict[str, Any]


def plural(kind: str) -> str:
    """The resource name of a kind, as every kind fleetc touches is named (lower case plus ``s``, ``es`` after s)."""
    lower = kind.lower()
    return lower + "es" if lower.endswith("s") else lower + "s"


def applied_kinds() -> list[tuple[str, str]]:
    """(group, kind) of every object the controller applies: a FleetRevision's prerequisites and the Cluster."""
    kinds = {("", "Namespace"), CLUSTER_CLASS, CLUSTER}
    kinds |= {(CONTROL_PLANE_GROUP, "KubeadmControlPlaneTemplate"), (BOOTSTRAP_GROUP, "KubeadmConfigTemplate")}
    for provider in IMPLEMENTATIONS:
        kinds |= {(INFRASTRUCTURE_GROUP, provider.kinds.cluster_template),
                  (INFRASTRUCTURE_GROUP, provider.kinds.machine_template)}  # fmt: skip
    return sorted(kinds)


Verbs = dict[tuple[str, str], set[str]]
"""Verbs by (API group, resource)."""


def controller_rules() -> list[Rule]:
    """The ClusterRole's rules: exactly what the controller does anywhere in the cluster (see the module docstring)."""
    return _grouped(_controller_verbs())


def _controller_verbs() -> Verbs:
    verbs: Verbs = {}

    def allow(group: str, resource: str, wanted: Iterable[str]) -> None:
        verbs.setdefault((group, resource), set()).update(wanted)

    for kind in (FLEET_ROLLOUT, CLUSTER_ROLLOUT, FLEET_REVISION):
        allow(GROUP, plural(kind), READ)
    for kind in (FLEET_ROLLOUT, CLUSTER_ROLLOUT):
        allow(GROUP, plural(kind) + "/status", ("update",))
    for group, kind in WORKLOAD_KINDS:
        allow(group, plural(kind), INFORM)
    for group, kind in applied_kinds():
        allow(group, plural(kind), APPLY)
    allow(CLUSTER[0], plural(CLUSTER[1]), ("update", "delete"))  # a removed cluster: orphaned, or decommissioned
    allow("", "events", ("create",))
    allow(LEASE_GROUP, "leases", ("get",))  # the runner claims of rollouts a pipeline carries out
    return verbs


def pipeline_rules() -> list[Rule]:
    """The pipeline's ClusterRole: what ``fleetc apply --context`` (with ``--dry-run=server``, ``--detach`` and
    ``--allow-delete``), ``fleetc rollout status|pause|resume|approve --context`` and ``fleetc status --context`` do:
    everything the controller does (the command carries the rollout out itself), and submitting it (create, update,
    patch for the server-side dry run and, for a ClusterRollout whose cluster left the spec, delete the rollout
    objects), reading a workload cluster's objects for ``fleetc status`` (get), and holding the rollout's runner
    claim (:mod:`fleetc.engine.runner`: a Lease in the fleet's namespace, get, create and update). It may not install
    CRDs (``fleetc install`` does) nor read Secrets (grant ``get`` on a notification Secret by name where a fleet
    needs one)."""
    verbs = _controller_verbs()
    for kind in (FLEET_ROLLOUT, CLUSTER_ROLLOUT, FLEET_REVISION):
        verbs[(GROUP, plural(kind))] |= {"create", "update", "patch"}  # patch: the server-side dry run
    verbs[(GROUP, plural(CLUSTER_ROLLOUT))].add("delete")
    for group, kind in WORKLOAD_KINDS:
        verbs[(group, plural(kind))].add("get")
    verbs[(LEASE_GROUP, "leases")] |= {"get", "create", "update"}
    verbs.pop(("", "events"), None)  # Kubernetes Events are the in-cluster controller's
    return _grouped(verbs)


def lease_rules(name: str = NAME) -> list[Rule]:
    """The Role's rules in the controller's namespace: its own Lease."""
    return [
        {"apiGroups": [LEASE_GROUP], "resources": ["leases"], "verbs": ["create"]},
        {"apiGroups": [LEASE_GROUP], "resources": ["leases"], "resourceNames": [name], "verbs": ["get", "update"]},
    ]


def _grouped(verbs: Verbs) -> list[Rule]:
    """One rule per (group, verb set), resources sorted: short and stable output."""
    by_group: dict[tuple[str, tuple[str, ...]], list[str]] = {}
    for (group, resource), wanted in sorted(verbs.items()):
        by_group.setdefault((group, tuple(sorted(wanted))), []).append(resource)
    return [
        {"apiGroups": [group], "resources": sorted(resources), "verbs": list(wanted)}
        for (group, wanted), resources in sorted(by_group.items())
    ]


# --- the controller --------------------------------------------------------------------------------------------------


def controller_objects(namespace: str, image: str, replicas: int = 2) -> list[Manifest]:
    """Namespace, ServiceAccount, ClusterRole(+Binding), Role(+Binding) for the Lease, and the Deployment."""
    labels = {"app.kubernetes.io/name": "fleetc", "app.kubernetes.io/component": "controller"}
    meta = {"name": NAME, "labels": labels}
    subject = [{"kind": "ServiceAccount", "name": NAME, "namespace": namespace}]
    rbac = "rbac.authorization.k8s.io"
    return [
        {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": namespace}},
        *_account_with_cluster_role(NAME, namespace, labels, controller_rules()),
        {
            "apiVersion": f"{rbac}/v1",
            "kind": "Role",
            "metadata": {**meta, "namespace": namespace},
            "rules": lease_rules(),
        },
        {
            "apiVersion": f"{rbac}/v1",
            "kind": "RoleBinding",
            "metadata": {**meta, "namespace": namespace},
            "roleRef": {"apiGroup": rbac, "kind": "Role", "name": NAME},
            "subjects": subject,
        },
        deployment(namespace, image, labels, replicas),
    ]


def deployment(namespace: str, image: str, labels: dict[str, str], replicas: int) -> Manifest:
    """Two replicas of ``fleetc controller run`` (one leads, one stands by), probed on /healthz and /readyz."""
    probe = {"httpGet": {"path": "/healthz", "port": "health"}, "periodSeconds": 10}
    container = {
        "name": "controller",
        "image": image,
        "args": [
            "controller",
            "run",
            "--namespace",
            namespace,
            "--log-format",
            "json",
            "--health-addr",
            f":{HEALTH_PORT}",
        ],
        "env": [{"name": "POD_NAME", "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}}}],
        "ports": [{"name": "health", "containerPort": HEALTH_PORT}],
        "livenessProbe": probe,
        "readinessProbe": {**probe, "httpGet": {"path": "/readyz", "port": "health"}},
        "resources": {"requests": {"cpu": "100m", "memory": "128Mi"}, "limits": {"memory": "512Mi"}},
        "securityContext": {
            "allowPrivilegeEscalation": False,
            "readOnlyRootFilesystem": True,
            "runAsNonRoot": True,
            "capabilities": {"drop": ["ALL"]},
        },
    }
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": NAME, "namespace": namespace, "labels": labels},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": labels},
            "template": {
                "metadata": {"labels": labels},
                "spec": {
                    "serviceAccountName": NAME,
                    "terminationGracePeriodSeconds": 30,
                    "securityContext": {"runAsNonRoot": True, "seccompProfile": {"type": "RuntimeDefault"}},
                    "containers": [container],
                },
            },
        },
    }


def pipeline_objects(namespace: str) -> list[Manifest]:
    """A ServiceAccount for pipelines (``kubectl create token fleetc-pipeline -n NAMESPACE``) bound to the
    pipeline's ClusterRole (:func:`pipeline_rules`); bind the ClusterRole to another user instead if you prefer."""
    labels = {"app.kubernetes.io/name": "fleetc", "app.kubernetes.io/component": "pipeline"}
    return _account_with_cluster_role(PIPELINE, namespace, labels, pipeline_rules())


def _account_with_cluster_role(name: str, namespace: str, labels: dict[str, str], rules: list[Rule]) -> list[Manifest]:
    """A ServiceAccount, a ClusterRole with ``rules`` and the binding between them, all called ``name``."""
    meta = {"name": name, "labels": labels}
    rbac = "rbac.authorization.k8s.io"
    return [
        {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {**meta, "namespace": namespace}},
        {"apiVersion": f"{rbac}/v1", "kind": "ClusterRole", "metadata": meta, "rules": rules},
        {
            "apiVersion": f"{rbac}/v1",
            "kind": "ClusterRoleBinding",
            "metadata": meta,
            "roleRef": {"apiGroup": rbac, "kind": "ClusterRole", "name": name},
            "subjects": [{"kind": "ServiceAccount", "name": name, "namespace": namespace}],
        },
    ]


def install_objects(namespace: str = DEFAULT_NAMESPACE, image: str = DEFAULT_IMAGE) -> list[Manifest]:
    """Everything ``fleetc install`` creates, in apply order (CRDs first)."""
    return [*crds(), *controller_objects(namespace, image), *pipeline_objects(namespace)]


def render(objects: Iterable[Manifest]) -> str:
    """Multi-document YAML for ``kubectl apply -f -``."""
    return yaml.safe_dump_all(list(objects), sort_keys=False, default_flow_style=False)
