"""Paths given to ``fleetc validate`` (as pre-commit passes changed files) resolve to their fleet root.

Covers: a file or a folder inside a fleet validates the whole fleet (an edit in one file that breaks a
reference in another is reported), several files of one fleet validate it once, files of two fleets validate
both, and files outside any fleet are ignored with exit code 0.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.loading.support import copy_example, run_cli


def _rename_provider(fleet: Path) -> None:
    """Rename a provider that clusters in other files refer to: only providers/aws.yaml changes."""
    path = fleet / "providers" / "aws.yaml"
    text = path.read_text()
    assert "name: aws-eu-west-1\n" in text
    path.write_text(text.replace("name: aws-eu-west-1\n", "name: aws-eu-west-9\n"))


@pytest.mark.parametrize(
    "given",
    [
        ["fleet/providers/aws.yaml"],
        ["fleet/clusters/canary.yaml"],
        ["fleet/fleet.yaml"],
        ["fleet/providers"],
        ["fleet/providers/aws.yaml", "fleet/classes/edge.yaml"],
    ],
    ids=["the-edited-file", "an-unrelated-file", "fleet-yaml", "a-folder-in-the-fleet", "two-files"],
)
def test_a_path_in_a_fleet_validates_the_whole_fleet(fleet: Path, given: list[str]) -> None:
    _rename_provider(fleet)

    outcome = run_cli("validate", *given)

    assert outcome.exit_code == 1, outcome.output
    broken = outcome.lines_about("fleet/clusters/prod.yaml")
    assert broken, outcome.output
    assert all("aws-eu-west-1" in line for line in broken), broken
    assert outcome.output.splitlines()[-1].startswith("fleet: ")


def test_an_absolute_file_path_resolves_to_its_fleet(fleet: Path) -> None:
    _rename_provider(fleet)

    outcome = run_cli("validate", str((fleet / "clusters" / "prod.yaml").resolve()))

    assert outcome.exit_code == 1, outcome.output
    assert outcome.lines_about("fleet/clusters/prod.yaml"), outcome.output


def test_many_files_of_one_fleet_validate_it_once(fleet: Path) -> None:
    files = sorted(str(p.relative_to(fleet.parent)) for p in fleet.rglob("*.yaml"))

    outcome = run_cli("validate", "--format", "json", *files)
    report = json.loads(outcome.output)

    assert outcome.exit_code == 0, outcome.output
    assert [f["root"] for f in report["fleets"]] == ["fleet"]


def test_files_of_two_fleets_validate_both(fleet: Path) -> None:
    other = copy_example(fleet.parent / "other")
    _rename_provider(other)

    outcome = run_cli("validate", "--format", "json", "other/fleet.yaml", "fleet/clusters/prod.yaml")
    report = json.loads(outcome.output)

    assert outcome.exit_code == 1, outcome.output
    assert sorted(f["root"] for f in report["fleets"]) == ["fleet", "other"]
    assert {d["file"].split("/")[0] for d in report["diagnostics"]} == {"other"}


def test_files_outside_any_fleet_are_ignored(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "ci").mkdir()
    (tmp_path / "ci" / "pipeline.yaml").write_text("key: [unclosed\n")
    (tmp_path / "loose.yml").write_text("\x00 not even text")

    outcome = run_cli("validate", "ci/pipeline.yaml", "loose.yml")

    assert outcome.exit_code == 0, outcome.output
    assert "pipeline.yaml:" not in outcome.output
    assert "Traceback" not in outcome.output


def test_stray_files_beside_a_fleet_file_do_not_stop_its_validation(fleet: Path) -> None:
    (fleet.parent / "stray.yaml").write_text("key: [unclosed\n")
    _rename_provider(fleet)

    outcome = run_cli("validate", "stray.yaml", "fleet/providers/aws.yaml")

    assert outcome.exit_code == 1, outcome.output
    assert outcome.lines_about("fleet/clusters/prod.yaml"), outcome.output
    assert not outcome.lines_about("stray.yaml")


def test_a_nested_fleet_file_belongs_to_the_nearest_fleet(fleet: Path) -> None:
    """A fleet inside another fleet's folder: a file of the inner one validates the inner one only."""
    inner = copy_example(fleet / "teams" / "inner")
    _rename_provider(inner)

    outcome = run_cli("validate", "--format", "json", "fleet/teams/inner/clusters/prod.yaml")
    report = json.loads(outcome.output)

    assert [f["root"] for f in report["fleets"]] == ["fleet/teams/inner"]
    assert outcome.exit_code == 1
