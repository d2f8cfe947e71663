"""Helpers for the Kubernetes store tests: a store on the test API server, objects, and waiting for watch events."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any, Protocol

from fleetc.runtime.kube import KubeStore, connect

CAPI = "cluster.x-k8s.io"


class KubeApi(Protocol):
    """What the ``kube_api`` fixture offers (the harness's fixture, or the stop-gap in conftest.py)."""

    kubeconfig: Any
    context: str
    server: str
    env: dict[str, str]

    def kubectl(self, *args: str, check: bool = True, input: str | None = None) -> Any: ...


def store_on(api: KubeApi, namespace: str, **options: Any) -> KubeStore:
    """A store on the test server, its informers scoped to ``namespace``."""
    return connect(api.kubeconfig, api.context, namespace=namespace, **options)


def config_map(namespace: str, name: str = "a", **data: str) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name, "namespace": namespace}, "data": data}


def cluster(namespace: str, name: str = "c1", **spec: Any) -> dict[str, Any]:
    """A CAPI v1beta2 Cluster (a custom resource with a status subresource)."""
    return {
        "apiVersion": f"{CAPI}/v1beta2",
        "kind": "Cluster",
        "metadata": {"name": name, "namespace": namespace},
        "spec": spec,
    }


def eventually(store: KubeStore, condition: Callable[[], bool], timeout: float = 20.0) -> None:
    """Deliver watch events until ``condition()`` holds; fails after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition not met before the timeout"
        store.wait(0.2)
