"""Rollouts that really fail on CAPI v1.14: ``fleetc apply`` halts on CAPI's own conditions; one resumes.

1. A canary whose control plane never boots: its own dev-inmemory provider's control-plane VM takes an hour (the
   in-memory backend's provisioning time, set on the DevMachine as it appears), far beyond the wave's control-plane
   deadline. ``fleetc apply --kubeconfig`` must exit 3 naming the cluster, the object and the CAPI condition (not a
   status CAPI has not caught up on yet), leave the later wave alone, and stay halted on a rerun; after the fault is
   removed (the stuck DevMachine told to boot at once), one ``fleetc rollout resume --kubeconfig`` lifts the halt
   and carries the rollout out to Complete.
2. A worker pool that never boots (its VMs take an hour, ``nodeStartupTimeout`` at CAPI's minimum of 30 s): the
   control plane comes up; the worker is flagged ``HealthCheckSucceeded=False (NodeStartupTimeout)`` once its
   start-up clock runs out, its MachineSet deletes it (it stays visible, flagged, while it is being deleted) and
   creates a replacement, which fails the same way: more worker remediations than the cluster's budget (1) fail it,
   and the wave halts. It runs in the background, in its own namespace, while scenario 1 runs.

Each is compared with the simulation of the same plan with the matching fault: the same decisions and halt
condition; for the pool also the same order of Machine events (created, flagged, deleting, gone) and the same start
of the MachineHealthCheck's clock: the latest of the Machine's creation and the Cluster's ``ControlPlaneInitialized``
(and the Machine's own ``InfrastructureReady``, never True here: the in-memory backend reports it with the Node).
"""

from __future__ import annotations

import re
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from fleetc.rollout import RolloutPlan, RolloutView
from fleetc.sim.faults import ControlPlaneNeverReady, FailingPool, Faults
from tests.builders import API, cluster_doc
from tests.capi.fidelity import MachineEvent, MachineLog, MachineWatch, cluster_condition_since, decisions, simulate
from tests.capi.lifecycle import (
    SlowBoot,
    boot,
    fleetc,
    live,
    plan_of,
    small_fleet,
    start_fleetc,
    status_json,
    valid,
    write,
)
from tests.kube.fleetc_api import ensure_fleetc_crds
from tests.upstream.capi_stack import Session
from tests.upstream.plugin import namespace_name

TIMINGS: dict[str, float] = {}
CONDITION = re.compile(r"\b(Cluster|KubeadmControlPlane|Machine) ([hw]-canary\S*): (\w+)=(False|Unknown) \((\w+)\)")
STARTUP = 30
"""The failing pool's ``nodeStartupTimeout`` (seconds)."""


@dataclass
class PoolRun:
    """Scenario 2 in the background: ``fleetc apply`` of a cluster whose pool never boots, watched."""

    api: Any
    namespace: str
    plan: RolloutPlan
    process: subprocess.Popen[str]
    watch: MachineWatch
    slow: SlowBoot
    started: float
    result: dict[str, Any] = field(default_factory=dict)

    def finish(self) -> dict[str, Any]:
        """Wait for the apply (once) and gather the real run and its simulation."""
        if not self.result:
            stdout, stderr = self.process.communicate(timeout=600)
            self.slow.__exit__(None, None, None)
            self.watch.__exit__(None, None, None)
            assert self.process.returncode == 3, stdout + stderr
            machines = MachineLog()
            fault = Faults(failing_pools=[FailingPool(cluster="w-canary", pool="general")])
            (simulated,) = simulate([self.plan], fault, machines=machines)
            (cluster,) = live(self.api, "clusters.cluster.x-k8s.io", self.namespace)
            self.result = {"seconds": time.monotonic() - self.started, "view": status_json(self.api, self.namespace),
                           "cluster": cluster, "simulated": simulated, "machines": machines}  # fmt: skip
        return self.result


