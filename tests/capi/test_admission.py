"""CAPI v1.14's own webhooks (core, KubeadmControlPlane, kubeadm bootstrap, CAPD) accept what fleetc builds.

Provider webhooks (AWS, Azure, vSphere) are not run; docs/capi-admission.md lists the provider rules fleetc checks
itself instead.
"""

from __future__ import annotations

import copy
import secrets
from collections.abc import Callable
from typing import Any

import pytest

from fleetc.render.build import build
from tests.builders import API, DEV_DOC, VSPHERE_DOC, FleetBuilder, cluster_doc, errors
from tests.capi.admission import admit, built_objects
from tests.render.support import EXAMPLE, FLUX, build_folder
from tests.upstream.capi_stack import Session
from tests.upstream.reference import FLUX_CRDS, Reference


def test_every_object_built_for_the_example_fleet_is_admitted(capi: Session, reference: Reference) -> None:
    capi.api.install_crds(reference.crds(*FLUX_CRDS))
    objects = built_objects(build_folder(EXAMPLE).files)
    assert {"Cluster", "ClusterClass", "Kustomization", "Namespace"} <= {o["kind"] for o in objects}
    assert admit(capi.api, objects).findings() == []


# --- generated fleets that stress what CAPI's webhooks check ---------------------------------------------------------

DOCKER = {"apiVersion": API, "kind": "Provider", "metadata": {"name": "docker"}, "spec": {"type": "dev-docker"}}


def _fleet(namespace: str, *clusters: dict[str, Any]) -> FleetBuilder:
    """The minimal fleet on the dev providers only (their webhooks run here), in its own namespace."""
    fleet = FleetBuilder.minimal().set("Fleet", None, "spec.namespace", namespace)
    fleet.files["providers.yaml"] = [copy.deepcopy(DEV_DOC), copy.deepcopy(DOCKER)]
    fleet.files["clusters.yaml"] = list(clusters) or [cluster_doc("c1", ring="canary", provider="local")]
    return fleet


def long_names(ns: str) -> FleetBuilder:
    long = "x" * 50
    fleet = _fleet(ns, cluster_doc("c" * 63, ring="canary", provider="d" * 60), cluster_doc("c2", provider="docker"))
    fleet.set("Provider", "docker", "spec.failureDomains", ["zone-a-" + "z" * 50, "zone-b-" + "z" * 50])
    fleet.add("providers.yaml", {**DEV_DOC, "metadata": {"name": "d" * 60}})
    fleet.set("ClusterClass", "standard", "metadata.name", "s" * 60)
    for doc in fleet.files["clusters.yaml"]:
        assert isinstance(doc, dict)
        doc["spec"]["class"] = "s" * 60
    pool = {"size": "large", "replicas": 2, "spreadAcrossFailureDomains": True}
    return fleet.set("ClusterClass", None, "spec.workers", {"p" * 63: pool, long: {"size": "large", "replicas": 1}})


def many_pools(ns: str) -> FleetBuilder:
    pools = {f"pool-{index:02d}": {"size": "large", "replicas": 1} for index in range(20)}
    return _fleet(ns).set("ClusterClass", "standard", "spec.workers", pools)


def colliding_pools(ns: str) -> FleetBuilder:
    fleet = _fleet(ns, cluster_doc("c1", ring="canary", provider="docker"))
    fleet.set("Provider", "docker", "spec.failureDomains", ["a", "A_"])
    spread = {"size": "large", "replicas": 2, "spreadAcrossFailureDomains": True}
    return fleet.set(
        "ClusterClass", "standard", "spec.workers", {"gpu": spread, "gpu-a": {"size": "large", "replicas": 1}}
    )


def failure_domains(ns: str) -> FleetBuilder:
    fleet = _fleet(ns, cluster_doc("c1", ring="canary", provider="docker"))
    fleet.set("Provider", "docker", "spec.failureDomains", [f"zone-{index}" for index in range(7)])
    spread = {"size": "large", "replicas": 3, "spreadAcrossFailureDomains": True}
    scaled = {"size": "large", "autoscaling": {"min": 1, "max": 5}, "spreadAcrossFailureDomains": True}
    return fleet.set("ClusterClass", "standard", "spec.workers", {"spread": spread, "scaled": scaled})


def variables(ns: str) -> FleetBuilder:
    declared = {
        "region": {"type": "string", "default": "eu"},
        "count": {"type": "integer", "required": True, "default": 3},
        "ratio": {"type": "number"},
        "enabled": {"type": "boolean", "default": False},
    }
    fleet = _fleet(ns).set("ClusterClass", "standard", "spec.variables", declared)
    return fleet.set("Cluster", "c1", "spec.variables", {"region": "us", "ratio": 0.5})


