"""Finding the API server and credentials the way kubectl does.

Precedence (client-go's loading rules): ``--kubeconfig PATH`` alone if given; else every file listed in
``KUBECONFIG`` (``:``-separated), merged — for each map entry (cluster, user, context) and for ``current-context`` the
first file that sets it wins, and missing files are skipped; else ``~/.kube/config``; else, inside a pod, the
in-cluster configuration (``KUBERNETES_SERVICE_HOST``/``PORT``, the service account token and CA). ``--context``
picks a context, else ``current-context``. Relative file paths in a kubeconfig are relative to that file.

:func:`merge_kubeconfigs` and :func:`kubeconfig_paths` are pure; :func:`load_config` reads files and builds the
``kubernetes`` client configuration. Caller: :func:`fleetc.runtime.kube.connect`.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from kubernetes import client, config

from fleetc.core.errors import KubeConfigError

IN_CLUSTER = Path("/var/run/secrets/kubernetes.io/serviceaccount")
_SECTIONS = {"clusters": "cluster", "users": "user", "contexts": "context"}
_PATH_FIELDS = {"cluster": ("certificate-authority",), "user": ("client-certificate", "client-key", "tokenFile")}


@dataclass(frozen=True)
class ClientConfig:
    """Where to connect and how: the server URL, the context used (None in cluster) and the client configuration."""

    server: str
    context: str | None
    configuration: Any
    """A ``kubernetes.client.Configuration``."""


def kubeconfig_paths(explicit: Path | None, environ: Mapping[str, str], home: Path) -> list[Path]:
    """The kubeconfig files to read, in precedence order (missing files of ``KUBECONFIG`` dropped)."""
    if explicit is not None:
        return [explicit]
    listed = environ.get("KUBECONFIG", "")
    if listed:
        return [Path(p).expanduser() for p in listed.split(os.pathsep) if p and Path(p).expanduser().exists()]
    default = home / ".kube" / "config"
    return [default] if default.exists() else []


def merge_kubeconfigs(documents: list[tuple[Path, dict[str, Any]]]) -> dict[str, Any]:
    """One kubeconfig from several: for each named entry and ``current-context``, the first file that sets it wins."""
    merged: dict[str, Any] = {"apiVersion": "v1", "kind": "Config", "clusters": [], "users": [], "contexts": []}
    seen: dict[str, set[str]] = {section: set() for section in _SECTIONS}
    for path, document in documents:
        if document.get("current-context") and not merged.get("current-context"):
            merged["current-context"] = document["current-context"]
        for section, inner in _SECTIONS.items():
            for entry in document.get(section) or []:
                if entry.get("name") in seen[section]:
                    continue
                seen[section].add(entry["name"])
                merged[section].append({"name": entry["name"], inner: _resolved(inner, entry.get(inner) or {}, path)})
    return merged


def _resolved(inner: str, body: dict[str, Any], path: Path) -> dict[str, Any]:
    result = dict(body)
    for name in _PATH_FIELDS.get(inner, ()):
        value = result.get(name)
        if isinstance(value, str) and value and not Path(value).expanduser().is_absolute():
            result[name] = str(path.parent / value)
    return result


def load_config(
    kubeconfig: Path | None = None,
    context: str | None = None,
    *,
    environ: Mapping[str, str] | None = None,
    home: Path | None = None,
    in_cluster: Path = IN_CLUSTER,
) -> ClientConfig:
    """The client configuration kubectl would use (see the module docstring); :class:`KubeConfigError` if none."""
    env = os.environ if environ is None else environ
    if kubeconfig is not None and not kubeconfig.exists():
        raise KubeConfigError(f"kubeconfig {kubeconfig} does not exist")
    paths = kubeconfig_paths(kubeconfig, env, home if home is not None else Path.home())
    if not paths:
        if env.get("KUBERNETES_SERVICE_HOST") and (in_cluster / "token").exists():
            return _in_cluster(env, in_cluster)
        raise KubeConfigError(
            "no kubeconfig found: pass --kubeconfig, set KUBECONFIG or create ~/.kube/config (or run in a pod)"
        )
    documents = []
    for path in paths:
        try:
            documents.append((path, yaml.safe_load(path.read_text()) or {}))
        except (OSError, yaml.YAMLError) as exc:
            raise KubeConfigError(f"kubeconfig {path}: {exc}") from exc
    merged = merge_kubeconfigs(documents)
    chosen = context or merged.get("current-context")
    names = [c["name"] for c in merged["contexts"]]
    if not chosen or chosen not in names:
        shown = ", ".join(names) or "none"
        what = f'context "{chosen}" not found' if chosen else "no context selected (no current-context)"
        raise KubeConfigError(f"{what} in kubeconfig {os.pathsep.join(map(str, paths))} (contexts: {shown})")
    configuration = client.Configuration()
    try:
        config.load_kube_config_from_dict(
            merged, context=chosen, client_configuration=configuration, persist_config=False
        )
    except (config.ConfigException, OSError, ValueError) as exc:
        raise KubeConfigError(f"kubeconfig context {chosen}: {exc}") from exc
    return ClientConfig(str(configuration.host), chosen, configuration)


def _in_cluster(environ: Mapping[str, str], folder: Path) -> ClientConfig:
    configuration = client.Configuration()
    loader = config.incluster_config.InClusterConfigLoader(
        token_filename=str(folder / "token"), cert_filename=str(folder / "ca.crt"), environ=environ
    )
    try:
        loader.load_and_set(configuration)
    except config.ConfigException as exc:
        raise KubeConfigError(f"in-cluster configuration: {exc}") from exc
    return ClientConfig(str(configuration.host), None, configuration)
