"""Files and documents: one file may hold many documents (``---``); empty documents, empty files and
comment-only files are fine; a finding in a later document points at that document's own lines, and a broken
document does not hide the valid ones next to it.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from fleetc import DiskTree, validate_tree
from tests.loading.support import EXAMPLE_FLEET, shown

CLUSTER = (
    "apiVersion: fleetc.io/v1alpha1\nkind: Cluster\nmetadata:\n  name: {name}\n"
    "spec:\n  class: edge\n  provider: local-docker\n"
)


def _position(text: str, needle: str) -> tuple[int, int]:
    index = text.index(needle)
    return text.count("\n", 0, index) + 1, index - (text.rfind("\n", 0, index) + 1) + 1


def test_many_documents_in_one_file(fleet: Path) -> None:
    parts = []
    for path in sorted((fleet / "providers").glob("*.yaml")):
        parts.append(path.read_text())
        path.unlink()
    stream = "---\n" + "\n---\n# next provider\n".join(parts)
    (fleet / "providers" / "all.yaml").write_text(stream)

    result = validate_tree(DiskTree.open(fleet))
    example = validate_tree(DiskTree.open(EXAMPLE_FLEET)).fleet

    assert result.ok, shown(result)
    assert result.fleet is not None and example is not None
    assert result.fleet.providers.keys() == example.providers.keys()
    assert len(result.fleet.providers) > 1


@pytest.mark.parametrize(
    "text",
    ["", "\n\n", "# only a comment\n# and another\n", "\ufeff# BOM\n", "---\n", "---\n# comment\n---\n"],
    ids=["empty", "blank-lines", "comments", "bom-comment", "one-separator", "separators-and-comment"],
)
def test_files_without_documents_are_fine(fleet: Path, text: str) -> None:
    (fleet / "clusters" / "placeholder.yaml").write_text(text)

    result = validate_tree(DiskTree.open(fleet))

    assert result.ok, shown(result)
    assert result.files == validate_tree(DiskTree.open(EXAMPLE_FLEET)).files + 1


@pytest.mark.parametrize(
    "template",
    ["---\n{a}", "{a}---\n", "{a}---\n---\n{b}", "{a}---\n# the next one is empty\n---\n{b}---\n...\n"],
    ids=["leading-separator", "trailing-separator", "doubled-separator", "commented-empty-and-end-marker"],
)
def test_separators_around_documents_add_no_documents(fleet: Path, template: str) -> None:
    """Generated YAML (helm, kustomize, yq) often starts or ends with ``---``; that is not a document."""
    text = template.format(a=CLUSTER.format(name="sep-a"), b=CLUSTER.format(name="sep-b"))
    (fleet / "clusters" / "separated.yaml").write_text(text)

    result = validate_tree(DiskTree.open(fleet))

    assert result.ok, shown(result)
    assert result.fleet is not None
    assert "sep-a" in result.fleet.clusters


def test_a_finding_in_a_later_document_points_at_its_own_line(fleet: Path) -> None:
    bad = CLUSTER.format(name="third-1").replace("class: edge", "class: edge\n  colour: blue")
    text = CLUSTER.format(name="first-1") + "---\n# second\n" + CLUSTER.format(name="second-1") + "---\n" + bad
    (fleet / "clusters" / "many.yaml").write_text(text)

    result = validate_tree(DiskTree.open(fleet))

    (diagnostic,) = result.diagnostics
    assert (diagnostic.location.line, diagnostic.location.column) == _position(text, "colour")
    assert diagnostic.location.path.endswith("clusters/many.yaml")
    assert "colour" in diagnostic.message


def test_a_broken_document_does_not_hide_its_neighbours(fleet: Path) -> None:
    text = (
        CLUSTER.format(name="before-1")
        + "---\napiVersion: fleetc.io/v1alpha1\nkind: Cluster\nmetadata: {name: broken-1}\nspec: {class: 3}\n---\n"
        + CLUSTER.format(name="after-1")
    )
    (fleet / "clusters" / "mixed.yaml").write_text(text)

    result = validate_tree(DiskTree.open(fleet))

    assert result.fleet is not None
    assert {"before-1", "after-1"} <= result.fleet.clusters.keys()
    assert "broken-1" not in result.fleet.clusters
    lines = {d.location.line for d in result.diagnostics}
    assert lines, shown(result)
    assert all(_position(text, "spec: {class: 3}")[0] == line for line in lines), shown(result)