def reserved_variables(ns: str) -> FleetBuilder:
    declared = {"builtin": {"type": "string"}, "a.b": {"type": "string"}}
    return _fleet(ns).set("ClusterClass", "standard", "spec.variables", declared)


def health_checks(ns: str) -> FleetBuilder:
    fleet = _fleet(ns).set("ClusterClass", "standard", "spec.healthCheck", {"nodeStartupTimeout": "30s",
                                                                            "unhealthyNodeTimeout": "1s",
                                                                            "maxUnhealthy": "0%"})  # fmt: skip
    pool = {"size": "large", "replicas": 1, "healthCheck": {"nodeStartupTimeout": "10s", "maxUnhealthy": 100}}
    return fleet.set("ClusterClass", "standard", "spec.workers.short", pool)


def unsorted_failure_domains(ns: str) -> FleetBuilder:
    fleet = _fleet(ns, cluster_doc("c1", ring="canary", provider="docker"))
    return fleet.set("Provider", "docker", "spec.failureDomains", ["zone-b", "zone-a", "Zone-c"])


def health_checks_at_the_limits(ns: str) -> FleetBuilder:
    check = {"nodeStartupTimeout": "30s", "unhealthyNodeTimeout": "1s", "maxUnhealthy": "0%"}
    fleet = _fleet(ns).set("ClusterClass", "standard", "spec.healthCheck", check)
    pool = {"size": "large", "replicas": 1, "healthCheck": {"nodeStartupTimeout": "0s", "maxUnhealthy": 100}}
    return fleet.set("ClusterClass", "standard", "spec.workers.off", pool)


def provider_variable_clash(ns: str) -> FleetBuilder:
    fleet = _fleet(ns, cluster_doc("c1", ring="canary", provider="vsphere-dc1",
                                   controlPlaneEndpoint={"host": "10.0.0.10"}))  # fmt: skip
    fleet.add("providers.yaml", VSPHERE_DOC)
    return fleet.set("ClusterClass", "standard", "spec.variables", {"controlPlaneEndpoint": {"type": "string"}})


def azure_class_without_pools(ns: str) -> FleetBuilder:
    azure = {
        "apiVersion": API,
        "kind": "Provider",
        "metadata": {"name": "azure"},
        "spec": {
            "type": "azure",
            "region": "westeurope",
            "credentialsRef": {"kind": "AzureClusterIdentity", "name": "fleet-identity"},
            "sizes": {"medium": "Standard_D4s_v5", "large": "Standard_D8s_v5"},
            "settings": {"subscriptionID": "00000000-0000-0000-0000-000000000000", "resourceGroup": "fleet"},
        },
    }
    fleet = _fleet(ns, cluster_doc("c1", ring="canary", provider="azure")).add("providers.yaml", azure)
    return fleet.unset("ClusterClass", "standard", "spec.workers")


ADMITTED = "admitted by CAPI"
REFUSED = "refused by fleetc"
STRESS: list[tuple[Callable[[str], FleetBuilder], str]] = [
    (long_names, ADMITTED),  # MachineDeployment names over 63 characters are shortened with a hash
    (many_pools, ADMITTED),
    (colliding_pools, REFUSED),  # pool gpu spread over zone "a" and pool gpu-a: one MachineDeployment name
    (failure_domains, ADMITTED),
    (unsorted_failure_domains, ADMITTED),  # CAPD wants them sorted by name: fleetc sorts them
    (variables, ADMITTED),
    (reserved_variables, REFUSED),  # "builtin" is reserved, "a.b" has a dot
    (provider_variable_clash, REFUSED),  # vSphere declares controlPlaneEndpoint itself
    (health_checks, REFUSED),  # nodeStartupTimeout 10s: CAPI wants 0 or at least 30 s
    (health_checks_at_the_limits, ADMITTED),
    (azure_class_without_pools, ADMITTED),  # a worker patch would select no MachineDeployment class
]


@pytest.mark.parametrize(("make", "expected"), STRESS, ids=[make.__name__ for make, _ in STRESS])
def test_a_generated_fleet_is_refused_by_fleetc_at_its_source_or_admitted_by_capi(
    capi: Session, make: Callable[[str], FleetBuilder], expected: str
) -> None:
    namespace = f"admit-{make.__name__.replace('_', '-')}-{secrets.token_hex(3)}"
    result = make(namespace).validate()
    if not result.ok:
        refused = errors(result)
        assert refused and all(d.location.line for d in refused), "\n".join(map(str, result.diagnostics))
        assert expected == REFUSED, "\n".join(map(str, refused))
        return
    assert result.fleet is not None
    objects = [o for o in built_objects(build(result.fleet, flux=FLUX).files) if o["kind"] != "Kustomization"]
    assert admit(capi.api, objects).findings() == []
    assert expected == ADMITTED
