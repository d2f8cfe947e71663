"""Synthetic fleets for benchmarks and load tests: N clusters over mixed providers, classes, waves and channels.

The fleet looks like a real GitOps repository: ``fleet.yaml`` (2 channels, 3 waves selecting on a ``ring``
label), ``classes/`` (standard, edge, gpu), ``providers/`` (AWS in two regions, Azure, GCP, OpenStack,
vSphere, dev-inmemory, dev-docker) and ``clusters/<region>/``. Clusters are spread over classes, providers,
waves and channels, and some override replicas, pools, networks, variables or pin a version. The same seed
always gives byte-identical files.

Layouts: ``file-per-cluster`` (default) writes ``clusters/<region>/<name>.yaml``; ``grouped`` writes 100
clusters per multi-document file, ``clusters/<region>/clusters-NNN.yaml``.

Callers: the benchmarks in ``bench/`` and the tests of large fleets, through :func:`write_fleet`.
CLI: ``python -m fleetc.testing.synthetic OUT_DIR N [--seed S] [--layout grouped]``.
"""

from __future__ import annotations

import argparse
import random
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

LAYOUTS = ("file-per-cluster", "grouped")
GROUP_SIZE = 100
API_VERSION = "fleetc.io/v1alpha1"

_Dumper: type[yaml.SafeDumper] = getattr(yaml, "CSafeDumper", yaml.SafeDumper)
Document = dict[str, Any]

FLEET: Document = {
    "apiVersion": API_VERSION,
    "kind": "Fleet",
    "metadata": {"name": "synthetic"},
    "spec": {
        "namespace": "fleet-clusters",
        "versions": {
            "catalogue": ["v1.33.6", "v1.34.2", "v1.35.0"],
            "channels": {"stable": "v1.34.2", "rapid": "v1.35.0"},
            "chainedUpgrades": True,
        },
        "defaults": {"channel": "stable", "labels": {"managed-by": "fleetc"}},
        "rollout": {
            "waves": [
                {
                    "name": "canary",
                    "selector": {"matchLabels": {"ring": "canary"}},
                    "maxConcurrent": 1,
                    "soak": "30m",
                    "controlPlaneDeadline": "20m",
                    "failureBudget": 0,
                },
                {
                    "name": "early",
                    "selector": {"matchLabels": {"ring": "early"}},
                    "maxConcurrent": "10%",
                    "soak": "1h",
                    "controlPlaneDeadline": "30m",
                    "failureBudget": 1,
                },
                {
                    "name": "broad",
                    "selector": {
                        "matchExpressions": [{"key": "ring", "operator": "NotIn", "values": ["canary", "early"]}]
                    },
                    "maxConcurrent": "25%",
                    "soak": "2h",
                    "controlPlaneDeadline": "45m",
                    "failureBudget": "5%",
                },
            ]
        },
    },
}

CLASSES: dict[str, Document] = {
    "standard": {
        "controlPlane": {"replicas": 3, "size": "medium"},
        "workers": {
            "general": {
                "size": "large",
                "autoscaling": {"min": 3, "max": 12},
                "spreadAcrossFailureDomains": True,
            }
        },
        "network": {"pods": ["192.168.0.0/16"], "services": ["10.128.0.0/12"]},
        "healthCheck": {"nodeStartupTimeout": "10m", "unhealthyNodeTimeout": "5m", "maxUnhealthy": "40%"},
        "kubeadm": {
            "apiServer": {"extraArgs": {"audit-log-maxage": "30"}},
            "kubelet": {"extraArgs": {"max-pods": "110"}},
        },
        "variables": {"imageRepository": {"type": "string", "default": "", "description": "Image mirror."}},
    },
    "edge": {
        "controlPlane": {"replicas": 1, "size": "small"},
        "workers": {"apps": {"size": "small", "replicas": 2}},
        "network": {"pods": ["172.16.0.0/16"], "services": ["172.20.0.0/16"]},
        "healthCheck": {"nodeStartupTimeout": "20m", "unhealthyNodeTimeout": "10m"},
    },
    "gpu": {
        "controlPlane": {"replicas": 3, "size": "medium"},
        "workers": {
            "system": {"size": "medium", "replicas": 2},
            "gpu": {
                "size": "gpu",
                "autoscaling": {"min": 0, "max": 8},
                "nodeLabels": {"accelerator": "nvidia"},
                "taints": [{"key": "nvidia.com/gpu", "value": "present", "effect": "NoSchedule"}],
            },
        },
        "network": {"pods": ["192.168.0.0/16"], "services": ["10.128.0.0/12"]},
    },
}


