"""fleetc on a real management cluster: the :class:`~fleetc.runtime.store.Store` protocol over the Kubernetes API.

The only package of fleetc that imports ``kubernetes`` (import-linter enforces it):
:mod:`~fleetc.runtime.kube.config` (kubeconfig and in-cluster configuration, as kubectl loads them) <
:mod:`~fleetc.runtime.kube.api` (requests, retries, errors, discovery, watches) <
:mod:`~fleetc.runtime.kube.store` (:class:`KubeStore`, reads from informers, writes to the server).
Its errors are in :mod:`fleetc.core.errors`. :func:`connect` is the entry point.
"""

from __future__ import annotations

from pathlib import Path

from kubernetes import client

from fleetc.core.errors import ForbiddenError, KubeConfigError, ServerError, TargetUnreachableError
from fleetc.runtime.kube.api import CONNECT_TIMEOUT, READ_TIMEOUT, RETRIES, Api
from fleetc.runtime.kube.config import ClientConfig, load_config
from fleetc.runtime.kube.store import KubeStore

__all__ = [
    "Api",
    "ClientConfig",
    "ForbiddenError",
    "KubeConfigError",
    "KubeStore",
    "ServerError",
    "TargetUnreachableError",
    "connect",
    "load_config",
    "store_for",
]


def connect(
    kubeconfig: Path | None = None,
    context: str | None = None,
    *,
    namespace: str | None = None,
    impersonate: str | None = None,
    connect_timeout: float = CONNECT_TIMEOUT,
    read_timeout: float = READ_TIMEOUT,
    retries: int = RETRIES,
) -> KubeStore:
    """A store on the API server kubectl would talk to (``--kubeconfig``, ``--context``, ``KUBECONFIG``, in-cluster).

    ``impersonate`` acts as another user (``--as``, the ``Impersonate-User`` header); ``namespace`` scopes the
    informers to one namespace. Nothing is sent until the store is used."""
    found = load_config(kubeconfig, context)
    return store_for(found, namespace=namespace, impersonate=impersonate, connect_timeout=connect_timeout,
                     read_timeout=read_timeout, retries=retries)  # fmt: skip


def store_for(
    found: ClientConfig,
    *,
    namespace: str | None = None,
    impersonate: str | None = None,
    connect_timeout: float = CONNECT_TIMEOUT,
    read_timeout: float = READ_TIMEOUT,
    retries: int = RETRIES,
) -> KubeStore:
    """A store over an already loaded client configuration (see :func:`connect`)."""
    found.configuration.retries = False  # retries are decided in one place, fleetc.runtime.kube.api
    api_client = client.ApiClient(found.configuration)
    if impersonate is not None:
        api_client.set_default_header("Impersonate-User", impersonate)
    api = Api(api_client, found.server, connect_timeout=connect_timeout, read_timeout=read_timeout, retries=retries)
    return KubeStore(api, namespace=namespace)
