"""The Flux Kustomizations of a staged rollout: shape, chaining, and strict validity against the real Flux CRD."""

from __future__ import annotations

import copy
import itertools
import json
from typing import Any

import pytest
import yaml

from fleetc.core.errors import OptionError
from fleetc.render.compile import compile_fleet
from fleetc.render.crds import CrdSchemas
from fleetc.render.emit import dump
from fleetc.render.flux import (
    CLUSTER_HEALTH,
    MAX_NAME,
    FluxOptions,
    flux_objects,
    object_name,
)
from fleetc.render.rendered import RenderedSet, WaveClusters
from fleetc.schema.fleet import Wave
from tests.builders import FleetBuilder, assert_valid

from .support import flux_crds_dir

OPTIONS = FluxOptions(path="./clusters/out")


def wave(name: str, clusters: dict[str, str], **fields: Any) -> WaveClusters:
    """A wave of ``clusters`` (name → namespace); ``fields`` are Wave spec fields such as controlPlaneDeadline."""
    model = Wave.model_validate({"name": name, "selector": {"matchLabels": {"ring": name}}, **fields})
    return WaveClusters(model, tuple(sorted(clusters)), clusters)


def rendered(*waves: WaveClusters, fleet: str = "prod") -> RenderedSet:
    return RenderedSet(fleet, "fleet-clusters", {}, waves)


THREE_WAVES = rendered(
    wave("canary", {"eu-1": "fleet-eu"}, controlPlaneDeadline="20m"),
    wave("early", {"us-2": "fleet-us", "eu-3": "fleet-eu"}),
    wave("broad", {"eu-2": "fleet-eu", "ap-1": "fleet-ap", "us-1": "fleet-us"}, controlPlaneDeadline="1h30m"),
)


@pytest.fixture(scope="module")
def flux_schemas() -> CrdSchemas:
    return CrdSchemas.load([flux_crds_dir()])


