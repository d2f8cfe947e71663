"""Helpers for the cloud provider tests: small in-memory fleets, the real CRD schemas, and CAPI's patch engine.

A fleet here is one Fleet, one class (a control plane and two worker pools), one Provider of the type under
test and its clusters, validated and compiled in memory. :func:`apply_patches` does what CAPI's topology
controller does with a ClusterClass's inline patches for one cluster (selectors, ``value``/``valueFrom``,
``add``/``replace`` on JSON pointers, variables defaulted from the class's schemas as CAPI's webhook does), with a
Go-template renderer that knows only ``{{ .dotted.path }}`` (optionally piped through sprig's
``replace "old" "new"``, which CAPI's templates offer) and, for ``enabledIf``, ``{{ ne .dotted.path "" }}``,
which is all fleetc emits; anything else fails the test rather than pass unrendered.
"""

from __future__ import annotations

import copy
import functools
import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import yaml

from fleetc import Diagnostic, MemoryTree, Severity, validate_tree
from fleetc.core.keys import Manifest
from fleetc.render.compile import compile_fleet
from fleetc.render.crds import CrdSchemas
from fleetc.render.rendered import RenderedSet
from tests.upstream.reference import CAPI_CRDS, PROVIDER_CRDS, reference

API = "fleetc.io/v1alpha1"
NAMESPACE = "fleet-clusters"
CLOUD_TYPES = ("aws", "azure", "vsphere", "openstack", "gcp")

FLEET: dict[str, Any] = {
    "apiVersion": API,
    "kind": "Fleet",
    "metadata": {"name": "providers"},
    "spec": {
        "namespace": NAMESPACE,
        "versions": {
            "catalogue": ["v1.34.2", "v1.35.0"],
            "channels": {"stable": "v1.34.2"},
            "chainedUpgrades": True,
        },
        "defaults": {"channel": "stable"},
        "rollout": {"waves": [{"name": "all", "selector": {"matchLabels": {}}, "maxConcurrent": 1}]},
    },
}

CLASS: dict[str, Any] = {
    "apiVersion": API,
    "kind": "ClusterClass",
    "metadata": {"name": "standard"},
    "spec": {
        "controlPlane": {"replicas": 3, "size": "medium"},
        "workers": {
            "general": {"size": "large", "replicas": 3},
            "gpu": {
                "size": "gpu",
                "autoscaling": {"min": 0, "max": 4},
                "nodeLabels": {"accelerator": "nvidia"},
                "taints": [{"key": "nvidia.com/gpu", "value": "present", "effect": "NoSchedule"}],
            },
        },
        "kubeadm": {"apiServer": {"extraArgs": {"audit-log-maxage": "30"}}},
    },
}

PROVIDERS: dict[str, dict[str, Any]] = {
    "aws": {
        "type": "aws",
        "region": "eu-west-1",
        "credentialsRef": {"kind": "AWSClusterRoleIdentity", "name": "fleet-prod"},
        "sizes": {"medium": "m6i.xlarge", "large": "m6i.2xlarge", "gpu": "g5.2xlarge"},
        "failureDomains": ["eu-west-1a", "eu-west-1b"],
        "settings": {"sshKeyName": "platform", "additionalTags": {"cost-center": "platform"}},
    },
    "azure": {
        "type": "azure",
        "region": "westeurope",
        "credentialsRef": {"kind": "AzureClusterIdentity", "name": "fleet-identity", "namespace": "capz-system"},
        "sizes": {"medium": "Standard_D4s_v5", "large": "Standard_D8s_v5", "gpu": "Standard_NC6s_v3"},
        "failureDomains": ["1", "2", "3"],
        "settings": {"subscriptionID": "00000000-0000-0000-0000-000000000000"},
    },
    "vsphere": {
        "type": "vsphere",
        "credentialsRef": {"kind": "VSphereClusterIdentity", "name": "dc1"},
        "sizes": {"medium": "medium", "large": "large", "gpu": "gpu-node"},
        "settings": {
            "server": "vcenter.dc1.example.com",
            "thumbprint": "01:02:03:04:05:06:07:08:09:0A:0B:0C:0D:0E:0F:10:11:12:13:14",
            "datacenter": "DC1",
            "datastore": "vsanDatastore",
            "network": "VM Network",
            "template": "ubuntu-2404-kube-{version}",
            "folder": "fleet",
            "resourcePool": "fleet",
            "machineTypes": {"gpu-node": {"numCPUs": 16, "memoryMiB": 131072, "diskGiB": 200}},
            "sshAuthorizedKeys": ["ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIExample platform"],
        },
    },
    "openstack": {
        "type": "openstack",
        "credentialsRef": {"kind": "Secret", "name": "cloud-config"},
        "sizes": {"medium": "m1.medium", "large": "m1.large", "gpu": "g1.large"},
        "failureDomains": ["nova-a", "nova-b"],
        "settings": {
            "cloudName": "prod",
            "image": "ubuntu-2404-kube-{version}",
            "externalNetworkID": "6c90b532-7ba0-418a-a276-5ae55060b5b0",
            "sshKeyName": "platform",
            "dnsNameservers": ["10.0.0.53"],
        },
    },
    "gcp": {
        "type": "gcp",
        "region": "europe-west4",
        "credentialsRef": {"kind": "Secret", "name": "gcp-credentials"},
        "sizes": {"medium": "n2-standard-4", "large": "n2-standard-8", "gpu": "g2-standard-8"},
        "failureDomains": ["europe-west4-a", "europe-west4-b"],
        "settings": {
            "project": "acme-fleet",
            "network": "fleet",
            "image": "projects/acme-fleet/global/images/capi-ubuntu-2404-k8s-{version}",
            "machineCapacities": {"g2-standard-8": {"cpu": 8, "memoryMiB": 32768, "gpus": 1}},
        },
    },
}


