"""kubeadm settings that reach a machine's cloud-init and would break it: refused before merge.

- Extra argument names are flag names without dashes (``audit-log-maxage``): CAPI adds the ``--``, and a
  name that starts with ``-`` becomes ``---name``, which the component refuses.
- ``{{``, ``{%`` and ``{#`` in a value: CAPI's cloud-init data is a Jinja template (``## template: jinja``),
  so cloud-init would evaluate them on the machine (or fail on them). fleetc does not escape them: a value
  that needs them is almost always a mistake, and an escape would have to survive CAPI's own Go templates.
  The same holds for a class variable's value written into a kubeadm template.
- Node labels the kubelet refuses (:mod:`fleetc.schema.node_labels`): a pool's such label is refused unless
  CAPI copies it from the Machines (those go there); in the class's ``node-labels`` kubelet flag, which the
  control plane gets too, every such label is refused (put it on a pool's ``nodeLabels``).

Caller: :func:`fleetc.schema.validate.validate_tree`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from typing import Any

from fleetc.core.diagnostics import Diagnostic
from fleetc.schema import node_labels
from fleetc.schema.cluster_class import ClusterClassDocument
from fleetc.schema.model import Entry, Fleet

JINJA_MARKERS = ("{{", "{%", "{#")
KUBEADM_TEMPLATES = frozenset({"controlPlane", "workerBootstrap"})
COMPONENTS = ("apiServer", "controllerManager", "scheduler", "kubelet")


def check(fleet: Fleet) -> list[Diagnostic]:
    """Every kubeadm rule over the fleet."""
    rules: list[Callable[[Fleet], Iterable[Diagnostic]]] = [
        extra_args,
        node_label_placement,
        variable_values,
    ]
    return [d for rule in rules for d in rule(fleet)]


def jinja_marker(value: str) -> str | None:
    """The first Jinja marker in ``value``, if any."""
    found = [marker for marker in JINJA_MARKERS if marker in value]
    return min(found, key=value.index) if found else None


def _jinja_message(marker: str) -> str:
    return (
        f"'{marker}' would be read by cloud-init's Jinja (CAPI's bootstrap data is a Jinja template) "
        "and break the machine's start-up; remove it"
    )


def _component_args(cluster_class: ClusterClassDocument) -> Iterator[tuple[str, dict[str, str]]]:
    kubeadm = cluster_class.spec.kubeadm
    yield "apiServer", kubeadm.api_server.extra_args
    yield "controllerManager", kubeadm.controller_manager.extra_args
    yield "scheduler", kubeadm.scheduler.extra_args
    yield "kubelet", kubeadm.kubelet.extra_args


def _class_strings(entry: Entry[ClusterClassDocument]) -> Iterator[tuple[tuple[str | int, ...], str]]:
    """Every free-text kubeadm value of a class, with its field path."""
    spec = entry.document.spec
    for component, args in _component_args(entry.document):
        for name, value in args.items():
            yield ("spec", "kubeadm", component, "extraArgs", name), value
    if spec.kubeadm.image_repository is not None:
        yield ("spec", "kubeadm", "imageRepository"), spec.kubeadm.image_repository
    for pool_name, pool in spec.workers.items():
        for index, taint in enumerate(pool.taints):
            yield ("spec", "workers", pool_name, "taints", index, "key"), taint.key
            yield ("spec", "workers", pool_name, "taints", index, "value"), taint.value


def extra_args(fleet: Fleet) -> Iterator[Diagnostic]:
    """Flag names without leading dashes; no Jinja markers in any kubeadm value."""
    for entry in fleet.classes.values():
        for component, args in _component_args(entry.document):
            for name in args:
                if name.startswith("-"):
                    message = f"'{name}': give the flag name without dashes ('{name.lstrip('-')}'); CAPI adds '--'"
                    at = ("spec", "kubeadm", component, "extraArgs", name)
                    yield entry.origin.diagnostic(at, message, at_key=True)
        for field, value in _class_strings(entry):
            marker = jinja_marker(value)
            if marker is not None:
                yield entry.origin.diagnostic(field, _jinja_message(marker))


def node_label_placement(fleet: Fleet) -> Iterator[Diagnostic]:
    """Node labels the kubelet refuses are refused here, or (a pool's, synced by CAPI) moved to the Machines."""
    for entry in fleet.classes.values():
        spec = entry.document.spec
        flag = spec.kubeadm.kubelet.extra_args.get(node_labels.NODE_LABELS_ARG)
        if flag is not None:
            for key in node_labels.parse(flag):
                if node_labels.placement(key) != "kubelet":
                    message = (
                        f"the kubelet refuses node label {key} (kubernetes.io and k8s.io labels are reserved); "
                        "a pool's nodeLabels can carry node-role.kubernetes.io/*, which CAPI sets from the Machine"
                    )
                    field = ("spec", "kubeadm", "kubelet", "extraArgs", node_labels.NODE_LABELS_ARG)
                    yield entry.origin.diagnostic(field, message)
        for pool_name, pool in spec.workers.items():
            for key in pool.node_labels:
                if node_labels.placement(key) == "refused":
                    message = (
                        f"the kubelet refuses node label {key} and CAPI does not copy it from the Machine "
                        "(it copies node-role.kubernetes.io/*, node-restriction.kubernetes.io/* and "
                        "node.cluster.x-k8s.io/*); use another prefix"
                    )
                    field = ("spec", "workers", pool_name, "nodeLabels", key)
                    yield entry.origin.diagnostic(field, message, at_key=True)


def _kubeadm_variables(cluster_class: ClusterClassDocument) -> set[str]:
    variables = cluster_class.spec.variables.items()
    return {name for name, v in variables if any(p.template in KUBEADM_TEMPLATES for p in v.patches)}


def _strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from _strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)


def variable_values(fleet: Fleet) -> Iterator[Diagnostic]:
    """A variable written into a kubeadm template carries no Jinja markers (default or cluster value)."""
    for entry in fleet.classes.values():
        for name in sorted(_kubeadm_variables(entry.document)):
            default = entry.document.spec.variables[name].default
            marker = next(filter(None, map(jinja_marker, _strings(default))), None)
            if marker is not None:
                yield entry.origin.diagnostic(("spec", "variables", name, "default"), _jinja_message(marker))
    for cluster in fleet.clusters.values():
        cluster_class = fleet.classes.get(cluster.document.spec.class_)
        if cluster_class is None:
            continue
        kubeadm_variables = _kubeadm_variables(cluster_class.document)
        for name, value in cluster.document.spec.variables.items():
            marker = next(filter(None, map(jinja_marker, _strings(value))), None)
            if name in kubeadm_variables and marker is not None:
                yield cluster.origin.diagnostic(("spec", "variables", name), _jinja_message(marker))
