"""``fleetc apply --kubeconfig`` on a real API server, with the tests playing CAPI (:mod:`tests.kube.capi_player`).

The rollout controller runs in a ``fleetc`` subprocess and sees CAPI's status through real watches: a healthy wave
leads to the next, a control plane that never comes up halts the rollout (exit 3) naming cluster, object and
condition, a SIGKILLed run resumes on rerun, and a pause from another process is honoured.

Writes are counted by resourceVersion: an object whose resourceVersion did not change was not written (a no-op
server-side apply does not bump it), and one whose uid did not change was not created again.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from fleetc.core.keys import ObjectKey
from fleetc.engine.leader import ElectionConfig, LeaderElector, ServerReads
from fleetc.engine.runner import claim_key
from fleetc.rollout.model import CLUSTER_ROLLOUT, FLEET_REVISION, FLEET_ROLLOUT, GROUP
from tests.kube.capi_player import HEALTHY, CapiPlayer
from tests.kube.fleetc_api import ensure_fleetc_crds
from tests.kube.fleets import BROAD, CANARY, FLEET, write_fleet
from tests.kube.support import CAPI, KubeApi, store_on
from tests.upstream.plugin import namespace_name

TIMEOUT = 90.0


def fleetc(api: KubeApi, *args: str, timeout: float = TIMEOUT) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "fleetc", *args, "--kubeconfig", str(api.kubeconfig)]
    env = {**os.environ, **api.env}
    return subprocess.run(command, capture_output=True, text=True, timeout=timeout, env=env, check=False)


def start(api: KubeApi, *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, "-m", "fleetc", *args, "--kubeconfig", str(api.kubeconfig)],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            env={**os.environ, **api.env})  # fmt: skip


def wait_for(condition: Callable[[], bool], what: str, timeout: float = TIMEOUT) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.2)


def get(api: KubeApi, namespace: str, resource: str, name: str | None = None) -> Any:
    found = api.kubectl(
        "get", resource, *([name] if name else []), "-n", namespace, "-o", "json", "--show-managed-fields", check=False
    )
    return json.loads(found.stdout) if found.returncode == 0 else None


def cluster_names(api: KubeApi, namespace: str) -> set[str]:
    return {c["metadata"]["name"] for c in get(api, namespace, f"clusters.{CAPI}")["items"]}


def states(api: KubeApi, namespace: str) -> dict[str, str]:
    items = get(api, namespace, f"clusterrollouts.{GROUP}")["items"]
    return {i["spec"]["cluster"]["name"]: (i.get("status") or {}).get("state", "Pending") for i in items}


@pytest.fixture
def fleet_root(kube_api: KubeApi, kube_namespace: str, tmp_path: Path) -> Path:
    ensure_fleetc_crds(kube_api)
    return write_fleet(tmp_path / "fleet", kube_namespace)


def test_a_healthy_wave_leads_to_the_next_and_the_rollout_completes(
    kube_api: KubeApi, kube_namespace: str, fleet_root: Path
) -> None:
    with CapiPlayer(kube_api, kube_namespace) as player:
        result = fleetc(kube_api, "apply", str(fleet_root))
    assert result.returncode == 0, result.stdout + result.stderr
    assert not player.errors
    assert player.shown == {name: HEALTHY for name in (CANARY, *BROAD)}
    assert states(kube_api, kube_namespace) == {name: "Succeeded" for name in (CANARY, *BROAD)}
    rollout = get(kube_api, kube_namespace, f"fleetrollouts.{GROUP}", FLEET)
    assert rollout["status"]["phase"] == "Complete" and rollout["status"]["progress"] == "3/3"
    status = fleetc(kube_api, "rollout", "status", "-n", kube_namespace, "--format", "json")
    [view] = json.loads(status.stdout)["rollouts"]
    events = [(e["type"], e.get("wave", ""), e.get("cluster", "")) for e in view["timeline"]]
    started = {c: i for i, (kind, _, c) in enumerate(events) if kind == "ClusterStarted"}
    succeeded = {c: i for i, (kind, _, c) in enumerate(events) if kind == "ClusterSucceeded"}
    broad_start = events.index(("WaveStarted", "broad", ""))
    assert started[CANARY] < succeeded[CANARY] < broad_start < started[BROAD[0]] < succeeded[BROAD[0]]
    assert succeeded[BROAD[0]] < started[BROAD[1]]  # maxConcurrent 1
    shown = kube_api.kubectl("get", "clusters,fleetrollouts", "-n", kube_namespace).stdout
    assert all(name in shown for name in (CANARY, *BROAD, FLEET)) and "Complete" in shown
    assert "rollout kfleet: Complete" in result.stdout, result.stdout
    shown = fleetc(kube_api, "rollout", "status", "-n", kube_namespace).stdout
    assert "runner: no command holds the rollout's claim" in shown, shown  # released when the apply exited


def test_a_control_plane_that_never_comes_up_halts_and_later_waves_are_untouched(
    kube_api: KubeApi, kube_namespace: str, fleet_root: Path
) -> None:
    with CapiPlayer(kube_api, kube_namespace, stuck={CANARY}) as player:
        result = fleetc(kube_api, "apply", str(fleet_root))
    assert result.returncode == 3, result.stdout + result.stderr
    assert not player.errors, player.errors
    halted = result.stdout.split("HALTED", 1)[1]
    assert f"cluster {CANARY}: KubeadmControlPlane {CANARY}-" in halted
    assert "HealthCheckSucceeded=False" in halted  # the condition (what else is named depends on what arrived first)
    assert cluster_names(kube_api, kube_namespace) == {CANARY}
    assert states(kube_api, kube_namespace) == {CANARY: "Failed", **{b: "Pending" for b in BROAD}}
    rollout = get(kube_api, kube_namespace, f"fleetrollouts.{GROUP}", FLEET)
    assert rollout["status"]["phase"] == "Halted" and CANARY in rollout["status"]["haltReason"]


def test_an_apply_carries_out_its_own_rollout_and_leaves_another_fleets_alone(
    kube_api: KubeApi, kube_namespace: str, fleet_root: Path, tmp_path: Path
) -> None:
    """Two teams share a management cluster: team B submitted its rollout for the in-cluster controller (``--detach``);
    team A's ``fleetc apply`` must carry out A's rollout only. It used to reconcile every FleetRollout it saw: it
    started B's canary (and would fight B's own runner over B's objects)."""
    other = namespace_name("other-team")
    kube_api.kubectl("create", "namespace", other)
    try:
        submitted = fleetc(kube_api, "apply", str(write_fleet(tmp_path / "other", other)), "--detach")
        assert submitted.returncode == 0, submitted.stdout + submitted.stderr
        with CapiPlayer(kube_api, kube_namespace) as player:
            result = fleetc(kube_api, "apply", str(fleet_root))
        assert result.returncode == 0, result.stdout + result.stderr
        assert not player.errors
        assert states(kube_api, kube_namespace) == {name: "Succeeded" for name in (CANARY, *BROAD)}
        assert cluster_names(kube_api, other) == set()  # none of B's clusters was started
        assert set(states(kube_api, other).values()) == {"Pending"}
        assert not (get(kube_api, other, f"fleetrollouts.{GROUP}", FLEET).get("status") or {}).get("timeline")
    finally:
        kube_api.kubectl("delete", "namespace", other, "--wait=false", check=False)


