"""Class variables reach the templates they are meant for, through ClusterClass patches CAPI applies.

The effect is checked with the CAPI patch engine of the provider tests (``apply_patches``): per cluster, the
patched templates carry the value, and still pass the upstream CRDs (parents the template lacks are created,
empty kubeadm sections are never left behind). Validation rejects patches CAPI could not apply.
"""

from __future__ import annotations

import copy
from typing import Any

import pytest

from tests.builders import FleetBuilder, only
from tests.render.providers.support import (
    CLASS,
    cluster,
    compile_documents,
    patched,
    patched_objects,
    provider,
    template_spec,
    violations,
)

IMAGE_REPOSITORY = {
    "type": "string",
    "default": "",
    "patches": [{"template": "controlPlane", "path": "/kubeadmConfigSpec/clusterConfiguration/imageRepository"}],
}


def _class(variables: dict[str, Any], *, kubeadm: bool = True) -> dict[str, Any]:
    document = copy.deepcopy(CLASS)
    document["spec"]["variables"] = variables
    if not kubeadm:
        del document["spec"]["kubeadm"]
    return document


@pytest.mark.parametrize("kubeadm", [True, False], ids=["section-exists", "section-missing"])
def test_a_cluster_value_reaches_the_control_plane_template(kubeadm: bool) -> None:
    doc = provider("aws")
    mirror = cluster("mirror", "aws", variables={"imageRepository": "registry.example.com/k8s"})
    plain = cluster("plain", "aws")

    rendered = compile_documents(
        doc, mirror, plain, cluster_class=_class({"imageRepository": IMAGE_REPOSITORY}, kubeadm=kubeadm)
    )

    mirrored = template_spec(patched(rendered, "mirror", "KubeadmControlPlaneTemplate"))
    assert mirrored["kubeadmConfigSpec"]["clusterConfiguration"]["imageRepository"] == "registry.example.com/k8s"
    untouched = template_spec(patched(rendered, "plain", "KubeadmControlPlaneTemplate"))
    assert "imageRepository" not in untouched["kubeadmConfigSpec"].get("clusterConfiguration", {})
    assert violations(patched_objects(rendered, "mirror")) == []
    assert violations(patched_objects(rendered, "plain")) == []


def test_a_worker_variable_patches_only_the_pools_it_names() -> None:
    root_volume = {
        "type": "integer",
        "default": 80,
        "patches": [{"template": "workerMachine", "path": "/rootVolume/size", "pools": ["gpu"]}],
    }
    c1 = cluster("c1", "aws", variables={"gpuRootVolume": 200})

    rendered = compile_documents(provider("aws"), c1, cluster_class=_class({"gpuRootVolume": root_volume}))

    assert template_spec(patched(rendered, "c1", "AWSMachineTemplate", "-gpu"))["rootVolume"] == {"size": 200}
    assert "rootVolume" not in template_spec(patched(rendered, "c1", "AWSMachineTemplate", "-general"))
    assert violations(patched_objects(rendered, "c1")) == []


def test_an_infrastructure_variable_reaches_the_infrastructure_cluster() -> None:
    variables = {
        "sshKey": {
            "type": "string",
            "required": True,
            "patches": [{"template": "infrastructureCluster", "path": "/sshKeyName"}],
        }
    }
    rendered = compile_documents(
        provider("aws"), cluster("c1", "aws", variables={"sshKey": "team-a"}), cluster_class=_class(variables)
    )

    assert patched(rendered, "c1", "AWSCluster")["spec"]["sshKeyName"] == "team-a"


@pytest.mark.parametrize(
    ("patch", "field", "fragment"),
    [
        pytest.param(
            {"template": "controlPlane", "path": "/x", "pools": ["general"]},
            "spec.variables.v.patches[0].pools",
            "worker templates only",
            id="pools-on-control-plane",
        ),
        pytest.param(
            {"template": "workerBootstrap", "path": "/x", "pools": ["gpu"]},
            "spec.variables.v.patches[0].pools",
            "has no worker pool 'gpu'",
            id="unknown-pool",
        ),
        pytest.param(
            {"template": "workerBootstrap", "path": "/files/1/content"},
            "spec.variables.v.patches[0].path",
            "only '0' or '-'",
            id="list-index",
        ),
    ],
)
def test_patches_capi_cannot_apply_are_rejected(patch: dict[str, Any], field: str, fragment: str) -> None:
    fleet = FleetBuilder.minimal()
    fleet.set("ClusterClass", "standard", "spec.variables.v", {"type": "string", "default": "", "patches": [patch]})

    only(fleet.validate(), field=field, fragment=fragment)


def test_a_patched_variable_needs_a_value() -> None:
    fleet = FleetBuilder.minimal()
    variable = {"type": "integer", "patches": [{"template": "controlPlane", "path": "/x"}]}
    fleet.set("ClusterClass", "standard", "spec.variables.v", variable)

    diagnostic = only(fleet.validate(), field="spec.variables.v")

    assert "needs a default or required: true" in diagnostic.message
