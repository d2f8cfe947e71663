"""Approval gates and notifications against a real API server: a running ``fleetc apply`` waits for
``fleetc rollout approve`` (recorded in the FleetRollout with who and when), and the rollout's notifications reach
a loopback receiver whose URL comes from a Kubernetes Secret or an environment variable, never shown."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from fleetc.rollout.model import GROUP
from tests.kube.capi_player import CapiPlayer
from tests.kube.fleetc_api import ensure_fleetc_crds
from tests.kube.fleets import BROAD, CANARY, FLEET, write_fleet
from tests.kube.support import KubeApi
from tests.kube.test_apply_management import TIMEOUT, cluster_names, fleetc, get, states, wait_for
from tests.notifications.receiver import Receiver as Hook
from tests.notifications.receiver import serve

RECEIVERS = {
    "receivers": [
        {"name": "log", "urlFrom": {"secretKeyRef": {"name": "hooks", "key": "url"}}},
        {"name": "chat", "type": "slack", "urlFrom": {"env": "FLEETC_TEST_HOOK"}, "events": ["ApprovalNeeded"]},
    ],
    "timeout": "2s",
    "retries": 1,
}


def _phase(api: KubeApi, namespace: str) -> str | None:
    found = get(api, namespace, f"fleetrollouts.{GROUP}", FLEET) or {}
    phase = (found.get("status") or {}).get("phase")
    return str(phase) if phase else None


def test_a_running_apply_waits_for_approval_and_notifies_through_a_secret_and_an_env_url(
    kube_api: KubeApi, kube_namespace: str, tmp_path: Path
) -> None:
    ensure_fleetc_crds(kube_api)
    root = write_fleet(tmp_path / "fleet", kube_namespace, approve_broad=True, notifications=RECEIVERS)
    with serve(Hook()) as log_hook, serve(Hook()) as chat_hook:
        kube_api.kubectl(
            "create", "secret", "generic", "hooks", "-n", kube_namespace, f"--from-literal=url={log_hook.url}"
        )
        env = {**os.environ, **kube_api.env, "FLEETC_TEST_HOOK": chat_hook.url}
        command = [sys.executable, "-m", "fleetc", "apply", str(root), "--kubeconfig", str(kube_api.kubeconfig)]
        with CapiPlayer(kube_api, kube_namespace) as player:
            process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env)
            try:
                wait_for(lambda: _phase(kube_api, kube_namespace) == "AwaitingApproval", "a wait for approval")
                assert cluster_names(kube_api, kube_namespace) == {CANARY}
                assert process.poll() is None  # a steerable apply waits for the approval
                status = fleetc(kube_api, "rollout", "status", "-n", kube_namespace)
                assert "WAITING FOR APPROVAL of wave broad: run fleetc rollout approve broad" in status.stdout
                unknown = fleetc(kube_api, "rollout", "approve", "brod", "-n", kube_namespace)
                assert unknown.returncode == 2 and "no wave 'brod'" in unknown.stdout + unknown.stderr
                approved = fleetc(kube_api, "rollout", "approve", "broad", "-n", kube_namespace, "--as", "alice")
                assert approved.returncode == 0, approved.stdout + approved.stderr
                assert "approved wave broad" in approved.stdout and "by alice" in approved.stdout
                output, _ = process.communicate(timeout=TIMEOUT)
            finally:
                if process.poll() is None:
                    process.kill()
                    process.communicate(timeout=10)
        assert not player.errors
        log_events = [b["event"] for b in log_hook.bodies]
        chat_texts = [b["text"] for b in chat_hook.bodies]
    assert process.returncode == 0, output
    assert states(kube_api, kube_namespace) == {name: "Succeeded" for name in (CANARY, *BROAD)}
    rollout = get(kube_api, kube_namespace, f"fleetrollouts.{GROUP}", FLEET)
    [approval] = rollout["spec"]["approvals"]
    assert approval["wave"] == "broad" and approval["by"] == "alice"
    assert approval["revision"] == rollout["spec"]["revision"] and approval["at"].endswith("Z")
    assert log_events == ["WaveCompleted", "ApprovalNeeded", "Completed"]
    assert chat_texts == [f"fleetc: rollout {kube_namespace}/{FLEET} wave broad: ApprovalNeeded: run fleetc rollout "
                          "approve broad"]  # fmt: skip
    assert "notifications: 4 sent, 0 not delivered" in output
    assert log_hook.url not in output and chat_hook.url not in output
