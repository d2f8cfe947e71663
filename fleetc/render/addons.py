"""Add-ons as CAPI ClusterResourceSets: a ConfigMap with the files, and a ClusterResourceSet selecting clusters.

A class's add-ons select the clusters labelled ``fleetc.io/class=<class>``, a provider's those labelled
``fleetc.io/provider=<provider>`` (labels every fleetc Cluster carries). A ClusterResourceSet only sees
clusters of its own namespace, so the pair is rendered once per namespace holding such a cluster. Names:
``class-<class>-<addon>`` and ``provider-<provider>-<addon>``; the ConfigMap has one key per file.

Caller: :mod:`fleetc.render.compile`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping

from fleetc.core.keys import Manifest
from fleetc.render.names import CLASS_LABEL, FLEET_LABEL, PROVIDER_LABEL
from fleetc.schema.base import Addon

ADDONS_API = "addons.cluster.x-k8s.io/v1beta2"


def data_key(path: str) -> str:
    """A ConfigMap key for a file path (``addons/cni/cilium.yaml`` → ``addons.cni.cilium.yaml``)."""
    return re.sub(r"[^-._a-zA-Z0-9]", "-", path.replace("/", "."))


def addon_objects(
    owner_kind: str,
    owner: str,
    addon: Addon,
    namespace: str,
    fleet: str,
    texts: Mapping[str, str],
) -> list[Manifest]:
    """The ConfigMap and ClusterResourceSet of one add-on of a class (``class``) or provider (``provider``)."""
    name = f"{owner_kind}-{owner}-{addon.name}"
    label = CLASS_LABEL if owner_kind == "class" else PROVIDER_LABEL
    config_map: Manifest = {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": name, "namespace": namespace},
        "data": {data_key(path): texts[path] for path in addon.files},
    }
    resource_set: Manifest = {
        "apiVersion": ADDONS_API,
        "kind": "ClusterResourceSet",
        "metadata": {"name": name, "namespace": namespace},
        "spec": {
            "clusterSelector": {"matchLabels": {FLEET_LABEL: fleet, label: owner}},
            "resources": [{"kind": "ConfigMap", "name": name}],
            "strategy": addon.strategy,
        },
    }
    return [config_map, resource_set]


def owner_addons(
    owner_kind: str,
    owner: str,
    addons: Iterable[Addon],
    namespaces: Iterable[str],
    fleet: str,
    texts: Mapping[str, str],
) -> list[Manifest]:
    """Every add-on of one owner in every namespace where its clusters live."""
    return [
        manifest
        for namespace in sorted(set(namespaces))
        for addon in addons
        for manifest in addon_objects(owner_kind, owner, addon, namespace, fleet, texts)
    ]
