"""Finding the server as kubectl does: KUBECONFIG lists merged (first wins), --kubeconfig, --context, in-cluster."""

from __future__ import annotations

import base64
import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml

from fleetc.core.keys import ObjectKey
from fleetc.runtime.kube import KubeConfigError, load_config, store_for
from fleetc.runtime.kube.config import merge_kubeconfigs
from tests.kube.support import KubeApi, config_map

NOWHERE = "https://127.0.0.1:9"


def _entry(kind: str, name: str, body: dict[str, Any]) -> dict[str, Any]:
    return {"name": name, kind: body}


def _write(path: Path, config: dict[str, Any]) -> Path:
    path.write_text(yaml.safe_dump(config))
    return path


def test_merging_keeps_the_first_definition_of_each_entry_and_resolves_relative_paths(tmp_path: Path) -> None:
    first = {
        "current-context": "b",
        "clusters": [_entry("cluster", "x", {"server": "https://one", "certificate-authority": "ca.crt"})],
    }
    second = {
        "current-context": "a",
        "clusters": [
            _entry("cluster", "x", {"server": "https://two"}),
            _entry("cluster", "y", {"server": "https://three"}),
        ],
    }
    merged = merge_kubeconfigs([(tmp_path / "one" / "config", first), (tmp_path / "config", second)])
    assert merged["current-context"] == "b"
    assert [(c["name"], c["cluster"]["server"]) for c in merged["clusters"]] == [
        ("x", "https://one"),
        ("y", "https://three"),
    ]
    assert merged["clusters"][0]["cluster"]["certificate-authority"] == str(tmp_path / "one" / "ca.crt")


@pytest.fixture
def two_files(kube_api: KubeApi, tmp_path: Path) -> tuple[Path, Path]:
    """``a`` sets current-context ``real`` and defines context ``decoy`` (nowhere); ``b`` defines ``real`` (the test
    server) and another ``decoy`` that must lose to ``a``'s."""
    test = yaml.safe_load(Path(kube_api.kubeconfig).read_text())
    cluster, user = test["clusters"][0]["cluster"], test["users"][0]["user"]
    a = {
        "current-context": "real",
        "clusters": [_entry("cluster", "nowhere", {"server": NOWHERE})],
        "users": [_entry("user", "nobody", {"token": "x"})],
        "contexts": [_entry("context", "decoy", {"cluster": "nowhere", "user": "nobody"})],
    }
    b = {
        "current-context": "decoy",
        "clusters": [_entry("cluster", "test", cluster)],
        "users": [_entry("user", "admin", user)],
        "contexts": [
            _entry("context", "real", {"cluster": "test", "user": "admin"}),
            _entry("context", "decoy", {"cluster": "test", "user": "admin"}),
        ],
    }
    return _write(tmp_path / "a.yaml", a), _write(tmp_path / "b.yaml", b)


def test_a_kubeconfig_list_is_merged_and_the_first_current_context_wins(
    kube_api: KubeApi, kube_namespace: str, two_files: tuple[Path, Path], tmp_path: Path
) -> None:
    a, b = two_files
    env = {"KUBECONFIG": f"{a}:{tmp_path / 'missing.yaml'}:{b}"}
    found = load_config(environ=env, home=tmp_path)
    assert (found.context, found.server) == ("real", kube_api.server)
    store = store_for(found, namespace=kube_namespace)
    try:
        assert store.apply(config_map(kube_namespace)) == "created"
    finally:
        store.close()
    decoy = load_config(context="decoy", environ=env, home=tmp_path)
    assert decoy.server == NOWHERE


def test_an_explicit_kubeconfig_ignores_the_list_and_an_unknown_context_is_named(
    two_files: tuple[Path, Path], tmp_path: Path
) -> None:
    a, b = two_files
    env = {"KUBECONFIG": str(a)}
    assert load_config(b, environ=env, home=tmp_path).context == "decoy"
    with pytest.raises(KubeConfigError, match=r'context "gone" not found .*contexts: decoy'):
        load_config(context="gone", environ=env, home=tmp_path)
    with pytest.raises(KubeConfigError, match="does not exist"):
        load_config(tmp_path / "nope.yaml", environ=env, home=tmp_path)


def test_home_kubeconfig_is_the_default(two_files: tuple[Path, Path], tmp_path: Path) -> None:
    _, b = two_files
    (tmp_path / "home" / ".kube").mkdir(parents=True)
    shutil.copy(b, tmp_path / "home" / ".kube" / "config")
    assert load_config(environ={}, home=tmp_path / "home").context == "decoy"
    with pytest.raises(KubeConfigError, match="no kubeconfig found"):
        load_config(environ={}, home=tmp_path / "empty")


def test_in_a_pod_the_service_account_is_used(kube_api: KubeApi, kube_namespace: str, tmp_path: Path) -> None:
    kube_api.kubectl("create", "serviceaccount", "runner", "-n", kube_namespace)
    kube_api.kubectl(
        "create", "role", "runner", "--verb=get,list,watch,create,patch", "--resource=configmaps", "-n", kube_namespace
    )
    kube_api.kubectl(
        "create",
        "rolebinding",
        "runner",
        "--role=runner",
        f"--serviceaccount={kube_namespace}:runner",
        "-n",
        kube_namespace,
    )
    token = kube_api.kubectl("create", "token", "runner", "-n", kube_namespace).stdout.strip()
    cluster = yaml.safe_load(Path(kube_api.kubeconfig).read_text())["clusters"][0]["cluster"]
    folder = tmp_path / "serviceaccount"
    folder.mkdir()
    (folder / "token").write_text(token)
    if "certificate-authority-data" in cluster:
        (folder / "ca.crt").write_bytes(base64.b64decode(cluster["certificate-authority-data"]))
    else:
        shutil.copy(cluster["certificate-authority"], folder / "ca.crt")
    host, port = kube_api.server.removeprefix("https://").rsplit(":", 1)
    env = {"KUBERNETES_SERVICE_HOST": host, "KUBERNETES_SERVICE_PORT": port}
    found = load_config(environ=env, home=tmp_path, in_cluster=folder)
    assert (found.context, found.server) == (None, kube_api.server)
    store = store_for(found, namespace=kube_namespace)
    try:
        assert store.apply(config_map(kube_namespace, by="pod")) == "created"
        assert store.read(ObjectKey("", "ConfigMap", kube_namespace, "a"))["data"] == {"by": "pod"}
    finally:
        store.close()
