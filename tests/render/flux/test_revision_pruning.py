"""Class revisions no cluster uses any more are removed: by the revisions Kustomization, after the last wave.

Checked with the real ``kubectl kustomize`` on the tree ``fleetc build`` writes: ``<out>/revisions`` holds exactly
the class revisions the clusters use (so a revision that left the build is what Flux prunes there), and the
classes Kustomization's patch marks exactly the revision objects ``IfNotPresent`` (so the classes Kustomization
never takes them back from the revisions Kustomization), leaving namespaces and add-ons as they are.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from fleetc.core.keys import ObjectKey
from fleetc.render.flux import SSA_ANNOTATION
from fleetc.render.output import write_tree
from tests.render.support import build_folder, copy_example

KUBECTL = shutil.which("kubectl")
pytestmark = pytest.mark.skipif(KUBECTL is None, reason="kubectl is installed on the project's machines; CI has it")


def kustomize(folder: Path) -> list[dict[str, Any]]:
    """The objects ``kubectl kustomize`` builds from a folder."""
    result = subprocess.run([str(KUBECTL), "kustomize", str(folder)], capture_output=True, text=True, check=True)
    return [d for d in yaml.safe_load_all(result.stdout) if d]


def built_tree(fleet: Path, out: Path) -> dict[ObjectKey, str]:
    """Build ``fleet`` into ``out``; every rendered object's key → the folder it was written to."""
    built = build_folder(fleet)
    write_tree(built.files, out)
    return {key: obj.folder for key, obj in built.rendered.objects.items()}


def revision_keys(folders: dict[ObjectKey, str]) -> set[ObjectKey]:
    return {key for key, folder in folders.items() if folder.startswith("classes/")}


def test_the_revisions_folder_holds_exactly_the_class_revisions(tmp_path: Path) -> None:
    folders = built_tree(copy_example(tmp_path), tmp_path / "out")

    objects = {ObjectKey.of(d) for d in kustomize(tmp_path / "out" / "revisions")}

    assert objects == revision_keys(folders)
    assert {key.kind for key in objects} >= {"ClusterClass", "KubeadmControlPlaneTemplate"}


def test_a_revision_no_cluster_uses_leaves_the_revisions_folder(tmp_path: Path) -> None:
    fleet = copy_example(tmp_path)
    before = revision_keys(built_tree(fleet, tmp_path / "before"))
    edge = fleet / "classes" / "edge.yaml"
    edge.write_text(edge.read_text().replace("unhealthyNodeTimeout: 10m", "unhealthyNodeTimeout: 15m", 1))
    after = revision_keys(built_tree(fleet, tmp_path / "after"))

    pruned = {ObjectKey.of(d) for d in kustomize(tmp_path / "before" / "revisions")} - {
        ObjectKey.of(d) for d in kustomize(tmp_path / "after" / "revisions")
    }

    assert pruned == before - after
    assert pruned and {key.kind for key in pruned} >= {"ClusterClass"}
    assert all(key.name.startswith("edge-") for key in pruned if key.kind == "ClusterClass")


def test_the_classes_kustomization_marks_only_revision_objects_create_only(tmp_path: Path) -> None:
    out = tmp_path / "out"
    folders = built_tree(copy_example(tmp_path), out)
    (classes,) = [
        d
        for d in kustomize(out / "flux")
        if d["metadata"]["name"].endswith("-classes") and d["kind"] == "Kustomization"
    ]
    flux = tmp_path / "as-flux-applies-it"
    flux.mkdir()
    overlay = {"resources": ["../out/classes"], "patches": classes["spec"]["patches"]}
    (flux / "kustomization.yaml").write_text(yaml.safe_dump(overlay))

    applied = {ObjectKey.of(d): d for d in kustomize(flux)}

    marked = {key for key, d in applied.items() if d["metadata"].get("annotations", {}).get(SSA_ANNOTATION)}
    assert marked == revision_keys(folders)
    assert {applied[key]["metadata"]["annotations"][SSA_ANNOTATION] for key in marked} == {"IfNotPresent"}
    assert {key.kind for key in set(applied) - marked} >= {"Namespace", "ConfigMap", "ClusterResourceSet"}
