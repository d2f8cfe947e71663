"""Class revisions: a template change makes a new revision, and only the clusters of that class move to it."""

from __future__ import annotations

from pathlib import Path

from fleetc.core.keys import ObjectKey
from fleetc.render.build import Build
from tests.render.support import EXAMPLE, build_folder, copy_example


def class_refs(built: Build) -> dict[str, str]:
    return {
        key.name: built.rendered.objects[key].manifest["spec"]["topology"]["classRef"]["name"]
        for key in built.rendered.objects
        if key.kind == "Cluster"
    }


def revisions(built: Build) -> set[str]:
    return {key.name for key in built.rendered.objects if key.kind == "ClusterClass"}


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new, 1))


def test_a_template_change_moves_only_the_clusters_of_that_class(tmp_path: Path) -> None:
    fleet = copy_example(tmp_path)
    before = build_folder(fleet)
    edit(fleet / "classes" / "edge.yaml", "unhealthyNodeTimeout: 10m", "unhealthyNodeTimeout: 15m")
    after = build_folder(fleet)

    changed = {name for name, ref in class_refs(after).items() if class_refs(before)[name] != ref}
    edge_clusters = {
        key.name
        for key, obj in after.rendered.objects.items()
        if key.kind == "Cluster" and obj.manifest["metadata"]["labels"]["fleetc.io/class"] == "edge"
    }
    assert changed == edge_clusters and changed
    assert {r for r in revisions(after) - revisions(before)} == {class_refs(after)[name] for name in changed}
    assert all(r.startswith("edge-") for r in revisions(after) - revisions(before))


def test_nothing_but_the_class_ref_changes_on_those_clusters(tmp_path: Path) -> None:
    fleet = copy_example(tmp_path)
    before = build_folder(fleet)
    edit(fleet / "classes" / "edge.yaml", "unhealthyNodeTimeout: 10m", "unhealthyNodeTimeout: 15m")
    after = build_folder(fleet)
    for key, obj in after.rendered.objects.items():
        if key.kind != "Cluster":
            continue
        old = before.rendered.objects[key].manifest
        new = obj.manifest
        old_spec = {**old["spec"], "topology": {**old["spec"]["topology"], "classRef": None}}
        new_spec = {**new["spec"], "topology": {**new["spec"]["topology"], "classRef": None}}
        assert old_spec == new_spec and old["metadata"] == new["metadata"]


def test_moving_a_spec_line_does_not_make_a_new_revision(tmp_path: Path) -> None:
    fleet = copy_example(tmp_path)
    before = build_folder(fleet)
    path = fleet / "classes" / "edge.yaml"
    path.write_text("# a new comment line shifts every line below\n" + path.read_text())
    after = build_folder(fleet)
    assert revisions(before) == revisions(after)


def test_revision_names_carry_class_provider_and_hash(tmp_path: Path) -> None:
    built = build_folder(copy_example(tmp_path))
    key = next(k for k in built.rendered.objects if k.kind == "ClusterClass" and k.name.startswith("standard-aws-eu"))
    prefix, _, digest = key.name.rpartition("-")
    assert prefix == "standard-aws-eu-west-1" and len(digest) == 6 and int(digest, 16) >= 0
    templates = [k for k in built.rendered.objects if k.name.startswith(key.name) and k != key]
    assert {k.kind for k in templates} >= {"AWSClusterTemplate", "KubeadmControlPlaneTemplate", "AWSMachineTemplate"}
    assert ObjectKey("cluster.x-k8s.io", "ClusterClass", "fleet-clusters", key.name) in built.rendered.objects


def test_a_size_override_gets_its_own_revision_with_that_machine_type() -> None:
    built = build_folder(EXAMPLE)
    objects = built.rendered.objects
    refs = class_refs(built)
    assert refs["us-prod-2"] != refs["us-prod-1"] and refs["us-prod-2"].startswith("standard-aws-us-east-1-")

    def control_plane_type(revision: str) -> str:
        key = next(k for k in objects if k.kind == "AWSMachineTemplate" and k.name == f"{revision}-control-plane")
        return str(objects[key].manifest["spec"]["template"]["spec"]["instanceType"])

    assert control_plane_type(refs["us-prod-1"]) == "m6i.xlarge"  # medium, from the class
    assert control_plane_type(refs["us-prod-2"]) == "m6i.2xlarge"  # large, the cluster's override
