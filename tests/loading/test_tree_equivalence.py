"""The three source trees (a folder on disk, a git revision, files in memory) load a fleet identically.

Covers: the same clusters, classes, providers and fleet settings, the same number of files, and the same
diagnostics modulo the path prefix each tree shows, for the example fleet as it is and with faults added.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from fleetc import DiskTree, GitTree, SourceTree, ValidationResult, validate_tree
from tests.loading.support import commit_all, memory_tree_of, relative, shown

FAULTS: dict[str, str] = {
    # an unknown field, then a reference to a provider that does not exist, in one multi-document file
    "clusters/faulty.yaml": (
        "apiVersion: fleetc.io/v1alpha1\nkind: Cluster\nmetadata:\n  name: faulty-1\n"
        "spec:\n  class: standard\n  provider: local-sim\n  workers:\n    general: {replcas: 2}\n"
        "---\n"
        "apiVersion: fleetc.io/v1alpha1\nkind: Cluster\nmetadata:\n  name: faulty-2\n"
        "spec:\n  class: standard\n  provider: nowhere-1\n"
    ),
    "providers/broken.yaml": "apiVersion: fleetc.io/v1alpha1\nkind: Provider\nmetadata: {name: [oops\n",
    "extra/notes.yml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: notes}\n",
    "classes/dup.yaml": "apiVersion: fleetc.io/v1alpha1\nkind: ClusterClass\nkind: ClusterClass\n",
}


def _load(kind: str, root: Path) -> tuple[SourceTree, ValidationResult]:
    tree: SourceTree
    if kind == "memory":
        tree = memory_tree_of(root)
    elif kind == "disk":
        tree = DiskTree.open(root)
    else:
        commit_all(root)
        tree = GitTree.open(root, "HEAD")
    return tree, validate_tree(tree)


def _snapshot(tree: SourceTree, result: ValidationResult) -> dict[str, Any]:
    fleet = result.fleet
    assert fleet is not None, shown(result)
    return {
        "settings": fleet.settings.document,
        "clusters": {name: entry.document for name, entry in fleet.clusters.items()},
        "classes": {name: entry.document for name, entry in fleet.classes.items()},
        "providers": {name: entry.document for name, entry in fleet.providers.items()},
        "files": result.files,
        "diagnostics": sorted(relative(tree, d) for d in result.diagnostics),
    }


@pytest.mark.parametrize("faults", [{}, FAULTS], ids=["example-as-is", "example-with-faults"])
def test_disk_git_and_memory_trees_give_the_same_result(fleet: Path, faults: dict[str, str]) -> None:
    for path, text in faults.items():
        (fleet / path).parent.mkdir(parents=True, exist_ok=True)
        (fleet / path).write_text(text)

    # memory and disk first: the git tree adds a .git folder to the same directory
    snapshots = {kind: _snapshot(*_load(kind, fleet)) for kind in ("memory", "disk", "git")}

    assert snapshots["disk"]["clusters"], "the example fleet has clusters"
    assert snapshots["memory"] == snapshots["disk"]
    assert snapshots["git"] == snapshots["disk"]
    reported = {path for path, *_ in snapshots["disk"]["diagnostics"]}
    assert reported == set(faults)


@pytest.mark.parametrize("kind", ["disk", "git", "memory"])
def test_each_tree_names_files_with_its_own_prefix(fleet: Path, kind: str) -> None:
    (fleet / "clusters" / "faulty.yaml").write_text(FAULTS["clusters/faulty.yaml"])

    tree, result = _load(kind, fleet)

    paths = {d.location.path for d in result.diagnostics}
    assert paths, shown(result)
    assert all(p.startswith(tree.label) and p.endswith("clusters/faulty.yaml") for p in paths), paths
