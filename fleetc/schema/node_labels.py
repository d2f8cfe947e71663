"""Which Node labels the kubelet may set itself, and which CAPI copies onto Nodes from Machine labels.

The kubelet refuses to start when ``--node-labels`` holds a label in the ``kubernetes.io`` or ``k8s.io``
namespaces (or their subdomains) that is not one of its own (``kubelet.kubernetes.io/*``, ``node.kubernetes.io/*``
and a few well-known labels such as ``topology.kubernetes.io/zone``): Kubernetes' ``IsKubeletLabel``. CAPI copies
some of those from each Machine to its Node instead: ``node-role.kubernetes.io/*``, and the domains
``node-restriction.kubernetes.io`` and ``node.cluster.x-k8s.io`` with their subdomains (CAPI's Machine-to-Node
label sync). A pool's label is therefore put where it works (:func:`placement`): on the kubelet, on the pool's
Machines, or nowhere (a validation error).

Callers: :mod:`fleetc.schema.kubeadm_rules` (the errors) and :mod:`fleetc.render.kubeadm` (where labels go).
"""

from __future__ import annotations

from typing import Literal

KUBELET_NAMESPACES = ("kubelet.kubernetes.io", "node.kubernetes.io")
KUBELET_LABELS = frozenset(
    {
        "kubernetes.io/hostname",
        "kubernetes.io/os",
        "kubernetes.io/arch",
        "beta.kubernetes.io/os",
        "beta.kubernetes.io/arch",
        "beta.kubernetes.io/instance-type",
        "node.kubernetes.io/instance-type",
        "failure-domain.beta.kubernetes.io/region",
        "failure-domain.beta.kubernetes.io/zone",
        "topology.kubernetes.io/region",
        "topology.kubernetes.io/zone",
    }
)
"""The labels in a restricted namespace the kubelet still sets (Kubernetes' ``kubeletLabels``)."""
RESTRICTED_NAMESPACES = ("kubernetes.io", "k8s.io")
CAPI_SYNCED_DOMAINS = ("node-restriction.kubernetes.io", "node.cluster.x-k8s.io")
"""Domains (and their subdomains) whose Machine labels CAPI copies to the Node."""
CAPI_SYNCED_PREFIX = "node-role.kubernetes.io"
"""CAPI copies ``node-role.kubernetes.io/*`` Machine labels to the Node (exactly this prefix)."""
NODE_LABELS_ARG = "node-labels"

Placement = Literal["kubelet", "machine", "refused"]


def _namespace(key: str) -> str:
    return key.rsplit("/", 1)[0] if "/" in key else ""


def _within(namespace: str, domain: str) -> bool:
    return namespace == domain or namespace.endswith(f".{domain}")


def placement(key: str) -> Placement:
    """Where a Node label goes: the kubelet's ``--node-labels``, the Machines (CAPI syncs it), or nowhere."""
    namespace = _namespace(key)
    if namespace == CAPI_SYNCED_PREFIX or any(_within(namespace, d) for d in CAPI_SYNCED_DOMAINS):
        return "machine"
    if not any(_within(namespace, d) for d in RESTRICTED_NAMESPACES):
        return "kubelet"
    if key in KUBELET_LABELS or any(_within(namespace, d) for d in KUBELET_NAMESPACES):
        return "kubelet"
    return "refused"


def parse(value: str) -> dict[str, str]:
    """A ``--node-labels`` value (``a=1,b=2``) as a mapping; an item without ``=`` has the empty value."""
    labels = {}
    for item in value.split(","):
        if item.strip():
            key, _, label_value = item.partition("=")
            labels[key.strip()] = label_value.strip()
    return labels


def joined(labels: dict[str, str]) -> str:
    """A mapping as a ``--node-labels`` value, sorted by key."""
    return ",".join(f"{key}={value}" for key, value in sorted(labels.items()))
