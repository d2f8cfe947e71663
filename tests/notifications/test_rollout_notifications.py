"""A rollout's notifications reach the fleet's receivers (a loopback receiver), and a receiver that hangs or fails
never holds up nor fails the rollout (``fleetc apply --local``, ``rollout approve``, ``rollout resume``)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from fleetc.cli.main import cli
from tests.notifications.receiver import Receiver as Hook
from tests.notifications.receiver import serve

REPO = Path(__file__).resolve().parents[2]
EXAMPLE = REPO / "examples" / "fleet"
ENV = "FLEETC_SLACK_WEBHOOK"


def run(*args: str) -> Result:
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


@pytest.fixture
def fleet(tmp_path: Path) -> Path:
    """The example fleet with a quick receiver policy (1s timeout, one retry)."""
    copy = tmp_path / "fleet"
    shutil.copytree(EXAMPLE, copy)
    text = (copy / "fleet.yaml").read_text()
    assert "timeout: 10s" in text and "retries: 3" in text
    (copy / "fleet.yaml").write_text(text.replace("timeout: 10s", "timeout: 1s").replace("retries: 3", "retries: 1"))
    return copy


def test_approval_needed_and_completion_reach_the_slack_receiver(
    fleet: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    state = str(tmp_path / "state.json")
    with serve(Hook()) as hook:
        monkeypatch.setenv(ENV, hook.url)
        waiting = run("apply", str(fleet), "--local", "--state", state, "--speed", "0")
        assert waiting.exit_code == 5, waiting.output
        assert "WAITING FOR APPROVAL of wave broad: run fleetc rollout approve broad" in waiting.output
        assert [b["text"] for b in hook.bodies] == [
            "fleetc: rollout fleet-clusters/acme wave broad: ApprovalNeeded: run fleetc rollout approve broad"
        ]
        assert "notifications: 1 sent" in waiting.output
        # the Secret receiver cannot be resolved on the embedded plane: reported, not fatal, and no URL shown
        assert "receiver change-log: ApprovalNeeded not delivered after 1 attempt: secret fleetc-notifications/" \
            "change-log-url: Secrets need a management cluster" in waiting.output  # fmt: skip
        assert hook.url not in waiting.output

        approved = run("rollout", "approve", "broad", "--state", state, "--as", "alice")
        assert approved.exit_code == 0, approved.output
        assert "approved wave broad" in approved.output and "by alice" in approved.output
        resumed = run("rollout", "resume", "--state", state)
        assert resumed.exit_code == 0, resumed.output
        events = [b["text"].split(": ")[2] for b in hook.bodies]
    assert events == ["ApprovalNeeded", "Completed"]  # nothing sent twice, WaveCompleted not subscribed
    status = run("rollout", "status", "--state", state, "--format", "json")
    assert '"by": "alice"' in status.output


def test_a_hanging_receiver_does_not_hold_up_the_rollout(
    fleet: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with serve(Hook(hang=True)) as hook:
        monkeypatch.setenv(ENV, hook.url)
        result = run("apply", str(fleet), "--local", "--state", str(tmp_path / "s.json"), "--speed", "0",
                     "--approve", "broad")  # fmt: skip
        hits = hook.hits
    assert result.exit_code == 0, result.output
    assert "rollout acme: Complete" in result.output
    assert hits >= 1  # it was tried (and held)
    assert (
        "receiver platform-team: Completed not delivered after 2 attempts: not reachable: timed out" in (result.output)
        or "abandoned at exit" in result.output
    )


def test_a_failing_receiver_is_retried_and_the_rollout_completes(
    fleet: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with serve(Hook(failures=1)) as hook:
        monkeypatch.setenv(ENV, hook.url)
        result = run("apply", str(fleet), "--local", "--state", str(tmp_path / "s.json"), "--speed", "0",
                     "--approve", "broad")  # fmt: skip
        texts = [b["text"] for b in hook.bodies]
    assert result.exit_code == 0, result.output
    assert hook.hits == 2 and texts == [
        "fleetc: rollout fleet-clusters/acme: Completed: 15 clusters succeeded, 0 failed"
    ]
