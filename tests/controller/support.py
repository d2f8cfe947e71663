"""Helpers for the controller tests: install fleetc, run ``fleetc controller run`` processes, and play CAPI.

:class:`CapiPlayer` stands in for CAPI's controllers on the test API server (none run there): when a Cluster's
``spec.topology.version`` changes it writes the project's CAPI v1.14 status fixtures for that cluster (renamed,
versions substituted) through the status subresource: ``cp-upgrading`` at once, ``upgrade-complete`` after
``upgrade_seconds``. :class:`ControllerProcess` is one controller subprocess with its JSON log.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from fleetc.contract.timestamps import timestamp
from fleetc.core.errors import NotFound
from fleetc.core.keys import Manifest, ObjectKey
from fleetc.engine.install import NAME, install_objects, render
from fleetc.rollout import RolloutPlan, WaveSpec
from fleetc.rollout.desired import ClusterPlan
from fleetc.runtime.kube import KubeStore, connect
from fleetc.runtime.store import copy
from tests.kube.support import KubeApi
from tests.rollout.support import CLASS, NEW, OLD, SETTLED, cluster_manifest, fixture

CLASS_FILE = next((Path(__file__).parents[1] / "golden/example-build/classes").glob("standard-local-sim-*/class.yaml"))
"""The example fleet's dev-inmemory class revision, as built (its hash changes with the class)."""

CAPI = "cluster.x-k8s.io"
UPGRADING = "cp-upgrading"
_TIME = re.compile(r"20\d\d-\d\d-\d\dT\d\d:\d\d:\d\dZ")
_STRIP = ("uid", "resourceVersion", "creationTimestamp", "generation", "ownerReferences", "finalizers",
          "deletionTimestamp", "managedFields")  # fmt: skip
_GROUPS = {"KubeadmControlPlane": "controlplane.cluster.x-k8s.io"}


def service_account(system_namespace: str) -> str:
    """The controller's ServiceAccount as a user name (for impersonation)."""
    return f"system:serviceaccount:{system_namespace}:{NAME}"


def install(api: KubeApi, system_namespace: str) -> None:
    """``fleetc install --print`` applied with kubectl; waits until the CRDs are established."""
    api.kubectl("apply", "--server-side", "--force-conflicts", "-f", "-",
                input=render(install_objects(system_namespace, "fleetc:test")))  # fmt: skip
    api.kubectl("wait", "--for=condition=Established", "--timeout=60s", "crd/fleetrollouts.fleetc.io",
                "crd/clusterrollouts.fleetc.io", "crd/fleetrevisions.fleetc.io")  # fmt: skip
    # The API server's RBAC authorizer learns new bindings from a watch: wait until it has the ServiceAccount's.
    user = f"system:serviceaccount:{system_namespace}:{NAME}"
    deadline = time.monotonic() + 30
    while api.kubectl("auth", "can-i", "create", "events", "--as", user, check=False).stdout.strip() != "yes":
        assert time.monotonic() < deadline, f"RBAC for {user} not in effect after 30 s"
        time.sleep(0.2)


def plan(namespace: str, waves: list[tuple[str, int, int]], version: str = NEW) -> RolloutPlan:
    """A rollout of clusters ``<wave>-<i>`` in ``namespace`` to ``version``; waves are (name, size, maxConcurrent)."""
    clusters = [
        ClusterPlan(name, namespace, wave, order, version, CLASS, (cluster_manifest(name, version, CLASS, namespace),))
        for wave, size, _ in waves
        for order, name in enumerate(f"{wave}-{i:02d}" for i in range(1, size + 1))
    ]
    specs = tuple(
        WaveSpec(
            name=w, size=size, max_concurrent=most, soak_seconds=0, control_plane_deadline_seconds=600, failure_budget=0
        )
        for w, size, most in waves
    )
    return RolloutPlan("acme", namespace, "rev-1", specs, tuple(clusters), class_revision(namespace))


