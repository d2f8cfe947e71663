"""``-o``/``--output`` json|yaml on every command that reports: one document per report, with ``kind`` and ``version``.

The same document in JSON and YAML; ``--format`` (where a command had it) is the same option; with a machine format,
stdout carries only the document (progress goes to stderr).
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.cli.conftest import EXAMPLE_FLEET, RunFleetc
from tests.loading.support import commit_all


@pytest.fixture
def state(fleetc: RunFleetc, tmp_path: Path) -> Path:
    """The example fleet rolled out on the embedded plane (virtual time)."""
    path = tmp_path / "state.json"
    result = fleetc("apply", str(EXAMPLE_FLEET), "--local", "--approve", "broad", "--state", str(path), "--speed", "0")
    assert result.exit_code == 0, result.output
    return path


def _documents(fleetc: RunFleetc, *args: str, code: int = 0) -> dict[str, Any]:
    """The command's JSON document, after checking YAML gives the same one."""
    as_json = fleetc(*args, "-o", "json")
    assert as_json.exit_code == code, as_json.output
    as_yaml = fleetc(*args, "-o", "yaml")
    assert as_yaml.exit_code == code, as_yaml.output
    document: dict[str, Any] = json.loads(as_json.stdout)
    assert yaml.safe_load(as_yaml.stdout) == document
    return document


def test_validate(fleetc: RunFleetc) -> None:
    document = _documents(fleetc, "validate", str(EXAMPLE_FLEET))
    assert (document["kind"], document["version"], document["valid"]) == ("ValidationReport", 2, True)
    assert (
        fleetc("validate", str(EXAMPLE_FLEET), "--format", "json").stdout
        == fleetc("validate", str(EXAMPLE_FLEET), "-o", "json").stdout
    )


def test_build_and_build_check(fleetc: RunFleetc, tmp_path: Path) -> None:
    out = tmp_path / "out"
    document = _documents(fleetc, "build", str(EXAMPLE_FLEET), "--out-dir", str(out), "--flux-path", "./out")
    assert (document["kind"], document["version"], document["outDir"]) == ("BuildReport", 1, str(out))
    written = [p for p in out.rglob("*") if p.is_file() and p.name != ".fleetc-output"]
    assert document["files"] == len(written) and document["objects"]["Cluster"] == 15
    checked = _documents(fleetc, "build", str(EXAMPLE_FLEET), "--out-dir", str(out), "--flux-path", "./out", "--check")
    assert checked["check"] == {"stale": False, "missing": [], "changed": [], "extra": []}
    (out / "extra.yaml").write_text("{}\n")
    stale = _documents(
        fleetc, "build", str(EXAMPLE_FLEET), "--out-dir", str(out), "--flux-path", "./out", "--check", code=1
    )
    assert stale["check"]["stale"] and stale["check"]["extra"] == ["extra.yaml"]


def test_simulate_accepts_o_and_format_alike(fleetc: RunFleetc) -> None:
    document = _documents(fleetc, "simulate", str(EXAMPLE_FLEET))
    assert (document["kind"], document["version"], document["halted"]) == ("RolloutReport", 1, False)
    as_format = fleetc("simulate", str(EXAMPLE_FLEET), "--format", "json").stdout
    assert as_format == json.dumps(document, indent=2, sort_keys=True) + "\n"


def test_apply_prints_only_the_document_on_stdout(fleetc: RunFleetc, tmp_path: Path) -> None:
    state = tmp_path / "state.json"
    result = fleetc(
        "apply",
        str(EXAMPLE_FLEET),
        "--local",
        "--approve",
        "broad",
        "--state",
        str(state),
        "--speed",
        "0",
        "-o",
        "json",
    )
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    assert document["kind"] == "RolloutReport" and document["rollouts"][0]["phase"] == "Complete"
    assert "applying fleet on the embedded plane" in result.stderr and "ClusterSucceeded" in result.stderr
    again = fleetc(
        "apply",
        str(EXAMPLE_FLEET),
        "--local",
        "--approve",
        "broad",
        "--state",
        str(state),
        "--speed",
        "0",
        "-o",
        "yaml",
    )
    assert yaml.safe_load(again.stdout)["rollouts"][0]["revision"] == document["rollouts"][0]["revision"]
    assert "nothing to do" in again.stderr


def test_rollout_status_and_resume(fleetc: RunFleetc, state: Path) -> None:
    status = _documents(fleetc, "rollout", "status", "--state", str(state))
    assert status["kind"] == "RolloutReport" and status["rollouts"][0]["step"] == "status"
    resumed = _documents(fleetc, "rollout", "resume", "--state", str(state))
    assert resumed["kind"] == "RolloutReport" and resumed["rollouts"][0]["phase"] == "Complete"


def test_status_of_the_fleet_and_of_a_cluster(fleetc: RunFleetc, state: Path) -> None:
    fleet = _documents(fleetc, "status", "--state", str(state))
    assert (fleet["kind"], fleet["version"], fleet["rollout"]["phase"]) == ("FleetStatus", 1, "Complete")
    prod = next(c for c in fleet["clusters"] if c["name"] == "eu-prod-1")
    assert prod["available"] == "True" and prod["controlPlane"] == {"ready": 5, "desired": 5}
    cluster = _documents(fleetc, "status", "eu-prod-1", "--state", str(state))
    assert (cluster["kind"], cluster["cluster"]["name"]) == ("ClusterStatus", "eu-prod-1")
    kinds = [o["kind"] for o in cluster["objects"]]
    assert kinds[:2] == ["Cluster", "KubeadmControlPlane"] and kinds.count("Machine") == 5 + 6
    assert all(o["conditions"] for o in cluster["objects"])


def test_version(fleetc: RunFleetc) -> None:
    document = _documents(fleetc, "version")
    assert document["kind"] == "Version" and document["specApiVersion"] == "fleetc.io/v1alpha1"


def test_build_o_dir_still_works_with_a_deprecation_warning(fleetc: RunFleetc, tmp_path: Path) -> None:
    result = fleetc("build", str(EXAMPLE_FLEET), "-o", str(tmp_path / "out"), "--flux-path", "./out")
    assert result.exit_code == 0, result.output
    assert "-o " in result.stderr and "is deprecated for the output folder: use --out-dir" in result.stderr
    assert (tmp_path / "out" / "flux").is_dir() and result.stdout.startswith(f"{tmp_path / 'out'}: wrote ")


def test_build_o_with_a_format_needs_out_dir(fleetc: RunFleetc) -> None:
    result = fleetc("build", str(EXAMPLE_FLEET), "-o", "json")
    assert result.exit_code == 2
    assert "Missing option '--out-dir'. (-o json names the report format" in result.stderr


@pytest.mark.parametrize("command", ["diff", "plan"])
def test_diff_and_plan_take_o_json_and_yaml_alike(fleetc: RunFleetc, command: str, tmp_path: Path) -> None:
    fleet = Path(shutil.copytree(EXAMPLE_FLEET, tmp_path / "fleet"))
    base = commit_all(tmp_path, "base")
    fleet_file = fleet / "fleet.yaml"
    fleet_file.write_text(fleet_file.read_text().replace("stable: v1.34.2", "stable: v1.35.0"))
    document = _documents(fleetc, command, str(fleet), "--base", base)
    assert document["version"] == 3 and document["head"]["ok"] and document["clusters"]
    as_format = fleetc(command, str(fleet), "--base", base, "--format", "json")
    assert json.loads(as_format.stdout) == document