@pytest.fixture(scope="module")
def pool_run(capi: Session, tmp_path_factory: pytest.TempPathFactory) -> Iterator[PoolRun]:
    """Scenario 2, started when the module's first test asks for it (its two minutes overlap scenario 1's)."""
    api = capi.api
    ensure_fleetc_crds(api)  # before two applies run at once (each would install them on a fresh server)
    namespace = namespace_name("pool-never-boots")
    api.kubectl("create", "namespace", namespace)
    fleet = small_fleet(namespace, {}, deadline="5m")
    pool = {"size": "large", "replicas": 1, "healthCheck": {"nodeStartupTimeout": f"{STARTUP}s"}}
    fleet.set("ClusterClass", "standard", "spec.workers", {"general": pool})
    fleet.add("providers.yaml", {"apiVersion": API, "kind": "Provider", "metadata": {"name": "slowpool"},
                                 "spec": {"type": "dev-inmemory"}})  # fmt: skip
    fleet.add("clusters.yaml", cluster_doc("w-canary", ring="canary", provider="slowpool"))
    plan = plan_of(valid(fleet))
    root = write(fleet, tmp_path_factory.mktemp("pool") / "fleet")
    watch = MachineWatch(api, namespace).__enter__()
    slow = SlowBoot(api, namespace, "w-canary", "worker").__enter__()
    run = PoolRun(api, namespace, plan, start_fleetc(api, "apply", root), watch, slow, time.monotonic())
    yield run
    if run.process.poll() is None:
        run.process.kill()
        run.process.communicate()
    api.kubectl("delete", "namespace", namespace, "--wait=false", check=False)


def test_a_canary_whose_control_plane_never_boots_halts_the_rollout_until_resumed(
    capi: Session, kube_namespace: str, tmp_path: Path, pool_run: PoolRun
) -> None:
    api = capi.api
    fleet = small_fleet(kube_namespace, {"h-broad": "broad"}, deadline="60s")
    fleet.add("providers.yaml", {"apiVersion": API, "kind": "Provider", "metadata": {"name": "slow"},
                                 "spec": {"type": "dev-inmemory"}})  # fmt: skip
    fleet.add("clusters.yaml", cluster_doc("h-canary", ring="canary", provider="slow"))
    plan = plan_of(valid(fleet))
    root = write(fleet, tmp_path / "fleet")

    started = time.monotonic()
    with SlowBoot(api, kube_namespace, "h-canary", "control-plane") as slow:
        halted = fleetc(api, "apply", root)
    TIMINGS["halt"] = time.monotonic() - started
    assert halted.returncode == 3, halted.stdout + halted.stderr
    assert len(slow.patched) == 1, slow.patched
    view = status_json(api, kube_namespace)
    reason = view["haltReason"]
    print(f"halt after {TIMINGS['halt']:.0f} s: {reason}")
    # which object and which condition: CAPI's own explanation, not a status it has not caught up on yet
    found = CONDITION.search(reason)
    assert "cluster h-canary" in reason and found is not None, reason
    assert "observedGeneration" not in reason, reason
    assert found.group(0) in " ".join(halted.stdout.split()), halted.stdout
    names = {c["metadata"]["name"] for c in live(api, "clusters.cluster.x-k8s.io", kube_namespace)}
    assert names == {"h-canary"}, "the broad wave was not touched"
    assert fleetc(api, "apply", root).returncode == 3, "a rerun stays halted until a resume"

    # Fidelity: the simulation with the canary's control plane never coming up halts with the same decisions.
    fault = Faults(control_plane_never_ready=[ControlPlaneNeverReady(cluster="h-canary", on_create=True)])
    (simulated,) = simulate([plan], fault)
    assert simulated.halted and decisions(simulated.to_dict()) == decisions(view)
    named = CONDITION.search(simulated.halt_reason or "")
    assert named is not None and named.group(1, 3, 4, 5) == found.group(1, 3, 4, 5), (simulated.halt_reason, reason)
    print(f"simulated halt: {simulated.halt_reason}")

    boot(api, kube_namespace, slow.patched[0], "1s")
    started = time.monotonic()
    resumed = fleetc(api, "rollout", "resume", "-n", kube_namespace)  # one command: lifts the halt and carries on
    TIMINGS["resume"] = time.monotonic() - started
    assert resumed.returncode == 0, resumed.stdout + resumed.stderr
    assert status_json(api, kube_namespace)["phase"] == "Complete"
    names = {c["metadata"]["name"] for c in live(api, "clusters.cluster.x-k8s.io", kube_namespace)}
    assert names == {"h-canary", "h-broad"}
    print(f"resumed to Complete in {TIMINGS['resume']:.0f} s")