def by_name(objects: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {o["metadata"]["name"]: o for o in objects}


def test_one_kustomization_for_the_classes_then_one_per_wave_in_order() -> None:
    objects = flux_objects(THREE_WAVES, OPTIONS)
    assert [o["metadata"]["name"] for o in objects] == [
        "prod-classes",
        "prod-wave-canary",
        "prod-wave-early",
        "prod-wave-broad",
        "prod-revisions",
    ]
    assert {(o["apiVersion"], o["kind"]) for o in objects} == {("kustomize.toolkit.fluxcd.io/v1", "Kustomization")}
    assert {o["metadata"]["namespace"] for o in objects} == {"flux-system"}


def test_each_wave_depends_on_the_one_before_and_the_first_on_the_classes() -> None:
    objects = flux_objects(THREE_WAVES, OPTIONS)
    assert "dependsOn" not in objects[0]["spec"]
    for previous, current in itertools.pairwise(objects):
        assert current["spec"]["dependsOn"] == [{"name": previous["metadata"]["name"]}]


def test_paths_point_into_the_build_output() -> None:
    paths = [o["spec"]["path"] for o in flux_objects(THREE_WAVES, OPTIONS)]
    assert paths == [
        "./clusters/out/classes",
        "./clusters/out/waves/canary",
        "./clusters/out/waves/early",
        "./clusters/out/waves/broad",
        "./clusters/out/revisions",
    ]


@pytest.mark.parametrize(
    ("path", "expected"),
    [("./", "./classes"), (".", "./classes"), ("./out/", "./out/classes"), ("out", "out/classes")],
)
def test_paths_join_without_doubled_slashes(path: str, expected: str) -> None:
    objects = flux_objects(rendered(), FluxOptions(path=path))
    assert objects[0]["spec"]["path"] == expected


def test_class_revisions_are_pruned_only_after_the_last_wave_and_waves_prune() -> None:
    # Old class revisions stay while clusters of later waves still use them. Waves prune so that a cluster marked for
    # decommissioning is deleted when its entry goes; every other Cluster opts out (tests/render/flux/test_removal.py).
    classes, *waves, revisions = flux_objects(THREE_WAVES, OPTIONS)
    assert classes["spec"]["prune"] is False
    assert {w["spec"]["prune"] for w in waves} == {True}
    assert revisions["spec"]["prune"] is True
    assert revisions["spec"]["dependsOn"] == [{"name": waves[-1]["metadata"]["name"]}]


def test_the_classes_kustomization_creates_revisions_but_never_reapplies_them() -> None:
    (patch,) = flux_objects(THREE_WAVES, OPTIONS)[0]["spec"]["patches"]
    assert patch["target"] == {"kind": "ClusterClass|.*Template"}
    assert json.loads(patch["patch"]) == [
        {"op": "add", "path": "/metadata/annotations/kustomize.toolkit.fluxcd.io~1ssa", "value": "IfNotPresent"}
    ]


def test_a_build_of_some_clusters_prunes_no_revision() -> None:
    objects = flux_objects(THREE_WAVES, OPTIONS, prune_revisions=False)
    assert "prod-revisions" not in [o["metadata"]["name"] for o in objects]


def test_a_retry_interval_reaches_every_kustomization() -> None:
    objects = flux_objects(THREE_WAVES, FluxOptions(path="./out", retry_interval="2m"))
    assert {o["spec"]["retryInterval"] for o in objects} == {"2m"}
    assert all("retryInterval" not in o["spec"] for o in flux_objects(THREE_WAVES, OPTIONS))


def test_waves_health_check_exactly_their_clusters_with_the_cel_expressions() -> None:
    kustomizations = by_name(flux_objects(THREE_WAVES, OPTIONS))
    broad = kustomizations["prod-wave-broad"]["spec"]
    assert broad["wait"] is False
    assert broad["healthChecks"] == [
        {"apiVersion": "cluster.x-k8s.io/v1beta2", "kind": "Cluster", "name": "ap-1", "namespace": "fleet-ap"},
        {"apiVersion": "cluster.x-k8s.io/v1beta2", "kind": "Cluster", "name": "eu-2", "namespace": "fleet-eu"},
        {"apiVersion": "cluster.x-k8s.io/v1beta2", "kind": "Cluster", "name": "us-1", "namespace": "fleet-us"},
    ]
    assert broad["healthCheckExprs"] == [
        {
            "apiVersion": "cluster.x-k8s.io/v1beta2",
            "kind": "Cluster",
            "current": CLUSTER_HEALTH.current,
            "failed": CLUSTER_HEALTH.failed,
            "inProgress": CLUSTER_HEALTH.in_progress,
        }
    ]
    classes = kustomizations["prod-classes"]["spec"]
    assert "healthChecks" not in classes
    assert classes["wait"] is False


def test_the_timeout_is_the_waves_control_plane_deadline() -> None:
    timeouts = {o["metadata"]["name"]: o["spec"].get("timeout") for o in flux_objects(THREE_WAVES, OPTIONS)}
    assert timeouts == {
        "prod-classes": None,
        "prod-wave-canary": "20m",
        "prod-wave-early": "30m",  # the default deadline
        "prod-wave-broad": "1h30m",
        "prod-revisions": None,
    }


def test_labels_name_the_fleet_and_the_wave() -> None:
    labels = [o["metadata"]["labels"] for o in flux_objects(THREE_WAVES, OPTIONS)]
    assert labels[0] == {"fleetc.io/fleet": "prod"}
    assert labels[1] == {"fleetc.io/fleet": "prod", "fleetc.io/wave": "canary"}


def test_options_set_the_source_namespace_and_interval() -> None:
    options = FluxOptions(
        path="./out",
        source_kind="OCIRepository",
        source_name="fleet",
        source_namespace="sources",
        namespace="fleet-system",
        interval="5m",
    )
    for kustomization in flux_objects(THREE_WAVES, options):
        assert kustomization["metadata"]["namespace"] == "fleet-system"
        assert kustomization["spec"]["sourceRef"] == {"kind": "OCIRepository", "name": "fleet", "namespace": "sources"}
        assert kustomization["spec"]["interval"] == "5m"
    default = flux_objects(THREE_WAVES, OPTIONS)[0]["spec"]
    assert default["sourceRef"] == {"kind": "GitRepository", "name": "flux-system"}
    assert default["interval"] == "10m"


@pytest.mark.parametrize(
    ("fields", "message"),
    [({"source_kind": "HelmRepository"}, "source kind"), ({"interval": "10 minutes"}, "interval")],
)
def test_invalid_options_are_refused(fields: dict[str, str], message: str) -> None:
    with pytest.raises(OptionError, match=message):
        FluxOptions(path="./out", **fields)


def test_long_names_are_shortened_to_a_valid_label_value() -> None:
    fleet, wave_name = "f" * 63, "w" * 63
    name = object_name(fleet, "wave", wave_name)
    assert len(name) == MAX_NAME
    assert name != object_name(fleet, "wave", "w" * 62)
    objects = flux_objects(rendered(wave(wave_name, {}), fleet=fleet), OPTIONS)
    assert all(len(o["metadata"]["name"]) <= MAX_NAME for o in objects)
    assert objects[1]["spec"]["dependsOn"] == [{"name": objects[0]["metadata"]["name"]}]


def test_an_empty_wave_still_gets_its_kustomization() -> None:
    objects = flux_objects(rendered(wave("canary", {})), OPTIONS)
    assert objects[1]["spec"]["healthChecks"] == []


def test_pure_and_deterministic() -> None:
    before = copy.deepcopy(THREE_WAVES)
    first = flux_objects(THREE_WAVES, OPTIONS)
    assert flux_objects(THREE_WAVES, OPTIONS) == first
    assert before == THREE_WAVES


def test_the_emitted_yaml_reads_back_as_the_same_objects() -> None:
    # The CEL expressions are full of quotes, '!', '&&' and '||'.
    for kustomization in flux_objects(THREE_WAVES, OPTIONS):
        assert yaml.safe_load(dump(kustomization)) == kustomization


def test_every_kustomization_validates_strictly_against_the_flux_crd(flux_schemas: CrdSchemas) -> None:
    options = FluxOptions(path="./out", source_namespace="flux-system")
    for kustomization in flux_objects(THREE_WAVES, options):
        assert flux_schemas.knows(kustomization)
        assert flux_schemas.violations(kustomization) == []


def test_the_checker_would_catch_a_field_flux_does_not_know(flux_schemas: CrdSchemas) -> None:
    kustomization = flux_objects(THREE_WAVES, OPTIONS)[1]
    kustomization["spec"]["healthCheckExprs"][0]["progressing"] = "true"
    assert flux_schemas.violations(kustomization) != []


def test_a_compiled_fleet_gets_valid_kustomizations_for_its_waves(flux_schemas: CrdSchemas) -> None:
    builder = (
        FleetBuilder.minimal()
        .set("Fleet", None, ["spec", "rollout", "waves", 0, "controlPlaneDeadline"], "15m")
        .set("Cluster", "eu-1", "spec.provider", "local")
        .set("Cluster", "eu-2", "spec.provider", "local")
    )
    result = builder.validate()
    assert_valid(result)
    assert result.fleet is not None
    objects = flux_objects(compile_fleet(result.fleet), OPTIONS)
    assert [o["metadata"]["name"] for o in objects] == [
        "test-classes",
        "test-wave-canary",
        "test-wave-broad",
        "test-revisions",
    ]
    canary = objects[1]["spec"]
    assert canary["timeout"] == "15m"
    assert canary["healthChecks"] == [
        {"apiVersion": "cluster.x-k8s.io/v1beta2", "kind": "Cluster", "name": "eu-1", "namespace": "fleet-clusters"}
    ]
    assert all(flux_schemas.violations(o) == [] for o in objects)
