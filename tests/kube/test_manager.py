"""The controller runtime over the Kubernetes store: a reconciler wakes on watch events from the real API server."""

from __future__ import annotations

import subprocess
import time
from dataclasses import dataclass, field

from fleetc.core.keys import ObjectKey
from fleetc.runtime.clock import RealClock
from fleetc.runtime.kube import KubeStore
from fleetc.runtime.manager import DONE, Manager, Request, Result, Watch
from tests.kube.support import KubeApi, config_map, store_on


@dataclass
class Echo:
    """Copies the data of every ConfigMap ``<name>`` into ``<name>-echo`` (server-side apply)."""

    store: KubeStore
    name: str = "echo"
    group: str = ""
    kind: str = "ConfigMap"
    runs: list[str] = field(default_factory=list)

    def watches(self) -> list[Watch]:
        return []

    def reconcile(self, request: Request) -> Result:
        self.runs.append(request.key.name)
        if request.key.name.endswith("-echo"):
            return DONE
        source = self.store.find(request.key)
        if source is not None:
            copy = config_map(request.key.namespace, f"{request.key.name}-echo", **source.get("data", {}))
            self.store.apply(copy)
        return DONE


def test_a_reconciler_over_the_api_server_reacts_to_changes_made_elsewhere(
    kube_api: KubeApi, kube_namespace: str
) -> None:
    kube_api.kubectl("create", "configmap", "src", "--from-literal=v=1", "-n", kube_namespace)
    store = store_on(kube_api, kube_namespace)
    clock = RealClock()
    manager = Manager(store, clock)
    echo = Echo(store)
    manager.add(echo)
    echoed = ObjectKey("", "ConfigMap", kube_namespace, "src-echo")
    changed: list[subprocess.Popen[str]] = []

    def done() -> bool:
        found = store.find(echoed)
        if found is not None and not changed:  # the first echo is there: change the source from outside
            changed.append(
                subprocess.Popen(
                    [
                        "kubectl",
                        "--kubeconfig",
                        str(kube_api.kubeconfig),
                        "--context",
                        kube_api.context,
                        "patch",
                        "configmap",
                        "src",
                        "-n",
                        kube_namespace,
                        "--type=merge",
                        "-p",
                        '{"data":{"v":"2"}}',
                    ],
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL,
                    text=True,
                )
            )
        return found is not None and found["data"] == {"v": "2"}

    start = time.monotonic()
    try:
        assert manager.run(done, deadline=clock.now() + 60)
        elapsed = time.monotonic() - start
        assert elapsed < 30, "the manager waited for its deadline instead of waking on the watch event"
        assert echo.runs.count("src") == 2
        assert manager.stats.errors == 0
    finally:
        for process in changed:
            process.wait()
        store.close()