def _versions(api: KubeApi, namespace: str) -> dict[tuple[str, str], tuple[str, str]]:
    """(kind, name) → (uid, resourceVersion) of every rollout object and CAPI Cluster in the namespace."""
    found = {}
    for resource in (f"fleetrevisions.{GROUP}", f"clusterrollouts.{GROUP}", f"clusters.{CAPI}",
                     f"fleetrollouts.{GROUP}"):  # fmt: skip
        for item in get(api, namespace, resource)["items"]:
            meta = item["metadata"]
            found[(item["kind"], meta["name"])] = (meta["uid"], meta["resourceVersion"])
    return found


def _fleetc_applied(api: KubeApi, namespace: str, cluster: str) -> list[Any]:
    found = get(api, namespace, f"clusters.{CAPI}", cluster)
    return [e for e in found["metadata"]["managedFields"] if (e["manager"], e["operation"]) == ("fleetc", "Apply")]


def test_a_killed_apply_resumes_on_rerun_without_creating_or_rewriting_anything(
    kube_api: KubeApi, kube_namespace: str, fleet_root: Path
) -> None:
    first = BROAD[0]
    with CapiPlayer(kube_api, kube_namespace, held={first}) as player:
        process = start(kube_api, "apply", str(fleet_root))
        try:
            wait_for(lambda: states(kube_api, kube_namespace).get(first) == "InFlight", f"{first} in flight")
        finally:
            process.send_signal(signal.SIGKILL)
            process.communicate(timeout=10)
        before = _versions(kube_api, kube_namespace)
        applied_before = _fleetc_applied(kube_api, kube_namespace, first)
        assert states(kube_api, kube_namespace) == {CANARY: "Succeeded", first: "InFlight", BROAD[1]: "Pending"}
        shown = fleetc(kube_api, "rollout", "status", "-n", kube_namespace)
        assert f"runner: fleetc-apply/{socket.gethostname()}/{process.pid} (claim renewed" in shown.stdout, shown.stdout
        player.release(first)
        result = fleetc(kube_api, "apply", str(fleet_root))
    assert result.returncode == 0, result.stdout + result.stderr
    # The killed run's runner claim: the rerun waits for it to lapse instead of driving the rollout beside a live one.
    assert "waiting until it finishes, or until its claim lapses (15 s without renewal)" in result.stdout
    assert not player.errors
    after = _versions(kube_api, kube_namespace)
    assert [k for k in before if after[k][0] != before[k][0]] == []  # nothing deleted and created again
    # Not written again: the fleet revision, the finished canary (its ClusterRollout and Cluster); the Cluster in
    # flight was written only by "CAPI" (status), fleetc's apply of it is the one from before the kill.
    unchanged = {k for k in before if after[k] == before[k]}
    assert unchanged == {(FLEET_REVISION, FLEET), (CLUSTER_ROLLOUT, f"{FLEET}-{CANARY}"), ("Cluster", CANARY)}
    assert _fleetc_applied(kube_api, kube_namespace, first) == applied_before
    rollouts = get(kube_api, kube_namespace, f"clusterrollouts.{GROUP}")["items"]
    assert {r["spec"]["cluster"]["name"]: (r["status"]["state"], r["status"]["attempts"]) for r in rollouts} == {
        name: ("Succeeded", 1) for name in (CANARY, *BROAD)
    }