@dataclass(frozen=True)
class ProviderPlan:
    """A provider of the synthetic fleet: its spec, where its clusters live and which classes they use."""

    name: str
    short: str
    folder: str
    weight: int
    classes: dict[str, int]
    spec: Document

    @property
    def failure_domains(self) -> list[str]:
        """The provider's failure domains (empty for most non-cloud providers)."""
        return list(self.spec.get("failureDomains", []))


CLOUD_CLASSES = {"standard": 80, "gpu": 8, "edge": 12}
PROVIDERS: tuple[ProviderPlan, ...] = (
    ProviderPlan(
        "aws-eu-west-1",
        "aws-euw1",
        "eu-west-1",
        20,
        CLOUD_CLASSES,
        {
            "type": "aws",
            "region": "eu-west-1",
            "credentialsRef": {"kind": "AWSClusterRoleIdentity", "name": "fleet-prod"},
            "sizes": {"small": "t3.large", "medium": "m6i.xlarge", "large": "m6i.2xlarge", "gpu": "g5.2xlarge"},
            "failureDomains": ["eu-west-1a", "eu-west-1b", "eu-west-1c"],
            "settings": {"sshKeyName": "platform", "additionalTags": {"cost-center": "platform"}},
        },
    ),
    ProviderPlan(
        "aws-us-east-1",
        "aws-use1",
        "us-east-1",
        20,
        CLOUD_CLASSES,
        {
            "type": "aws",
            "region": "us-east-1",
            "credentialsRef": {"kind": "AWSClusterRoleIdentity", "name": "fleet-prod"},
            "sizes": {"small": "t3.large", "medium": "m6i.xlarge", "large": "m6i.2xlarge", "gpu": "g5.2xlarge"},
            "failureDomains": ["us-east-1a", "us-east-1b", "us-east-1c"],
            "settings": {"sshKeyName": "platform"},
        },
    ),
    ProviderPlan(
        "azure-westeurope",
        "az-weu",
        "westeurope",
        14,
        CLOUD_CLASSES,
        {
            "type": "azure",
            "region": "westeurope",
            "credentialsRef": {"kind": "AzureClusterIdentity", "name": "fleet-identity", "namespace": "capz-system"},
            "sizes": {
                "small": "Standard_D2s_v5",
                "medium": "Standard_D4s_v5",
                "large": "Standard_D8s_v5",
                "gpu": "Standard_NC6s_v3",
            },
            "failureDomains": ["1", "2", "3"],
            "settings": {"subscriptionID": "00000000-0000-0000-0000-000000000000", "resourceGroup": "fleet"},
        },
    ),
    ProviderPlan(
        "gcp-europe-west4",
        "gcp-euw4",
        "europe-west4",
        12,
        CLOUD_CLASSES,
        {
            "type": "gcp",
            "region": "europe-west4",
            "sizes": {
                "small": "e2-standard-2",
                "medium": "n2-standard-4",
                "large": "n2-standard-8",
                "gpu": "a2-highgpu-1g",
            },
            "failureDomains": ["europe-west4-a", "europe-west4-b", "europe-west4-c"],
            "settings": {
                "project": "acme-fleet",
                "network": "fleet",
                "image": "projects/acme-fleet/global/images/ubuntu-2404-kube-{version}",
                "machineCapacities": {"a2-highgpu-1g": {"cpu": 12, "memoryMiB": 87040, "gpus": 1}},
            },
        },
    ),
    ProviderPlan(
        "openstack-dc2",
        "os-dc2",
        "dc2",
        10,
        {"standard": 70, "edge": 30},
        {
            "type": "openstack",
            "region": "dc2",
            "credentialsRef": {"kind": "Secret", "name": "dc2-clouds"},
            "sizes": {"small": "m1.medium", "medium": "m1.large", "large": "m1.xlarge"},
            "failureDomains": ["nova-az1", "nova-az2"],
            "settings": {"cloudName": "dc2", "image": "ubuntu-2404-kube-v1.34.2", "externalNetworkID": "ext-net"},
        },
    ),
    ProviderPlan(
        "vsphere-dc1",
        "vs-dc1",
        "dc1",
        19,
        {"edge": 100},
        {
            "type": "vsphere",
            "region": "dc1",
            "credentialsRef": {"kind": "VSphereClusterIdentity", "name": "dc1"},
            "sizes": {"small": "small", "medium": "medium"},
            "settings": {
                "server": "vcenter.dc1.example.com",
                "datacenter": "DC1",
                "datastore": "vsanDatastore",
                "network": "VM Network",
                "template": "ubuntu-2404-kube-v1.34.2",
                "folder": "fleet",
                "resourcePool": "fleet",
            },
        },
    ),
    ProviderPlan("local-sim", "sim", "local", 3, {"standard": 50, "edge": 50}, {"type": "dev-inmemory"}),
    ProviderPlan("local-docker", "docker", "local", 2, {"edge": 100}, {"type": "dev-docker"}),
)