def crd_folders() -> list[Path]:
    """CAPI's CRDs and every provider's."""
    return reference().crds(*CAPI_CRDS, *PROVIDER_CRDS)


@functools.cache
def schemas() -> CrdSchemas:
    """The schemas of every served CRD version of CAPI and the providers (loaded once)."""
    return CrdSchemas.load(crd_folders())


def violations(manifests: Iterable[Manifest]) -> list[str]:
    """``Kind name: path: message`` for every object that breaks its CRD (Namespaces have none and are skipped)."""
    found = []
    for manifest in manifests:
        if manifest["apiVersion"] == "v1":
            continue
        found += [f"{manifest['kind']} {manifest['metadata']['name']}: {v}" for v in schemas().violations(manifest)]
    return found


def provider(provider_type: str, name: str | None = None, **changes: Any) -> dict[str, Any]:
    """The test Provider of a type; ``changes`` replace top-level spec fields (``settings`` is merged)."""
    spec = copy.deepcopy(PROVIDERS[provider_type])
    settings = changes.pop("settings", None)
    spec.update(changes)
    if settings is not None:
        spec["settings"] = {**spec.get("settings", {}), **settings}
    return {"apiVersion": API, "kind": "Provider", "metadata": {"name": name or provider_type}, "spec": spec}


def cluster(name: str, provider_name: str, **spec: Any) -> dict[str, Any]:
    """A Cluster of class ``standard``; a vSphere cluster needs ``controlPlaneEndpoint`` in ``spec``."""
    return {
        "apiVersion": API,
        "kind": "Cluster",
        "metadata": {"name": name},
        "spec": {"class": "standard", "provider": provider_name, **spec},
    }


def default_cluster(provider_doc: dict[str, Any], name: str = "c1") -> dict[str, Any]:
    """A cluster on the provider (with an endpoint on vSphere)."""
    extra = {"controlPlaneEndpoint": {"host": "10.20.1.10"}} if provider_doc["spec"]["type"] == "vsphere" else {}
    return cluster(name, provider_doc["metadata"]["name"], **extra)


def compile_documents(*documents: dict[str, Any], cluster_class: dict[str, Any] | None = None) -> RenderedSet:
    """Validate a fleet made of the test Fleet, the class and ``documents``, and compile it."""
    files = {
        "fleet.yaml": yaml.safe_dump(FLEET, sort_keys=False),
        "classes.yaml": yaml.safe_dump(cluster_class or CLASS, sort_keys=False),
        "documents.yaml": yaml.safe_dump_all(documents, sort_keys=False),
    }
    result = validate_tree(MemoryTree({path: text.encode() for path, text in files.items()}, "fleet"))
    assert result.ok, "\n".join(map(str, result.diagnostics))
    assert result.fleet is not None
    return compile_fleet(result.fleet)


def render(provider_doc: dict[str, Any], *clusters: dict[str, Any]) -> RenderedSet:
    """Compile the provider with the given clusters (one default cluster when none are given)."""
    return compile_documents(provider_doc, *(clusters or (default_cluster(provider_doc),)))


def find(rendered: RenderedSet, kind: str, name_suffix: str = "") -> list[Manifest]:
    """The rendered objects of a kind whose names end with ``name_suffix``."""
    return [m for m in rendered.manifests() if m["kind"] == kind and m["metadata"]["name"].endswith(name_suffix)]


