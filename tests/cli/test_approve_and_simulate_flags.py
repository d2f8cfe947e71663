"""``fleetc rollout approve`` on the embedded plane, ``simulate --approve``, and who an approval names."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner, Result

from fleetc.cli.identity import UNKNOWN, approver
from fleetc.cli.main import cli
from fleetc.contract.timestamps import parse_timestamp

REPO = Path(__file__).resolve().parents[2]
EXAMPLE = REPO / "examples" / "fleet"


def run(*args: str) -> Result:
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


def _timeline(result: Result) -> list[dict[str, str]]:
    [view] = json.loads(result.output)["rollouts"]
    return list(view["timeline"])


def test_simulate_approves_after_the_delay_given() -> None:
    result = run("simulate", str(EXAMPLE), "--format", "json", "--approve", "broad@3h")
    assert result.exit_code == 0
    events = {e["type"]: e for e in _timeline(result) if e["type"] in ("ApprovalNeeded", "Approved")}
    asked, approved = events["ApprovalNeeded"]["time"], events["Approved"]["time"]
    assert parse_timestamp(approved) - parse_timestamp(asked) == 3 * 3600
    assert events["Approved"]["message"].startswith("by fleetc simulate (--approve broad@3h)")


def test_simulate_with_nobody_to_approve_stops_there_with_exit_5() -> None:
    result = run("simulate", str(EXAMPLE), "--approve", "none")
    assert result.exit_code == 5
    assert "WAITING FOR APPROVAL of wave broad: run fleetc rollout approve broad to start it" in result.output


def test_simulate_rejects_a_malformed_approval() -> None:
    result = run("simulate", str(EXAMPLE), "--approve", "broad@soon")
    assert result.exit_code == 2 and "--approve 'broad@soon'" in result.output


def test_simulate_marks_the_entries_that_notify_receivers() -> None:
    result = run("simulate", str(EXAMPLE))
    lines = [line for line in result.output.splitlines() if "→ notify" in line]
    assert [line.split()[1] for line in lines] == ["WaveCompleted", "WaveCompleted", "ApprovalNeeded", "Completed"]
    assert lines[2].endswith("→ notify platform-team, change-log")
    assert "WaitingForWindow" in result.output and "America/New_York" in result.output


def test_approve_on_the_embedded_plane_records_who_and_a_wrong_wave_is_a_usage_error(tmp_path: Path) -> None:
    state = str(tmp_path / "state.json")
    assert run("apply", str(EXAMPLE), "--local", "--state", state, "--speed", "0").exit_code == 5
    wrong = run("rollout", "approve", "brod", "--state", state)
    assert wrong.exit_code == 2 and "no wave 'brod' (its waves: canary, early, broad)" in wrong.output
    status = run("rollout", "status", "--state", state)
    assert "WAITING FOR APPROVAL of wave broad" in status.output
    approved = run("rollout", "approve", "broad", "--state", state, "--as", "carol")
    assert approved.exit_code == 0 and "by carol" in approved.output and "fleetc rollout resume" in approved.output
    assert run("rollout", "resume", "--state", state).exit_code == 0
    [view] = json.loads(run("rollout", "status", "--state", state, "--format", "json").output)["rollouts"]
    assert view["phase"] == "Complete" and [a["by"] for a in view["approvals"]] == ["carol"]


def test_apply_approve_rejects_an_unknown_wave(tmp_path: Path) -> None:
    result = run("apply", str(EXAMPLE), "--local", "--state", str(tmp_path / "s.json"), "--approve", "brod")
    assert result.exit_code == 2 and "--approve: the rollout has no wave 'brod'" in result.output


def test_the_approver_is_as_then_user_then_git_then_the_kube_user() -> None:
    git, kube = (lambda: "Git User"), (lambda: "kube-admin")
    assert approver("alice", {"USER": "bob"}, git=git, kube_user=kube) == "alice"
    assert approver(None, {"USER": "bob"}, git=git, kube_user=kube) == "bob"
    assert approver(None, {}, git=git, kube_user=kube) == "Git User"
    assert approver(None, {"USER": " "}, git=lambda: None, kube_user=kube) == "kube-admin"
    assert approver(None, {}, git=lambda: None) == UNKNOWN


def test_the_kube_user_is_the_user_of_the_chosen_kubeconfig_context(tmp_path: Path) -> None:
    from fleetc.cli.management import Target, kube_user

    config = tmp_path / "kubeconfig"
    config.write_text(
        "apiVersion: v1\nkind: Config\ncurrent-context: a\n"
        "contexts:\n- name: a\n  context: {cluster: c, user: ops-admin}\n"
        "- name: b\n  context: {cluster: c, user: dev}\n"
        "clusters:\n- name: c\n  cluster: {server: 'https://127.0.0.1:1'}\nusers:\n- name: ops-admin\n  user: {}\n"
    )
    assert kube_user(Target(str(config), None)) == "ops-admin"
    assert kube_user(Target(str(config), "b")) == "dev"
    assert kube_user(Target(str(tmp_path / "missing"), None)) is None