TEAMS = ("payments", "search", "ml", "web", "data")


def _document(kind: str, name: str, spec: Document, labels: dict[str, str] | None = None) -> Document:
    metadata: Document = {"name": name, "labels": labels} if labels else {"name": name}
    return {"apiVersion": API_VERSION, "kind": kind, "metadata": metadata, "spec": spec}


def _ring_env_channel(rng: random.Random, index: int) -> tuple[str, str, dict[str, str]]:
    """Ring (wave), environment and version selection; index 0 is always a canary."""
    draw = rng.random()
    if index == 0 or draw < 0.01:
        return "canary", rng.choice(("dev", "staging")), {"channel": "rapid"}
    if draw < 0.11:
        return "early", rng.choice(("staging", "qa", "prod")), {"channel": rng.choice(("rapid", "stable"))}
    pick = rng.random()
    if pick < 0.05:
        return "broad", "prod", {"version": rng.choice(("v1.33.6", "v1.34.2"))}
    if pick < 0.15:
        return "broad", "prod", {}  # follows the fleet's default channel
    return "broad", "prod", {"channel": "stable"}


def _overrides(rng: random.Random, class_name: str, provider: ProviderPlan) -> Document:
    """Per-cluster overrides that a real fleet has: scaled pools, pinned zones, bigger control planes."""
    spec: Document = {}
    if class_name == "standard":
        pool: Document = {}
        if rng.random() < 0.25:
            pool["replicas"] = rng.randint(3, 12)
        if provider.failure_domains and rng.random() < 0.05:
            pool["failureDomain"] = rng.choice(provider.failure_domains)
        if pool:
            spec["workers"] = {"general": pool}
        if rng.random() < 0.1:
            spec["controlPlane"] = {"replicas": 5}
        if rng.random() < 0.05:
            spec["network"] = {"pods": ["100.64.0.0/16"]}
        if rng.random() < 0.1:
            spec["variables"] = {"imageRepository": "registry.example.com/k8s"}
    elif class_name == "gpu" and rng.random() < 0.3:
        spec["workers"] = {"gpu": {"autoscaling": {"min": 1, "max": rng.randint(4, 16)}}}
    elif class_name == "edge" and rng.random() < 0.2:
        spec["workers"] = {"apps": {"replicas": rng.randint(1, 4)}}
    return spec


