"""Documents of the wrong shape and names that try to escape: clean diagnostics, exit code 1, no traceback.

Covers: a document that is a list or a scalar instead of a mapping, names like ``../x`` (written or generated
by a ClusterSet), a fleet.yaml with zero or two documents or of the wrong shape, a folder without fleet.yaml
and a path inside no fleet at all.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from fleetc import DiskTree, SourceError, validate_tree
from tests.loading.support import run_cli

HOSTILE = "fleet/clusters/hostile.yaml"
VALID = "apiVersion: fleetc.io/v1alpha1\nkind: Provider\nmetadata: {name: shape-ok}\nspec: {type: dev-docker}\n"


def _line_of(text: str, needle: str) -> int:
    return text.count("\n", 0, text.index(needle)) + 1


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        ("- apiVersion: fleetc.io/v1alpha1\n- kind: Cluster\n", "- apiVersion"),
        ("just a string\n", "just"),
        ("42\n", "42"),
        ("[1, 2, 3]\n", "[1"),
        (VALID + "---\n- listed\n", "- listed"),
        (VALID + "---\n'quoted scalar'\n", "'quoted"),
    ],
    ids=["block-list", "plain-scalar", "number", "flow-list", "list-after-a-valid-document", "scalar-after-a-valid"],
)
def test_a_document_that_is_not_a_mapping(fleet: Path, text: str, needle: str) -> None:
    (fleet / "clusters" / "hostile.yaml").write_text(text)

    outcome = run_cli("validate", "fleet")

    assert outcome.exit_code == 1, outcome.output
    assert "Traceback" not in outcome.output
    reported = outcome.lines_about(HOSTILE)
    assert len(reported) == 1, outcome.output
    assert reported[0].startswith(f"{HOSTILE}:{_line_of(text, needle)}:1:"), reported[0]
    assert "must be a mapping" in reported[0]


@pytest.mark.parametrize("name", ["../x", "..", "a/../../etc", "/etc/passwd", "x\\..\\y", "."])
@pytest.mark.parametrize("kind", ["Cluster", "Provider", "ClusterClass"])
def test_a_name_that_looks_like_a_path_is_refused_at_its_position(fleet: Path, kind: str, name: str) -> None:
    text = f"apiVersion: fleetc.io/v1alpha1\nkind: {kind}\nmetadata:\n  name: '{name}'\nspec: {{}}\n"
    (fleet / "clusters" / "hostile.yaml").write_text(text)

    outcome = run_cli("validate", "fleet")

    assert outcome.exit_code == 1, outcome.output
    assert "Traceback" not in outcome.output
    on_name = [line for line in outcome.lines_about(HOSTILE) if " metadata.name: " in line]
    assert len(on_name) == 1, outcome.output
    assert on_name[0].startswith(f"{HOSTILE}:4:9:"), on_name[0]
    assert "DNS-1123" in on_name[0]


def test_a_generated_name_that_looks_like_a_path_points_at_the_template(fleet: Path) -> None:
    text = (
        "apiVersion: fleetc.io/v1alpha1\nkind: ClusterSet\nmetadata: {name: escape}\nspec:\n"
        "  matrix:\n    site: [ok, ../../etc]\n"
        "  template:\n    metadata:\n      name: store-${site}\n      labels: {ring: broad}\n"
        "    spec: {class: edge, provider: local-docker}\n"
    )
    (fleet / "clusters" / "hostile.yaml").write_text(text)

    outcome = run_cli("validate", "fleet")

    assert outcome.exit_code == 1, outcome.output
    assert "Traceback" not in outcome.output
    reported = outcome.lines_about(HOSTILE)
    assert reported, outcome.output
    assert all(line.startswith(f"{HOSTILE}:{_line_of(text, 'store-')}:") for line in reported), outcome.output
    assert any("../../etc" in line for line in reported), outcome.output


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("", "found 0"),
        ("# the fleet moved\n", "found 0"),
        ("---\n# nothing\n", "found 0"),
        ("{FLEET}---\n{FLEET}", "found 2"),
        ("- {FLEET_FLOW}\n", "must be a mapping"),
        ("acme\n", "must be a mapping"),
        ("apiVersion: fleetc.io/v1alpha1\nkind: Cluster\nmetadata: {name: x}\nspec: {}\n", "expected kind Fleet"),
        ("apiVersion: fleetc.io/v1alpha1\nkind: Fleet\nmetadata: {name: [x\n", "invalid YAML"),
    ],
    ids=["empty", "comment-only", "separator-only", "two-documents", "a-list", "a-scalar", "wrong-kind", "malformed"],
)
def test_a_fleet_yaml_without_exactly_one_fleet_document(fleet: Path, text: str, fragment: str) -> None:
    original = (fleet / "fleet.yaml").read_text()
    content = text.replace("{FLEET}", original).replace("{FLEET_FLOW}", "apiVersion: fleetc.io/v1alpha1")
    (fleet / "fleet.yaml").write_text(content)

    outcome = run_cli("validate", "fleet")

    assert outcome.exit_code == 1, outcome.output
    assert "Traceback" not in outcome.output
    reported = outcome.lines_about("fleet/fleet.yaml")
    assert reported, outcome.output
    assert any(fragment in line for line in reported), outcome.output
    assert "fleet not loaded" in outcome.output.splitlines()[-1]


def test_a_broken_fleet_yaml_does_not_hide_errors_in_other_files(fleet: Path) -> None:
    (fleet / "fleet.yaml").write_text("")
    (fleet / "clusters" / "hostile.yaml").write_text("key: [unclosed\n")

    outcome = run_cli("validate", "fleet")

    assert outcome.exit_code == 1, outcome.output
    assert outcome.lines_about("fleet/fleet.yaml"), outcome.output
    assert outcome.lines_about(HOSTILE), outcome.output


def test_a_folder_without_fleet_yaml(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "nofleet" / "clusters").mkdir(parents=True)
    (tmp_path / "nofleet" / "clusters" / "a.yaml").write_text(VALID)

    outcome = run_cli("validate", "nofleet")
    result = validate_tree(DiskTree.open(tmp_path / "nofleet"))

    assert outcome.exit_code == 1, outcome.output
    assert "Traceback" not in outcome.output
    assert outcome.lines_about("nofleet"), outcome.output
    assert "fleet.yaml" in outcome.output
    assert result.fleet is None and not result.ok
    assert [d.location.path for d in result.diagnostics] == [DiskTree.open(tmp_path / "nofleet").label]


def test_a_path_inside_no_fleet_at_all(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "a" / "b").mkdir(parents=True)

    outcome = run_cli("validate", "a/b")

    assert outcome.exit_code == 1, outcome.output
    assert "Traceback" not in outcome.output
    assert outcome.lines_about("a/b"), outcome.output
    assert "not inside a fleet" in outcome.output


def test_a_missing_path_is_a_usage_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)

    outcome = run_cli("validate", "does/not/exist")

    assert outcome.exit_code == 2, outcome.output
    assert "Traceback" not in outcome.output


@pytest.mark.parametrize("what", ["missing", "a-file"])
def test_disk_tree_refuses_what_is_not_a_folder(tmp_path: Path, what: str) -> None:
    target = tmp_path / "thing"
    if what == "a-file":
        target.write_text(VALID)
    with pytest.raises(SourceError, match="not a folder"):
        DiskTree.open(target)
