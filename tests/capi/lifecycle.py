"""Running the real ``fleetc`` CLI against the test API server while real CAPI builds and upgrades the clusters.

Tests write a dev-inmemory fleet to disk and run ``fleetc apply ROOT --kubeconfig K``, ``fleetc rollout
status|resume`` and ``fleetc status CLUSTER`` as subprocesses (the process a CI job runs); CAPI v1.14's managers (the
``capi`` fixture) do the rest. What fleetc has no setting for (an in-memory VM that boots slowly) is injected into
the DevMachines as they appear (:class:`SlowBoot`), the way another actor on the management cluster could.
Used by ``tests/capi/test_lifecycle.py`` and ``tests/capi/test_halt.py``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from fleetc import rollout
from fleetc.render.compile import compile_fleet
from fleetc.rollout import RolloutPlan
from fleetc.schema.model import Fleet
from tests.builders import API, FleetBuilder, cluster_doc
from tests.capi.watching import KubectlWatch
from tests.upstream.apiserver import KubeApi

DEV_MACHINES = "devmachines.infrastructure.cluster.x-k8s.io"
CLUSTER_LABEL = "cluster.x-k8s.io/cluster-name"
CP_LABEL = "cluster.x-k8s.io/control-plane"


def small_fleet(namespace: str, clusters: dict[str, str], *, deadline: str = "5m") -> FleetBuilder:
    """A dev-inmemory fleet: clusters by name -> ring (``canary`` or ``broad``), 1 control-plane machine + 1 worker."""
    fleet = FleetBuilder.minimal().set("Fleet", None, "spec.namespace", namespace)
    waves = fleet.doc("Fleet")["spec"]["rollout"]["waves"]
    for wave in waves:
        wave.update({"controlPlaneDeadline": deadline, "soak": "0s", "maxConcurrent": 1})
    fleet.set("ClusterClass", "standard", "spec.controlPlane", {"replicas": 1, "size": "medium"})
    fleet.set("ClusterClass", "standard", "spec.workers", {"general": {"size": "large", "replicas": 1}})
    fleet.files["providers.yaml"] = [{"apiVersion": API, "kind": "Provider", "metadata": {"name": "local"},
                                      "spec": {"type": "dev-inmemory"}}]  # fmt: skip
    fleet.files["clusters.yaml"] = [cluster_doc(name, ring=ring, provider="local") for name, ring in clusters.items()]
    return fleet


def valid(fleet: FleetBuilder) -> Fleet:
    """The validated fleet (fails the test when it is not valid)."""
    result = fleet.validate()
    assert result.ok and result.fleet is not None, "\n".join(map(str, result.diagnostics))
    return result.fleet


def plan_of(fleet: Fleet) -> RolloutPlan:
    """The rollout plan of a fleet's compiled revision (what ``fleetc apply`` submits; the simulation's input)."""
    return rollout.plan_rollout(compile_fleet(fleet))


def fleetc(api: KubeApi, *args: str, timeout: float = 600) -> subprocess.CompletedProcess[str]:
    """``fleetc ARGS --kubeconfig K`` as a subprocess; its exit code and output."""
    command = [sys.executable, "-m", "fleetc", *args, "--kubeconfig", str(api.kubeconfig)]
    env = {**os.environ, **api.env}
    return subprocess.run(command, capture_output=True, text=True, timeout=timeout, env=env, check=False)


def start_fleetc(api: KubeApi, *args: str) -> subprocess.Popen[str]:
    """``fleetc ARGS --kubeconfig K`` started in the background (``communicate()`` collects it)."""
    command = [sys.executable, "-m", "fleetc", *args, "--kubeconfig", str(api.kubeconfig)]
    return subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env={**os.environ, **api.env})  # fmt: skip


def status_json(api: KubeApi, namespace: str) -> dict[str, Any]:
    """``fleetc rollout status --format json`` of the namespace's rollout."""
    result = fleetc(api, "rollout", "status", "-n", namespace, "--format", "json", timeout=120)
    assert result.returncode in (0, 3), result.stdout + result.stderr
    [view] = json.loads(result.stdout)["rollouts"]
    assert isinstance(view, dict)
    return view


class SlowBoot:
    """While the ``with`` block runs, every new in-memory DevMachine of ``cluster`` with ``role`` (``control-plane``
    or ``worker``) is patched to boot in ``startup`` as soon as it appears, before its VM's start-up time (10 s)
    has passed (with ``new_only``, not the DevMachines that exist when the block starts). fleetc has no setting
    for it and renders the start-up times itself, so the fault goes to the DevMachines (as another actor on the
    management cluster would) rather than to fleetc's templates."""

    def __init__(
        self, api: KubeApi, namespace: str, cluster: str, role: str, startup: str = "1h", *, new_only: bool = False
    ) -> None:
        self.api, self.namespace, self.cluster, self.role, self.startup = api, namespace, cluster, role, startup
        self.new_only = new_only
        self.patched: list[str] = []
        self._existing: set[str] = set()
        self._watch = KubectlWatch(api, namespace, DEV_MACHINES, self._patch)

    def _patch(self, kind: str, machine: dict[str, Any]) -> None:
        meta = machine["metadata"]
        labels = meta.get("labels", {})
        role = "control-plane" if CP_LABEL in labels else "worker"
        if kind == "DELETED" or labels.get(CLUSTER_LABEL) != self.cluster or role != self.role:
            return
        if meta["name"] in self.patched or meta["name"] in self._existing or meta.get("deletionTimestamp"):
            return
        boot(self.api, self.namespace, meta["name"], self.startup)
        self.patched.append(meta["name"])

    def __enter__(self) -> SlowBoot:
        if self.new_only:
            self._existing = {m["metadata"]["name"] for m in live(self.api, DEV_MACHINES, self.namespace)}
        self._watch.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        self._watch.__exit__(*exc)


def boot(api: KubeApi, namespace: str, dev_machine: str, startup: str) -> None:
    """Set how long one in-memory DevMachine's VM takes to boot (counted from its creation)."""
    patch = {"spec": {"backend": {"inMemory": {"vm": {"provisioning": {"startupDuration": startup,
                                                                        "startupJitter": "0"}}}}}}  # fmt: skip
    api.kubectl("patch", DEV_MACHINES, dev_machine, "-n", namespace, "--type=merge", "-p", json.dumps(patch))


def write(fleet: FleetBuilder, root: Path) -> str:
    """The fleet written under ``root``; the path to pass to ``fleetc apply``."""
    return str(fleet.write(root))


def live(api: KubeApi, kind: str, namespace: str) -> list[dict[str, Any]]:
    """Every object of a CAPI kind in a namespace, read with kubectl (not through fleetc)."""
    items: list[dict[str, Any]] = json.loads(api.kubectl("get", kind, "-n", namespace, "-o", "json").stdout)["items"]
    return items
