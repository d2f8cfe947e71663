"""STOP-GAP (helper "kubestore"): a real etcd + kube-apiserver for tests/kube until the harness fixture lands.

The lead replaces this file with the ``kube_api`` / ``kube_namespace`` fixtures of the harness branch at merge; the
interface is the same: ``kube_api`` (session) has ``.kubeconfig``, ``.context``, ``.server``, ``.env`` and
``.kubectl(*args, check=True)``; ``kube_namespace`` (function) is a fresh namespace. Binaries already built here
from pinned modules: ``/tmp/probe/bin/kube-apiserver`` (k8s.io/kubernetes v1.36.3), ``/tmp/probe/bin/etcd`` (v3.6.17);
CAPI v1.14.0 CRDs from the Go module cache. Admin is a client certificate in ``system:masters``; RBAC is on.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import os
import socket
import ssl
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import yaml

BIN = Path("/tmp/probe/bin")
CONTEXT = "fleetc-test"
_names = itertools.count()


@dataclass
class KubeApi:
    kubeconfig: Path
    context: str
    server: str
    env: dict[str, str] = field(default_factory=dict)

    def kubectl(self, *args: str, check: bool = True, input: str | None = None) -> subprocess.CompletedProcess[str]:
        command = ["kubectl", "--kubeconfig", str(self.kubeconfig), "--context", self.context, *args]
        result = subprocess.run(command, env=self.env, input=input, capture_output=True, text=True, check=False)
        if check and result.returncode != 0:
            raise AssertionError(f"{' '.join(command)} exited {result.returncode}: {result.stderr}")
        return result


def _openssl(folder: Path, *args: str) -> None:
    subprocess.run(["openssl", *args], cwd=folder, check=True, capture_output=True)


def _certificates(folder: Path) -> None:
    folder.mkdir(parents=True)
    for name in ("ca", "server", "admin", "sa"):
        _openssl(folder, "genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", f"{name}.key")
    _openssl(folder, "req", "-x509", "-new", "-key", "ca.key", "-subj", "/CN=test-ca", "-days", "2", "-out", "ca.crt")
    for name, subject, ext in (
        ("server", "/CN=kube-apiserver", "extendedKeyUsage=serverAuth\nsubjectAltName=IP:127.0.0.1,DNS:localhost\n"),
        ("admin", "/O=system:masters/CN=fleetc-admin", "extendedKeyUsage=clientAuth\n"),
    ):
        _openssl(folder, "req", "-new", "-key", f"{name}.key", "-subj", subject, "-out", f"{name}.csr")
        (folder / f"{name}.ext").write_text(ext)
        _openssl(folder, "x509", "-req", "-in", f"{name}.csr", "-CA", "ca.crt", "-CAkey", "ca.key", "-CAcreateserial",
                 "-days", "2", "-extfile", f"{name}.ext", "-out", f"{name}.crt")  # fmt: skip
    _openssl(folder, "pkey", "-in", "sa.key", "-pubout", "-out", "sa.pub")


def _ports(count: int) -> list[int]:
    with contextlib.ExitStack() as stack:
        sockets = [stack.enter_context(socket.socket()) for _ in range(count)]
        for sock in sockets:
            sock.bind(("127.0.0.1", 0))
        return [sock.getsockname()[1] for sock in sockets]


def _wait(url: str, process: subprocess.Popen[bytes], log: Path, context: ssl.SSLContext | None = None) -> None:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{url}: process exited:\n{log.read_text()[-3000:]}")
        with contextlib.suppress(OSError), urllib.request.urlopen(url, timeout=2, context=context) as response:
            if response.status == 200:
                return
        time.sleep(0.3)
    raise RuntimeError(f"{url} not ready:\n{log.read_text()[-3000:]}")


def _crd_folders() -> list[Path]:
    found = subprocess.run(["go", "mod", "download", "-json", "sigs.k8s.io/cluster-api@v1.14.0"], capture_output=True,
                           text=True, check=True, cwd="/tmp")  # fmt: skip
    root = Path(json.loads(found.stdout)["Dir"])
    return [root / "core/config/crd/bases", root / "controlplane/kubeadm/config/crd/bases",
            root / "bootstrap/kubeadm/config/crd/bases"]  # fmt: skip


@pytest.fixture(scope="session")
def kube_api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[KubeApi]:
    work = tmp_path_factory.mktemp("kube")
    pki = work / "pki"
    _certificates(pki)
    client, peer, secure = _ports(3)
    processes: list[subprocess.Popen[bytes]] = []
    try:
        etcd_log = work / "etcd.log"
        with etcd_log.open("wb") as out:
            processes.append(subprocess.Popen([
                str(BIN / "etcd"), "--name", "t", "--data-dir", str(work / "etcd"),
                "--listen-client-urls", f"http://127.0.0.1:{client}", "--advertise-client-urls", f"http://127.0.0.1:{client}",
                "--listen-peer-urls", f"http://127.0.0.1:{peer}", "--initial-advertise-peer-urls", f"http://127.0.0.1:{peer}",
                "--initial-cluster", f"t=http://127.0.0.1:{peer}", "--unsafe-no-fsync", "--log-level", "warn",
            ], stdout=out, stderr=subprocess.STDOUT))  # fmt: skip
        _wait(f"http://127.0.0.1:{client}/health", processes[0], etcd_log)
        api_log = work / "apiserver.log"
        with api_log.open("wb") as out:
            processes.append(subprocess.Popen([
                str(BIN / "kube-apiserver"), f"--etcd-servers=http://127.0.0.1:{client}", "--bind-address=127.0.0.1",
                "--advertise-address=127.0.0.1", f"--secure-port={secure}", f"--cert-dir={work / 'certs'}",
                f"--tls-cert-file={pki / 'server.crt'}", f"--tls-private-key-file={pki / 'server.key'}",
                f"--client-ca-file={pki / 'ca.crt'}", "--authorization-mode=RBAC",
                "--service-account-issuer=https://kubernetes.default.svc",
                f"--service-account-key-file={pki / 'sa.pub'}", f"--service-account-signing-key-file={pki / 'sa.key'}",
                "--service-cluster-ip-range=10.96.0.0/24", "--disable-admission-plugins=ServiceAccount",
                "--profiling=false",
                # ConfigMaps watched straight from etcd (no watch cache, which answers a watch from a resourceVersion
                # older than its window with its whole content), and etcd compacted every few seconds: a watch from an
                # old resourceVersion gets 410 Gone, as on a long-lived server. tests/kube/test_informer.py needs both
                # (the harness fixture must pass the same two flags).
                "--watch-cache-sizes=configmaps#0",
                "--etcd-compaction-interval=3s",
            ], stdout=out, stderr=subprocess.STDOUT))  # fmt: skip
        server = f"https://127.0.0.1:{secure}"
        context = ssl.create_default_context(cafile=str(pki / "ca.crt"))
        context.load_cert_chain(str(pki / "admin.crt"), str(pki / "admin.key"))
        _wait(f"{server}/readyz", processes[1], api_log, context)
        kubeconfig = work / "kubeconfig"
        kubeconfig.write_text(yaml.safe_dump({
            "apiVersion": "v1", "kind": "Config", "current-context": CONTEXT,
            "clusters": [{"name": CONTEXT,
                          "cluster": {"server": server, "certificate-authority": str(pki / "ca.crt")}}],
            "users": [{"name": "admin", "user": {"client-certificate": str(pki / "admin.crt"),
                                                 "client-key": str(pki / "admin.key")}}],
            "contexts": [{"name": CONTEXT, "context": {"cluster": CONTEXT, "user": "admin"}}],
        }))  # fmt: skip
        api = KubeApi(kubeconfig, CONTEXT, server, {**os.environ, "KUBECONFIG": str(kubeconfig)})
        files = [arg for folder in _crd_folders() for arg in ("-f", str(folder))]
        names = api.kubectl("apply", "--server-side", "-o", "name", *files).stdout.split()
        api.kubectl("wait", "--for=condition=Established", "--timeout=60s", *names)
        yield api
    finally:
        for process in reversed(processes):
            process.terminate()
            with contextlib.suppress(subprocess.TimeoutExpired):
                process.wait(5)
            if process.poll() is None:
                process.kill()
                process.wait()


@pytest.fixture
def kube_namespace(kube_api: KubeApi) -> str:
    name = f"t{os.getpid()}-{next(_names)}"
    kube_api.kubectl("create", "namespace", name)
    return name