def one(rendered: RenderedSet, kind: str, name_suffix: str = "") -> Manifest:
    """The one rendered object of a kind whose name ends with ``name_suffix``."""
    found = find(rendered, kind, name_suffix)
    assert len(found) == 1, f"expected one {kind} *{name_suffix}, found {[m['metadata']['name'] for m in found]}"
    return found[0]


def template_spec(manifest: Manifest) -> Any:
    """``spec.template.spec`` of a template object."""
    return manifest["spec"]["template"]["spec"]


def kubelet_args(args: list[dict[str, str]]) -> dict[str, str]:
    """``[{name, value}]`` → ``{name: value}``."""
    return {arg["name"]: arg["value"] for arg in args}


def patch_named(cluster_class: Manifest, name: str) -> Manifest:
    """The ClusterClass patch called ``name``."""
    patches: dict[str, Manifest] = {p["name"]: p for p in cluster_class["spec"].get("patches", [])}
    assert name in patches, f"no patch {name}; patches: {sorted(patches)}"
    return patches[name]


# --- CAPI's inline patch engine, for one cluster -------------------------------------------------------------

_ACTION = re.compile(r"\{\{-?\s*(.*?)\s*-?\}\}", re.DOTALL)
_FIELD = re.compile(r'^\.([A-Za-z0-9_]+(?:\.[A-Za-z0-9_]+)*)(?: \| replace "([^"]*)" "([^"]*)")?$')


def _lookup(variables: dict[str, Any], dotted: str) -> Any:
    value: Any = variables
    for step in dotted.split("."):
        assert isinstance(value, dict) and step in value, f"variable {dotted} is not defined"
        value = value[step]
    return value


def _render(template: str, variables: dict[str, Any]) -> Any:
    """A Go template that only reads variables (``{{ .a.b }}``), rendered and parsed as YAML like CAPI does."""

    def substitute(match: re.Match[str]) -> str:
        field = _FIELD.match(match.group(1))
        assert field, f"the test renderer only knows {{{{ .path }}}} and sprig's replace, not {match.group(0)!r}"
        value = str(_lookup(variables, field.group(1)))
        return value if field.group(2) is None else value.replace(field.group(2), field.group(3))

    return yaml.safe_load(_ACTION.sub(substitute, template))


_NOT_EMPTY = re.compile(r'^\{\{ ne \.([A-Za-z0-9_]+(?:\.[A-Za-z0-9_]+)*) "" \}\}$')


def enabled(patch: Manifest, variables: dict[str, Any]) -> bool:
    """A patch's ``enabledIf``: absent, or ``{{ ne .path "" }}`` (true unless the variable is the empty string)."""
    if "enabledIf" not in patch:
        return True
    condition = _NOT_EMPTY.match(patch["enabledIf"])
    assert condition, f'the test engine only evaluates {{{{ ne .path "" }}}}, not {patch["enabledIf"]!r}'
    return bool(_lookup(variables, condition.group(1)) != "")


def _value(json_patch: Manifest, variables: dict[str, Any]) -> Any:
    if "value" in json_patch:
        return copy.deepcopy(json_patch["value"])
    source = json_patch["valueFrom"]
    if "variable" in source:
        return copy.deepcopy(_lookup(variables, source["variable"]))
    return _render(source["template"], variables)


def _apply(document: Any, json_patch: Manifest, variables: dict[str, Any]) -> None:
    *parents, last = [p.replace("~1", "/").replace("~0", "~") for p in json_patch["path"].split("/")[1:]]
    target = document
    for step in parents:
        target = target[int(step)] if isinstance(target, list) else target[step]
    value = _value(json_patch, variables)
    if isinstance(target, list):
        assert json_patch["op"] == "add" and last in ("-", "0"), f"unsupported list patch {json_patch}"
        target.insert(len(target) if last == "-" else 0, value)
        return
    assert json_patch["op"] == "add" or last in target, f"replace of a missing field: {json_patch['path']}"
    target[last] = value


def _matches(selector: Manifest, template: Manifest, role: str) -> bool:
    if (selector["apiVersion"], selector["kind"]) != (template["apiVersion"], template["kind"]):
        return False
    match = selector["matchResources"]
    if role == "infrastructure":
        return bool(match.get("infrastructureCluster"))
    if role == "control-plane":
        return bool(match.get("controlPlane"))
    names = match.get("machineDeploymentClass", {}).get("names", [])
    return "*" in names or role in names


def roles(cluster_class: Manifest) -> dict[tuple[str, str], str]:
    """``(kind, name)`` of each template of the class → ``infrastructure``, ``control-plane`` or its pool."""
    spec = cluster_class["spec"]
    result = {
        _key(spec["infrastructure"]["templateRef"]): "infrastructure",
        _key(spec["controlPlane"]["templateRef"]): "control-plane",
        _key(spec["controlPlane"]["machineInfrastructure"]["templateRef"]): "control-plane",
    }
    for md in spec.get("workers", {}).get("machineDeployments", []):
        result[_key(md["bootstrap"]["templateRef"])] = md["class"]
        result[_key(md["infrastructure"]["templateRef"])] = md["class"]
    return result