def test_a_pause_from_another_process_is_honoured_by_a_running_apply(
    kube_api: KubeApi, kube_namespace: str, fleet_root: Path
) -> None:
    with CapiPlayer(kube_api, kube_namespace, held={CANARY}) as player:
        process = start(kube_api, "apply", str(fleet_root))
        try:
            wait_for(lambda: states(kube_api, kube_namespace).get(CANARY) == "InFlight", "canary in flight")
            paused = fleetc(kube_api, "rollout", "pause", "-n", kube_namespace)
            assert paused.returncode == 0, paused.stdout + paused.stderr
            player.release(CANARY)
            wait_for(lambda: states(kube_api, kube_namespace)[CANARY] == "Succeeded", "canary done")
            phase = lambda: get(kube_api, kube_namespace, f"fleetrollouts.{GROUP}", FLEET)["status"]["phase"]  # noqa: E731
            wait_for(lambda: phase() == "Paused", "the rollout to show Paused")
            time.sleep(3)  # the soak (1 s) is long over: an apply that ignored the pause would start broad-1 now
            assert cluster_names(kube_api, kube_namespace) == {CANARY}
            assert process.poll() is None
            status = fleetc(kube_api, "rollout", "status", "-n", kube_namespace)
            assert status.returncode == 0 and "Paused" in status.stdout
            resumed = fleetc(kube_api, "rollout", "resume", "-n", kube_namespace, "--detach")  # the apply carries on
            assert resumed.returncode == 0, resumed.stdout + resumed.stderr
            output, _ = process.communicate(timeout=TIMEOUT)
        finally:
            if process.poll() is None:
                process.kill()
                process.communicate(timeout=10)
    assert process.returncode == 0, output
    assert states(kube_api, kube_namespace) == {name: "Succeeded" for name in (CANARY, *BROAD)}


def test_an_apply_waits_while_another_process_carries_the_rollout_out_and_then_carries_it_out_itself(
    kube_api: KubeApi, kube_namespace: str, fleet_root: Path
) -> None:
    """Two pipelines apply the same fleet: the second waits for the first's runner claim instead of driving the same
    rollout beside it (both used to write its objects and send its notifications)."""
    key = ObjectKey(GROUP, FLEET_ROLLOUT, kube_namespace, FLEET)
    config = ElectionConfig(kube_namespace, claim_key(key).name, "fleetc-apply/elsewhere/1", 6.0, 4.0, 1.0)
    first = LeaderElector(ServerReads(store_on(kube_api, kube_namespace)), config)
    first.start()
    try:
        wait_for(first.is_leader, "the first runner's claim")
        with CapiPlayer(kube_api, kube_namespace) as player:
            process = start(kube_api, "apply", str(fleet_root))
            try:
                time.sleep(5)  # the claim is renewed meanwhile: the second apply must not submit or start anything
                assert get(kube_api, kube_namespace, f"fleetrollouts.{GROUP}", FLEET) is None
                assert cluster_names(kube_api, kube_namespace) == set() and process.poll() is None
                assert first.release()  # the first runner is done
                output, _ = process.communicate(timeout=TIMEOUT)
            finally:
                if process.poll() is None:
                    process.kill()
                    process.communicate(timeout=10)
    finally:
        first.stop()
    assert process.returncode == 0, output
    assert "is being carried out by fleetc-apply/elsewhere/1: waiting" in output
    assert not player.errors
    assert states(kube_api, kube_namespace) == {name: "Succeeded" for name in (CANARY, *BROAD)}
    claim = get(kube_api, kube_namespace, "leases", claim_key(key).name)
    assert "holderIdentity" not in claim["spec"] and claim["spec"]["leaseTransitions"] == 1  # released on exit
