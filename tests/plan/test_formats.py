"""Output formats of diff and plan: golden files for a small scenario, the JSON schema, and colour.

The scenario (:func:`scenario`) changes a little of everything: the stable channel moves to v1.35.0, a class
template changes, a cluster is removed and another added, a pool is scaled. ``pytest tests/plan --update-golden``
rewrites ``tests/golden/diff-small/`` after an intended change of output; read the diff before committing it.
The JSON output must validate against the published schema, whose shape is itself pinned by a golden file so
that a field cannot be dropped or renamed without bumping ``version``.
"""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest

from fleetc.plan.formats.json_schema import JSON_SCHEMA
from tests.plan.support import FleetRepo, run

GOLDEN = Path(__file__).parents[1] / "golden" / "diff-small"


def scenario(repo: FleetRepo) -> None:
    """Bump stable, change a template, remove eu-3, add eu-4 in canary, scale edge-1's pool (not committed)."""
    repo.builder.set("Fleet", None, "spec.versions.channels.stable", "v1.35.0")
    repo.builder.set("ClusterClass", "standard", "spec.kubeadm", {"kubelet": {"extraArgs": {"max-pods": "200"}}})
    repo.remove_cluster("eu-3")
    repo.add_cluster("eu-4", ring="canary")
    repo.cluster("edge-1")["spec"]["workers"] = {"apps": {"replicas": 3}}
    repo.write()


def _check_golden(name: str, text: str, update: bool) -> None:
    expected = GOLDEN / name
    if update:
        expected.parent.mkdir(parents=True, exist_ok=True)
        expected.write_text(text, encoding="utf-8")
    assert text == expected.read_text(encoding="utf-8")


@pytest.mark.parametrize(
    ("command", "output", "expected"),
    [
        pytest.param("diff", "text", "diff.txt", id="diff-text"),
        pytest.param("diff", "markdown", "diff.md", id="diff-markdown"),
        pytest.param("diff", "json", "diff.json", id="diff-json"),
        pytest.param("plan", "text", "plan.txt", id="plan-text"),
        pytest.param("plan", "markdown", "plan.md", id="plan-markdown"),
    ],
)
def test_small_scenario_matches_the_golden_file(
    repo: FleetRepo, update_golden: bool, command: str, output: str, expected: str
) -> None:
    scenario(repo)

    result = run(command, "fleet", "--base", "HEAD", "--format", output)

    assert result.exit_code == 0, result.output
    _check_golden(expected, result.stdout, update_golden)


@pytest.mark.parametrize("command", ["diff", "plan"])
def test_json_output_validates_against_the_published_schema(repo: FleetRepo, command: str) -> None:
    scenario(repo)

    report = json.loads(run(command, "fleet", "--base", "HEAD", "--format", "json").stdout)

    jsonschema.validate(report, JSON_SCHEMA)
    assert report["version"] == 3 and report["kind"] == command


def test_json_of_a_failed_side_validates_against_the_schema(repo: FleetRepo) -> None:
    repo.builder.raw("fleet.yaml", "kind: Fleet\n")
    repo.write()

    report = json.loads(run("diff", "fleet", "--base", "HEAD", "--format", "json").stdout)

    jsonschema.validate(report, JSON_SCHEMA)
    assert report["failures"][0]["side"] == "head"


def test_the_schema_itself_is_stable(update_golden: bool) -> None:
    """Removing or renaming a field of a version must be deliberate: it changes this golden file."""
    _check_golden("schema.json", json.dumps(JSON_SCHEMA, indent=2, sort_keys=True) + "\n", update_golden)


def test_the_schema_rejects_an_unannounced_field(repo: FleetRepo) -> None:
    report = json.loads(run("diff", "fleet", "--base", "HEAD", "--format", "json").stdout)
    report["summary"]["surprise"] = 1

    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(report, JSON_SCHEMA)


def test_text_is_plain_when_not_a_terminal_and_coloured_when_forced(
    repo: FleetRepo, monkeypatch: pytest.MonkeyPatch
) -> None:
    scenario(repo)

    plain = run("diff", "fleet", "--base", "HEAD").stdout
    monkeypatch.setenv("FORCE_COLOR", "1")
    from click.testing import CliRunner

    from fleetc.cli.main import cli

    coloured = CliRunner().invoke(cli, ["diff", "fleet", "--base", "HEAD"]).stdout

    assert "\x1b[" not in plain
    assert "\x1b[33mORPHANED: 1 cluster left running" in coloured  # the removed cluster, yellow