def _clock_delays(log: MachineLog, cluster: dict[str, Any]) -> list[float]:
    """For every flagged worker: seconds from the start of its start-up clock to ``HealthCheckSucceeded=False``."""
    initialized = cluster_condition_since(cluster, "ControlPlaneInitialized")
    flagged: list[MachineEvent] = [e for e in log.events if e.what == "flagged" and e.role == "worker"]
    delays = []
    for event in flagged:
        assert event.flagged is not None and event.created is not None and initialized is not None
        delays.append(event.flagged - max(event.created, initialized))
    return delays


def _until_halt(sequence: list[tuple[str, str, str]]) -> list[tuple[str, str, str]]:
    """The worker events up to the second flag (the halt; what CAPI does after it is not fleetc's business)."""
    workers = [e for e in sequence if e[1] == "worker"]
    flags = [i for i, e in enumerate(workers) if e[0] == "flagged"]
    assert len(flags) >= 2, workers
    return workers[: flags[1] + 1]


def test_a_pool_that_never_boots_is_remediated_by_capi_until_fleetc_halts(pool_run: PoolRun) -> None:
    run = pool_run.finish()
    view, log, cluster = run["view"], pool_run.watch.log, run["cluster"]
    reason = view["haltReason"]
    found = CONDITION.search(reason)
    assert found is not None and found.group(3, 4, 5) == ("HealthCheckSucceeded", "False", "NodeStartupTimeout"), reason
    assert "over the cluster's budget of 1" in reason, reason
    real_delays = _clock_delays(log, cluster)
    real = _until_halt(log.sequence("w-canary", "v1.34.2"))
    print(f"halted (collected {run['seconds']:.0f} s after the start): {reason}\nworker machines, real: {real}")
    print(f"start-up clock to flag, real: {real_delays} s")
    # a flagged worker is still there, flagged, while its MachineSet deletes it; only then is it replaced
    assert real[:5] == [("created", "worker", "new"), ("flagged", "worker", "new"), ("deleting", "worker", "new"),
                        ("gone", "worker", "new"), ("created", "worker", "new")], real  # fmt: skip
    assert all(STARTUP <= delay <= STARTUP + 25 for delay in real_delays), real_delays  # MHC requeues, under load

    simulated: RolloutView = run["simulated"]
    machines: MachineLog = run["machines"]
    sim_reason = simulated.halt_reason or ""
    sim_delays = _clock_delays(machines, machines.clusters["w-canary"])
    print(f"simulated halt: {sim_reason}\nworker machines, simulated: {machines.sequence('w-canary', 'v1.34.2')}")
    print(f"start-up clock to flag, simulated: {sim_delays} s")
    assert simulated.halted and decisions(simulated.to_dict()) == decisions(view)
    named = CONDITION.search(sim_reason)
    assert named is not None and named.group(1, 3, 4, 5) == found.group(1, 3, 4, 5), (sim_reason, reason)
    assert _until_halt(machines.sequence("w-canary", "v1.34.2")) == real
    # the MachineHealthCheck's start-up clock starts at the same moment (whole seconds on real CAPI)
    assert all(STARTUP <= delay <= STARTUP + 2 for delay in sim_delays), sim_delays


def test_a_remediated_worker_stays_visible_while_it_is_deleted_in_the_simulation_too(pool_run: PoolRun) -> None:
    run = pool_run.finish()
    real, simulated = pool_run.watch.log.deleting_seconds(), run["machines"].deleting_seconds()
    print(f"seconds deleting, real: {real}; simulated: {simulated}")
    assert real and all(seconds > 0 for seconds in real.values()), real
    assert simulated and all(seconds > 0 for seconds in simulated.values()), f"instant deletion: {simulated}"
