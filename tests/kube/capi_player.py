"""Plays CAPI on the test API server, for rollouts against a management cluster without CAPI's controllers.

For every ``Cluster`` fleetc applies in a namespace, :class:`CapiPlayer` writes what CAPI v1.14 would write, from the
project's status fixtures (``tests/fixtures/capi-status``, renamed for the cluster, times set to now): the
KubeadmControlPlane, MachineDeployment, MachineSet, MachineHealthCheck and Machines, each created and then given its
status through the status subresource, and the Cluster's own status. A healthy cluster shows
``upgrade-complete-v1.35.0``; one in ``stuck`` shows ``create-cp-never-initializes`` (a control plane Machine whose
Node never came up: ``HealthCheckSucceeded=False``); one in ``held`` is left alone (in flight) until released. It
runs in a thread with its own store, woken by real watch events.
"""

from __future__ import annotations

import math
import re
import threading
import time
import traceback
from datetime import UTC, datetime
from typing import Any

import yaml

from fleetc.core.errors import StoreError
from fleetc.core.keys import Manifest, ObjectKey
from fleetc.runtime.kube import KubeStore
from tests.kube.support import CAPI, KubeApi, store_on
from tests.upstream.reference import reference

HEALTHY = "upgrade-complete-v1.35.0"
STUCK = "create-cp-never-initializes"
VERSION = "v1.35.0"
_TIME = re.compile(r"20\d\d-\d\d-\d\dT\d\d:\d\d:\d\dZ")
_STRIP = ("uid", "resourceVersion", "creationTimestamp", "generation", "ownerReferences", "finalizers")


def _fixture(name: str, cluster: str, namespace: str) -> list[Manifest]:
    # A second ahead, rounded up: a failure signal must not read as older than the attempt it fails (whole seconds).
    now = datetime.fromtimestamp(math.ceil(time.time()) + 1, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    objects = []
    for path in sorted((reference().capi_status / name).glob("*.yaml")):
        text = path.read_text().replace("eu-prod-1", cluster).replace("eu-prod-4", cluster)
        text = _TIME.sub(now, text.replace("fleet-eu", namespace))
        objects.append(yaml.safe_load(text))
    return objects


class CapiPlayer:
    """See the module docstring. Use as a context manager; :attr:`shown` says which fixture each cluster got."""

    def __init__(self, api: KubeApi, namespace: str, *, stuck: set[str] | None = None, held: set[str] | None = None,
                 delay: float = 0.5) -> None:  # fmt: skip
        self.namespace, self.delay = namespace, delay
        self.stuck, self.held = set(stuck or ()), set(held or ())
        self.shown: dict[str, str] = {}
        self._api = api
        self._seen: dict[tuple[str, int], float] = {}
        self._played: dict[str, int] = {}
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._run, name="capi-player", daemon=True)
        self.errors: list[str] = []
        self.retried: list[str] = []

    def __enter__(self) -> CapiPlayer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(10)

    def release(self, cluster: str) -> None:
        """Let a held cluster come up."""
        with self._lock:
            self.held.discard(cluster)

    def _run(self) -> None:
        store = store_on(self._api, self.namespace)
        try:
            store.inform(CAPI, "Cluster")
            while not self._stop.is_set():
                store.wait(0.2)
                for cluster in store.list(CAPI, "Cluster", self.namespace):
                    try:
                        self._play(store, cluster)
                    except StoreError as exc:  # a write raced another writer: played again on the next pass
                        self.retried.append(f"{cluster['metadata']['name']}: {type(exc).__name__}: {exc}")
            store.close()
        except Exception as exc:  # shown by the tests, which assert that there were none
            self.errors.append("".join(traceback.format_exception(exc)))

    def _play(self, store: KubeStore, cluster: Manifest) -> None:
        name, generation = cluster["metadata"]["name"], int(cluster["metadata"]["generation"])
        with self._lock:
            if name in self.held:
                return
        if self._played.get(name) == generation:
            return
        first = self._seen.setdefault((name, generation), time.monotonic())
        if time.monotonic() - first < self.delay:
            return
        scenario = STUCK if name in self.stuck else HEALTHY
        objects = _fixture(scenario, name, self.namespace)
        for obj in objects:
            if obj["kind"] != "Cluster":
                _write(store, obj)
        [shown] = [obj for obj in objects if obj["kind"] == "Cluster"]
        self._cluster_status(store, cluster, shown["status"])  # last, as CAPI's summary follows its objects
        self._played[name] = generation
        self.shown[name] = scenario

    def _cluster_status(self, store: KubeStore, cluster: Manifest, status: dict[str, Any]) -> None:
        generation = cluster["metadata"]["generation"]
        status["observedGeneration"] = generation
        for condition in status.get("conditions", []):
            condition["observedGeneration"] = generation
        store.edit(ObjectKey.of(cluster), lambda live: live.__setitem__("status", status), status=True)


def _write(store: KubeStore, obj: Manifest) -> None:
    metadata = {k: v for k, v in obj["metadata"].items() if k not in _STRIP and k != "deletionTimestamp"}
    status = obj.get("status", {})
    desired = {**{k: v for k, v in obj.items() if k != "status"}, "metadata": metadata}
    live = store.find(ObjectKey.of(desired)) or store.create(desired)
    status = {**status, "observedGeneration": live["metadata"]["generation"]}
    store.update_status({**live, "status": status})
