"""Which files of a tree are fleet files: hidden folders and files are skipped, ``spec.exclude`` globs are
honoured, ``.yml`` counts as YAML and other suffixes are ignored, on every kind of source tree.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from fleetc import DiskTree, GitTree, SourceTree, ValidationResult, validate_tree
from tests.loading.support import EXAMPLE_FLEET, commit_all, memory_tree_of, relative, shown

NOT_A_FLEET_DOC = "name: ci\non: [push]\njobs: {}\n"  # a GitHub workflow: no apiVersion/kind
MALFORMED = "key: [unclosed\n"
HIDDEN_FILES = {
    ".github/workflows/ci.yaml": NOT_A_FLEET_DOC,
    ".hidden/deep/er/bad.yaml": MALFORMED,
    "clusters/.draft.yaml": MALFORMED,
    "clusters/.wip/next.yml": MALFORMED,
}


def _write(root: Path, files: dict[str, str]) -> None:
    for path, text in files.items():
        (root / path).parent.mkdir(parents=True, exist_ok=True)
        (root / path).write_text(text)


def _open(kind: str, root: Path) -> SourceTree:
    if kind == "disk":
        return DiskTree.open(root)
    if kind == "memory":
        return memory_tree_of(root)
    commit_all(root)
    return GitTree.open(root, "HEAD")


def _baseline() -> ValidationResult:
    return validate_tree(DiskTree.open(EXAMPLE_FLEET))


@pytest.mark.parametrize("kind", ["disk", "git", "memory"])
def test_hidden_folders_and_files_are_skipped(fleet: Path, kind: str) -> None:
    _write(fleet, HIDDEN_FILES)
    if kind == "disk":  # a real .git folder, with a YAML file inside it
        commit_all(fleet)
        (fleet / ".git" / "fleetc-bad.yaml").write_text(MALFORMED)

    result = validate_tree(_open(kind, fleet))

    assert result.ok, shown(result)
    assert result.files == _baseline().files


def test_the_same_files_outside_hidden_folders_are_read(fleet: Path) -> None:
    """Control for the test above: the contents are bad, so skipping them is what keeps the fleet valid."""
    unhidden = {
        path.replace("/.", "/_").replace(".", "_", 1 if path.startswith(".") else 0): text
        for path, text in HIDDEN_FILES.items()
    }
    _write(fleet, unhidden)

    tree = DiskTree.open(fleet)
    result = validate_tree(tree)

    assert {relative(tree, d)[0] for d in result.diagnostics} == set(unhidden), shown(result)


@pytest.mark.parametrize(
    ("exclude", "files"),
    [
        (["vendor"], ["vendor/chart/values.yaml"]),
        (["vendor/"], ["vendor/chart/values.yaml", "vendor/top.yml"]),
        (["vendor/**"], ["vendor/chart/values.yaml"]),
        (["clusters/*.draft.yaml"], ["clusters/eu.draft.yaml"]),
        (["*.tmpl.yaml"], ["templates/base.tmpl.yaml", "deep/er/x.tmpl.yaml"]),
        (["kustomization.yaml", "apps/*"], ["kustomization.yaml", "apps/podinfo.yaml"]),
    ],
    ids=["folder-name", "folder-with-slash", "folder-double-star", "file-glob-in-folder", "suffix-glob", "two-globs"],
)
@pytest.mark.parametrize("kind", ["disk", "git", "memory"])
def test_exclude_globs_keep_files_out_of_the_fleet(
    fleet: Path, kind: str, exclude: list[str], files: list[str]
) -> None:
    settings = fleet / "fleet.yaml"
    kept = [line for line in settings.read_text().splitlines() if not line.startswith("  exclude:")]
    # the example fleet's own exclude (its add-on manifests) stays in force
    settings.write_text("\n".join(kept) + f"\n  exclude: {json.dumps(['addons/**', *exclude])}\n")
    _write(fleet, dict.fromkeys(files, MALFORMED))

    result = validate_tree(_open(kind, fleet))

    assert result.ok, shown(result)
    assert result.files == _baseline().files


def test_without_exclude_the_same_files_are_errors(fleet: Path) -> None:
    """Control for the exclude test: a file that is not a fleet document is reported and points at exclude."""
    _write(fleet, {"kustomization.yaml": "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\n"})

    result = validate_tree(DiskTree.open(fleet))

    assert not result.ok
    assert {d.location.path.rsplit("/", 1)[1] for d in result.diagnostics} == {"kustomization.yaml"}
    assert any("spec.exclude" in d.message for d in result.diagnostics), shown(result)


@pytest.mark.parametrize("kind", ["disk", "git", "memory"])
def test_yml_files_are_read_and_other_suffixes_ignored(fleet: Path, kind: str) -> None:
    cluster = (
        "apiVersion: fleetc.io/v1alpha1\nkind: Cluster\nmetadata:\n  name: from-yml-1\n"
        "spec:\n  class: edge\n  provider: local-docker\n"
    )
    _write(
        fleet,
        {
            "clusters/extra.yml": cluster,
            "README.md": MALFORMED,
            "clusters/notes.txt": MALFORMED,
            "clusters/prod.yaml.orig": MALFORMED,
            "clusters/yaml": MALFORMED,
        },
    )

    result = validate_tree(_open(kind, fleet))

    assert result.ok, shown(result)
    assert result.fleet is not None
    assert "from-yml-1" in result.fleet.clusters
    assert result.files == _baseline().files + 1