def _key(ref: Manifest) -> tuple[str, str]:
    return ref["kind"], ref["name"]


def builtins(cluster_object: Manifest, pool: str = "general") -> dict[str, Any]:
    """The builtin variables CAPI gives a cluster's templates (the parts the providers read)."""
    version = cluster_object["spec"]["topology"]["version"]
    name = cluster_object["metadata"]["name"]
    return {
        "cluster": {"name": name, "namespace": cluster_object["metadata"]["namespace"]},
        "controlPlane": {
            "version": version,
            "machineTemplate": {"infrastructureRef": {"name": f"{name}-control-plane-x7k2p"}},
        },
        "machineDeployment": {
            "version": version,
            "class": pool,
            "infrastructureRef": {"name": f"{name}-{pool}-q8w3z"},
        },
    }


def apply_patches(rendered: RenderedSet, cluster_name: str) -> dict[tuple[str, str], Manifest]:
    """Every template of the cluster's class with the class's patches applied for that cluster, by (kind, name)."""
    cluster_object = one(rendered, "Cluster", cluster_name)
    cluster_class = one(rendered, "ClusterClass", cluster_object["spec"]["topology"]["classRef"]["name"])
    template_roles = roles(cluster_class)
    templates = {
        key: copy.deepcopy(m)
        for m in rendered.manifests()
        if (key := (m["kind"], m["metadata"]["name"])) in template_roles
    }
    defaults = {
        v["name"]: v["schema"]["openAPIV3Schema"]["default"]
        for v in cluster_class["spec"].get("variables", [])
        if "default" in v["schema"]["openAPIV3Schema"]
    }
    values = {**defaults, **{v["name"]: v["value"] for v in cluster_object["spec"]["topology"].get("variables", [])}}
    for patch in cluster_class["spec"].get("patches", []):
        if not enabled(patch, values):
            continue
        for definition in patch["definitions"]:
            for key, template in templates.items():
                role = template_roles[key]
                if _matches(definition["selector"], template, role):
                    pool = role if role not in ("infrastructure", "control-plane") else "general"
                    variables = {**values, "builtin": builtins(cluster_object, pool)}
                    for json_patch in definition["jsonPatches"]:
                        _apply(template, json_patch, variables)
    return templates


def patched_objects(rendered: RenderedSet, cluster_name: str) -> list[Manifest]:
    """The cluster's templates after the class patches; the infrastructure cluster as the object CAPI creates."""
    cluster_object = one(rendered, "Cluster", cluster_name)
    cluster_class = one(rendered, "ClusterClass", cluster_object["spec"]["topology"]["classRef"]["name"])
    template_roles = roles(cluster_class)
    return [
        instance_of(m) if template_roles[key] == "infrastructure" else m
        for key, m in apply_patches(rendered, cluster_name).items()
    ]


def instance_of(template: Manifest) -> Manifest:
    """The object a cluster template stands for (``AWSClusterTemplate`` → ``AWSCluster``), as CAPI creates it."""
    kind = template["kind"].removesuffix("Template")
    metadata = {"name": "c1", "namespace": template["metadata"]["namespace"]}
    return {"apiVersion": template["apiVersion"], "kind": kind, "metadata": metadata, "spec": template_spec(template)}


def settings_errors(provider_doc: dict[str, Any]) -> list[Diagnostic]:
    """The errors of a fleet holding only the Fleet, the class and this Provider."""
    files = {
        "fleet.yaml": yaml.safe_dump(FLEET, sort_keys=False),
        "classes.yaml": yaml.safe_dump(CLASS, sort_keys=False),
        "providers.yaml": yaml.safe_dump(provider_doc, sort_keys=False),
    }
    result = validate_tree(MemoryTree({path: text.encode() for path, text in files.items()}, "fleet"))
    return [d for d in result.diagnostics if d.severity == Severity.ERROR]


def patched(rendered: RenderedSet, cluster_name: str, kind: str, name_suffix: str = "") -> Manifest:
    """One of :func:`patched_objects`, by kind and name suffix."""
    found = [
        m
        for m in patched_objects(rendered, cluster_name)
        if m["kind"] == kind and m["metadata"]["name"].endswith(name_suffix)
    ]
    assert len(found) == 1, f"expected one patched {kind} *{name_suffix}, found {len(found)}"
    return found[0]