def class_revision(namespace: str) -> tuple[Manifest, ...]:
    """The namespace and a class revision as fleetc compiles them (a golden build's ClusterClass and templates)."""
    documents = yaml.safe_load_all(CLASS_FILE.read_text())
    moved = [{**d, "metadata": {**d["metadata"], "namespace": namespace}} for d in documents]
    return ({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": namespace}}, *moved)


def _substitute(value: Any, table: dict[str, str], began: str) -> Any:
    pattern = re.compile("|".join(re.escape(k) for k in sorted(table, key=len, reverse=True)))
    if isinstance(value, dict):
        return {k: _substitute(v, table, began) for k, v in value.items()}
    if isinstance(value, list):
        return [_substitute(v, table, began) for v in value]
    if isinstance(value, str):
        return _TIME.sub(began, pattern.sub(lambda m: table[m.group(0)], value))
    return value


@dataclass
class _Shown:
    version: str
    since: float
    scenario: str
    old: str
    names: list[str] = field(default_factory=list)


@dataclass
class CapiPlayer:
    """Plays CAPI for the clusters of one namespace (see the module docstring)."""

    store: KubeStore
    namespace: str
    upgrade_seconds: float = 2.0
    shown: dict[str, _Shown] = field(default_factory=dict)

    def seed(self, name: str, version: str = OLD) -> None:
        """A cluster running ``version`` for a day, healthy."""
        self.store.create(cluster_manifest(name, version, CLASS, self.namespace))
        self.shown[name] = _Shown(version, time.time() - 86400, SETTLED, version)
        self._show(name, self.shown[name])

    def step(self) -> None:
        """Bring every cluster's CAPI objects to where its upgrade is now."""
        now = time.time()
        for cluster in self.store.list(CAPI, "Cluster", self.namespace):
            name = cluster["metadata"]["name"]
            version = cluster["spec"]["topology"]["version"]
            shown = self.shown.get(name)
            if shown is None or shown.version != version:
                shown = self.shown[name] = _Shown(version, now, UPGRADING, shown.version if shown else version,
                                                  shown.names if shown else [])  # fmt: skip
                self._show(name, shown)
            elif shown.scenario == UPGRADING and now - shown.since >= self.upgrade_seconds:
                shown.scenario, shown.since = SETTLED, now
                self._show(name, shown)

    def _show(self, name: str, shown: _Shown) -> None:
        table = {"eu-prod-1": name, "eu-prod-4": name, "fleet-eu": self.namespace, NEW: shown.version, OLD: shown.old}
        objects = _substitute(fixture(shown.scenario), table, timestamp(shown.since))
        written = []
        for obj in objects:
            if obj["kind"] == "Cluster":
                live = self.store.read(ObjectKey(CAPI, "Cluster", self.namespace, name))
                self._status(live, obj["status"])
                continue
            written.append(self._write(obj))
        for stale in set(shown.names) - set(written):
            kind, _, object_name = stale.partition("/")
            with contextlib.suppress(NotFound):
                self.store.delete(ObjectKey(_GROUPS.get(kind, CAPI), kind, self.namespace, object_name))
        shown.names = written

    def _write(self, obj: Manifest) -> str:
        metadata = {k: v for k, v in obj["metadata"].items() if k not in _STRIP}
        desired = {**obj, "metadata": metadata}
        status = desired.pop("status", {})
        key = ObjectKey.of(desired)
        try:
            live = self.store.read(key)
            live = self.store.update({**desired, "metadata": {**live["metadata"], **metadata}})
        except NotFound:
            live = self.store.create(desired)
        self._status(live, status)
        return f"{key.kind}/{key.name}"

    def _status(self, live: Manifest, status: Manifest) -> None:
        status = copy(status)
        generation = live["metadata"]["generation"]
        status["observedGeneration"] = generation
        for condition in status.get("conditions", []):
            condition["observedGeneration"] = generation
        self.store.update_status({**live, "status": status})


@dataclass
class ControllerProcess:
    """One ``fleetc controller run`` subprocess; its stderr (JSON log lines) goes to a file."""

    identity: str
    process: subprocess.Popen[bytes]
    log: Path

    @classmethod
    def start(cls, api: KubeApi, system_namespace: str, identity: str, folder: Path, *, lease: float = 3.0,
              impersonate: str | None = None) -> ControllerProcess:  # fmt: skip
        """Start a controller with short lease timings (lease, two thirds of it to renew, a sixth to retry)."""
        log = folder / f"{identity}.log"
        command = [
            sys.executable, "-m", "fleetc", "controller", "run", "--kubeconfig", str(api.kubeconfig),
            "--context", api.context, "--namespace", system_namespace, "--identity", identity,
            "--lease-duration", str(lease), "--renew-deadline", str(lease * 2 / 3), "--retry-period", str(lease / 6),
            "--health-addr", "127.0.0.1:0", "--log-format", "json",
        ]  # fmt: skip
        if impersonate:
            command += ["--as", impersonate]
        with log.open("wb") as sink:
            process = subprocess.Popen(command, stdout=sink, stderr=subprocess.STDOUT, env={**os.environ})
        return cls(identity, process, log)

    def lines(self) -> list[dict[str, Any]]:
        """The JSON log lines so far (every line must be one JSON object)."""
        text = self.log.read_text() if self.log.exists() else ""
        return [json.loads(line) for line in text.splitlines() if line.strip()]

    def health_port(self, timeout: float = 30.0) -> int:
        """The port the health endpoints listen on (from the start-up log line)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for line in self.lines():
                if "healthPort" in line:
                    return int(line["healthPort"])
            time.sleep(0.1)
        raise AssertionError(f"{self.identity} logged no health port: {self.log.read_text()}")

    def terminate(self, timeout: float = 20.0) -> int:
        """SIGTERM, then its exit code."""
        self.process.send_signal(signal.SIGTERM)
        return self.process.wait(timeout)

    def kill(self) -> None:
        """SIGKILL (no chance to release anything)."""
        self.process.kill()
        self.process.wait(10)

    def stop(self) -> None:
        """Whatever state it is in: gone afterwards."""
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait(10)


def admin_store(api: KubeApi, namespace: str | None = None) -> KubeStore:
    """A store on the test server as the admin (the pipeline and CAPI's side of the tests)."""
    return connect(api.kubeconfig, api.context, namespace=namespace)


def lease_holder(api: KubeApi, system_namespace: str) -> dict[str, Any]:
    """The Lease's spec as the server has it now (empty when there is none)."""
    result = api.kubectl("get", "lease", NAME, "-n", system_namespace, "-o", "json", check=False)
    return json.loads(result.stdout).get("spec", {}) if result.returncode == 0 else {}