def _vsphere_endpoint(index: int) -> str:
    """A unique API address per vSphere cluster: 10.20.0.10, 10.20.0.11, ..."""
    number = index + 10
    return f"10.{20 + number // 65536}.{number // 256 % 256}.{number % 256}"


def _cluster(rng: random.Random, index: int, width: int) -> tuple[str, Document]:
    provider = rng.choices(PROVIDERS, weights=[p.weight for p in PROVIDERS])[0]
    class_name = rng.choices(list(provider.classes), weights=list(provider.classes.values()))[0]
    ring, env, version = _ring_env_channel(rng, index)
    labels = {"ring": ring, "env": env, "region": provider.folder}
    if rng.random() < 0.2:
        labels["team"] = rng.choice(TEAMS)
    spec: Document = {
        "class": class_name,
        "provider": provider.name,
        **version,
        **_overrides(rng, class_name, provider),
    }
    if provider.spec["type"] == "vsphere":
        spec["controlPlaneEndpoint"] = {"host": _vsphere_endpoint(index)}
    name = f"{provider.short}-{env}-{index:0{width}d}"
    return provider.folder, _document("Cluster", name, spec, labels)


def generate(clusters: int, seed: int = 0) -> dict[str, list[Document]]:
    """Every cluster document by region folder, in index order; deterministic for a seed."""
    rng = random.Random(seed)
    width = max(5, len(str(clusters - 1)))
    by_folder: dict[str, list[Document]] = defaultdict(list)
    for index in range(clusters):
        folder, document = _cluster(rng, index, width)
        by_folder[folder].append(document)
    return dict(sorted(by_folder.items()))


def _write(path: Path, documents: list[Document]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.dump_all(documents, Dumper=_Dumper, sort_keys=False, default_flow_style=False))


def write_fleet(root: Path, clusters: int, *, seed: int = 0, layout: str = "file-per-cluster") -> int:
    """Write a fleet of ``clusters`` clusters under ``root`` (which must be empty); returns the files written."""
    if layout not in LAYOUTS:
        raise ValueError(f"unknown layout {layout!r}; one of {', '.join(LAYOUTS)}")
    if root.exists() and any(root.iterdir()):
        raise FileExistsError(f"{root} is not empty")
    files: dict[Path, list[Document]] = {root / "fleet.yaml": [FLEET]}
    for name, spec in CLASSES.items():
        files[root / "classes" / f"{name}.yaml"] = [_document("ClusterClass", name, spec)]
    for provider in PROVIDERS:
        files[root / "providers" / f"{provider.name}.yaml"] = [_document("Provider", provider.name, provider.spec)]
    for folder, documents in generate(clusters, seed).items():
        if layout == "grouped":
            for start in range(0, len(documents), GROUP_SIZE):
                path = root / "clusters" / folder / f"clusters-{start // GROUP_SIZE:03d}.yaml"
                files[path] = documents[start : start + GROUP_SIZE]
        else:
            for document in documents:
                files[root / "clusters" / folder / f"{document['metadata']['name']}.yaml"] = [document]
    for path, documents in files.items():
        _write(path, documents)
    return len(files)


def main() -> None:
    """``python -m fleetc.testing.synthetic OUT_DIR N``."""
    parser = argparse.ArgumentParser(description="Write a synthetic fleet of N clusters.")
    parser.add_argument("out_dir", type=Path)
    parser.add_argument("clusters", type=int)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--layout", choices=LAYOUTS, default="file-per-cluster")
    args = parser.parse_args()
    if args.out_dir.exists() and any(args.out_dir.iterdir()):
        parser.error(f"{args.out_dir} is not empty")
    files = write_fleet(args.out_dir, args.clusters, seed=args.seed, layout=args.layout)
    print(f"{args.out_dir}: {args.clusters} clusters in {files} files ({args.layout})")


if __name__ == "__main__":
    main()
