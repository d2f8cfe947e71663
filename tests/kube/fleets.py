"""Small fleets for rollouts against the test API server: written to a folder, in the test's namespace.

Three clusters on the in-memory dev provider at v1.35.0 (the version of the CAPI status fixtures): ``canary-1`` in
wave ``canary``, ``broad-1`` and ``broad-2`` in wave ``broad`` (one at a time), short soaks."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

CANARY = "canary-1"
BROAD = ("broad-1", "broad-2")
FLEET = "kfleet"


def _doc(kind: str, name: str, spec: dict[str, Any], labels: dict[str, str] | None = None) -> dict[str, Any]:
    metadata: dict[str, Any] = {"name": name, **({"labels": labels} if labels else {})}
    return {"apiVersion": "fleetc.io/v1alpha1", "kind": kind, "metadata": metadata, "spec": spec}


def write_fleet(root: Path, namespace: str, *, soak: str = "1s", deadline: str = "10m",
                cluster_labels: dict[str, str] | None = None, approve_broad: bool = False,
                notifications: dict[str, Any] | None = None) -> Path:  # fmt: skip
    """The fleet's files under ``root``; ``root``. ``approve_broad``: wave broad requires approval."""
    wave = {"soak": soak, "controlPlaneDeadline": deadline, "maxConcurrent": 1, "failureBudget": 0}
    fleet = _doc("Fleet", FLEET, {
        "namespace": namespace,
        "versions": {"catalogue": ["v1.34.2", "v1.35.0"], "channels": {"rapid": "v1.35.0"}},
        "defaults": {"channel": "rapid"},
        "rollout": {"waves": [
            {"name": "canary", "selector": {"matchLabels": {"ring": "canary"}}, **wave},
            {"name": "broad", "selector": {"matchLabels": {"ring": "broad"}}, **wave,
             **({"requireApproval": True} if approve_broad else {})},
        ]},
        **({"notifications": notifications} if notifications else {}),
    })  # fmt: skip
    shape = _doc("ClusterClass", "standard", {
        "controlPlane": {"replicas": 3, "size": "medium"},
        "workers": {"general": {"size": "large", "replicas": 3}},
        "network": {"pods": ["192.168.0.0/16"], "services": ["10.128.0.0/12"]},
    })  # fmt: skip
    provider = _doc("Provider", "sim", {"type": "dev-inmemory"})
    clusters = [
        _doc("Cluster", name, {"class": "standard", "provider": "sim"}, {"ring": ring, **(cluster_labels or {})})
        for name, ring in ((CANARY, "canary"), *((b, "broad") for b in BROAD))
    ]
    root.mkdir(parents=True, exist_ok=True)
    (root / "fleet.yaml").write_text(yaml.safe_dump(fleet, sort_keys=False))
    (root / "classes.yaml").write_text(yaml.safe_dump(shape, sort_keys=False))
    (root / "providers.yaml").write_text(yaml.safe_dump(provider, sort_keys=False))
    (root / "clusters.yaml").write_text(yaml.safe_dump_all(clusters, sort_keys=False))
    return root
