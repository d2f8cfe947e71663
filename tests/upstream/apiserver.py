"""A real etcd and kube-apiserver on loopback for tests, with certificates made at start and RBAC switched on.

:func:`start` makes a throw-away certificate authority (``openssl``), a serving certificate for 127.0.0.1, an admin
client certificate in group ``system:masters`` and a service-account signing key; starts etcd and kube-apiserver on
free loopback ports with their data and logs in a temporary folder; waits for ``/readyz``; and writes a kubeconfig
(context ``fleetc-test``). :class:`KubeApi` is what the ``kube_api`` fixture (``tests/upstream/plugin.py``) hands to
tests. Nothing else runs beside them: no kube-controller-manager, so no garbage collection and namespaces that are
deleted stay ``Terminating``.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import shutil
import signal
import socket
import ssl
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

CONTEXT = "fleetc-test"
ADMIN = "fleetc-admin"
SERVICE_CIDR = "10.96.0.0/24"
START_TIMEOUT = 120.0


class StartError(RuntimeError):
    """etcd or kube-apiserver did not come up (the message ends with the tail of its log)."""


class KubectlError(subprocess.CalledProcessError):
    """``kubectl`` failed; the message carries its stderr."""

    def __str__(self) -> str:
        return f"{' '.join(map(str, self.cmd))} exited {self.returncode}: {(self.stderr or '').strip()}"


# --- certificates ----------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Certificates:
    """The files of the throw-away PKI (all PEM)."""

    ca: Path
    server_cert: Path
    server_key: Path
    admin_cert: Path
    admin_key: Path
    service_account_key: Path
    service_account_pub: Path


def _openssl(openssl: str, folder: Path, *args: str) -> None:
    subprocess.run([openssl, *args], cwd=folder, check=True, capture_output=True, text=True)


def _ec_key(openssl: str, folder: Path, name: str) -> None:
    _openssl(openssl, folder, "genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", name)


def _signed(openssl: str, folder: Path, name: str, subject: str, extensions: str) -> None:
    """``name.key`` and ``name.crt`` signed by the CA, valid for two days."""
    _ec_key(openssl, folder, f"{name}.key")
    _openssl(openssl, folder, "req", "-new", "-key", f"{name}.key", "-subj", subject, "-out", f"{name}.csr")
    (folder / f"{name}.ext").write_text(extensions)
    _openssl(openssl, folder, "x509", "-req", "-in", f"{name}.csr", "-CA", "ca.crt", "-CAkey", "ca.key",
             "-CAcreateserial", "-days", "2", "-extfile", f"{name}.ext", "-out", f"{name}.crt")  # fmt: skip


def make_certificates(openssl: str, folder: Path) -> Certificates:
    """A CA, a serving certificate for 127.0.0.1/localhost, an admin client certificate, a service-account key."""
    folder.mkdir(parents=True, exist_ok=True)
    _ec_key(openssl, folder, "ca.key")
    _openssl(openssl, folder, "req", "-x509", "-new", "-key", "ca.key", "-subj", "/CN=fleetc-test-ca",
             "-days", "2", "-out", "ca.crt")  # fmt: skip
    usage = "keyUsage=critical,digitalSignature,keyEncipherment\n"
    _signed(openssl, folder, "server", "/CN=kube-apiserver",
            usage + "extendedKeyUsage=serverAuth\nsubjectAltName=IP:127.0.0.1,DNS:localhost\n")  # fmt: skip
    _signed(openssl, folder, "admin", f"/O=system:masters/CN={ADMIN}", usage + "extendedKeyUsage=clientAuth\n")
    _ec_key(openssl, folder, "sa.key")
    _openssl(openssl, folder, "pkey", "-in", "sa.key", "-pubout", "-out", "sa.pub")
    return Certificates(
        ca=folder / "ca.crt",
        server_cert=folder / "server.crt",
        server_key=folder / "server.key",
        admin_cert=folder / "admin.crt",
        admin_key=folder / "admin.key",
        service_account_key=folder / "sa.key",
        service_account_pub=folder / "sa.pub",
    )


# --- processes -------------------------------------------------------------------------------------------------------


def free_ports(count: int) -> list[int]:
    """``count`` distinct loopback ports that were free a moment ago."""
    with contextlib.ExitStack() as stack:
        sockets = [stack.enter_context(socket.socket()) for _ in range(count)]
        for sock in sockets:
            sock.bind(("127.0.0.1", 0))
        return [sock.getsockname()[1] for sock in sockets]


_PRCTL: Any
try:
    _PRCTL = ctypes.CDLL(None).prctl  # looked up here, not in the forked child
except (OSError, AttributeError):  # not Linux
    _PRCTL = None
PR_SET_PDEATHSIG = 1


def _die_with_parent() -> None:
    """Linux: the child is killed when the test process dies, even by SIGKILL (so no server outlives a run)."""
    if _PRCTL is not None:
        _PRCTL(PR_SET_PDEATHSIG, signal.SIGKILL)


@dataclass
class Process:
    """A started server process and its log file."""

    name: str
    popen: subprocess.Popen[bytes]
    log: Path

    def tail(self, lines: int = 30) -> str:
        """The end of its log."""
        text = self.log.read_text(errors="replace") if self.log.exists() else ""
        return "\n".join(text.splitlines()[-lines:])

    def check_running(self) -> None:
        """Raise :class:`StartError` if it has exited."""
        code = self.popen.poll()
        if code is not None:
            raise StartError(f"{self.name} exited with {code}; end of {self.log}:\n{self.tail()}")

    def stop(self, grace: float = 10.0) -> None:
        """SIGTERM, then SIGKILL after ``grace`` seconds."""
        if self.popen.poll() is None:
            self.popen.terminate()
            try:
                self.popen.wait(grace)
            except subprocess.TimeoutExpired:
                self.popen.kill()
                self.popen.wait()


def _spawn(name: str, command: Sequence[str], log: Path) -> Process:
    with log.open("wb") as out:
        popen = subprocess.Popen(
            command,
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            preexec_fn=_die_with_parent,  # noqa: PLW1509 - one FFI call, no lock taken between fork and exec
        )
    return Process(name, popen, log)


def _wait_until(ready: Callable[[], bool], process: Process, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while True:
        process.check_running()
        if ready():
            return
        if time.monotonic() > deadline:
            raise StartError(f"{process.name} not ready after {timeout:.0f} s; end of {process.log}:\n{process.tail()}")
        time.sleep(0.2)


def _http_ok(url: str, context: ssl.SSLContext | None = None) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2, context=context) as response:
            return bool(response.status == 200)
    except (OSError, urllib.error.URLError):
        return False


def start_etcd(etcd: Path, workdir: Path, timeout: float = START_TIMEOUT) -> tuple[Process, str]:
    """etcd on two free loopback ports (plain HTTP: nothing but the API server on this host talks to it)."""
    client, peer = (f"http://127.0.0.1:{port}" for port in free_ports(2))
    shutil.rmtree(workdir / "etcd", ignore_errors=True)  # a fresh member (a retry must not reuse the old peer URL)
    command = [
        str(etcd), "--name", CONTEXT, "--data-dir", str(workdir / "etcd"),
        "--listen-client-urls", client, "--advertise-client-urls", client,
        "--listen-peer-urls", peer, "--initial-advertise-peer-urls", peer, "--initial-cluster", f"{CONTEXT}={peer}",
        "--unsafe-no-fsync", "--log-level", "warn",
    ]  # fmt: skip
    process = _spawn("etcd", command, workdir / "etcd.log")
    try:
        _wait_until(lambda: _http_ok(f"{client}/health"), process, timeout)
    except BaseException:
        process.stop()
        raise
    return process, client


def apiserver_command(binary: Path, certs: Certificates, etcd_url: str, port: int, workdir: Path) -> list[str]:
    """The kube-apiserver command line: loopback only, client-certificate authentication, RBAC authorisation."""
    return [
        str(binary),
        f"--etcd-servers={etcd_url}",
        "--bind-address=127.0.0.1",
        "--advertise-address=127.0.0.1",
        f"--secure-port={port}",
        f"--cert-dir={workdir / 'apiserver-certs'}",
        f"--tls-cert-file={certs.server_cert}",
        f"--tls-private-key-file={certs.server_key}",
        f"--client-ca-file={certs.ca}",
        "--authorization-mode=RBAC",
        "--service-account-issuer=https://kubernetes.default.svc",
        f"--service-account-key-file={certs.service_account_pub}",
        f"--service-account-signing-key-file={certs.service_account_key}",
        f"--service-cluster-ip-range={SERVICE_CIDR}",
        "--allow-privileged=true",
        # No controller creates default ServiceAccounts here (the same choice as controller-runtime's envtest).
        "--disable-admission-plugins=ServiceAccount",
        "--profiling=false",
        # Watches of ConfigMaps go straight to etcd, and etcd is compacted every few seconds, so a watch from an old
        # resourceVersion really gets 410 Gone (tests/kube/test_informer.py); everything else keeps the watch cache.
        "--watch-cache-sizes=configmaps#0",
        "--etcd-compaction-interval=3s",
    ]


def _ssl_context(certs: Certificates) -> ssl.SSLContext:
    context = ssl.create_default_context(cafile=str(certs.ca))
    context.load_cert_chain(str(certs.admin_cert), str(certs.admin_key))
    return context


def start_apiserver(
    binary: Path, certs: Certificates, etcd_url: str, workdir: Path, timeout: float = START_TIMEOUT
) -> tuple[Process, str]:
    """kube-apiserver on a free loopback port, waited for until ``/readyz`` answers 200."""
    (port,) = free_ports(1)
    server = f"https://127.0.0.1:{port}"
    command = apiserver_command(binary, certs, etcd_url, port, workdir)
    process = _spawn("kube-apiserver", command, workdir / "apiserver.log")
    context = _ssl_context(certs)
    try:
        _wait_until(lambda: _http_ok(f"{server}/readyz", context), process, timeout)
    except BaseException:
        process.stop()
        raise
    return process, server


def kubeconfig(server: str, certs: Certificates) -> dict[str, object]:
    """A kubeconfig with one context, ``fleetc-test``, authenticating as the admin client certificate."""
    return {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": CONTEXT, "cluster": {"server": server, "certificate-authority": str(certs.ca)}}],
        "users": [
            {"name": ADMIN, "user": {"client-certificate": str(certs.admin_cert), "client-key": str(certs.admin_key)}}
        ],
        "contexts": [{"name": CONTEXT, "context": {"cluster": CONTEXT, "user": ADMIN}}],
        "current-context": CONTEXT,
    }


# --- what tests get --------------------------------------------------------------------------------------------------


@dataclass
class KubeApi:
    """A running API server as tests see it: its kubeconfig, context, URL, and ``kubectl`` bound to it."""

    kubeconfig: Path
    context: str
    server: str
    kubectl_binary: str
    workdir: Path
    env: dict[str, str] = field(default_factory=dict, repr=False)
    """The environment for subprocesses (``KUBECONFIG`` set to :attr:`kubeconfig`)."""

    def __post_init__(self) -> None:
        if not self.env:
            self.env = {**os.environ, "KUBECONFIG": str(self.kubeconfig)}

    def kubectl(self, *args: str, check: bool = True, input: str | None = None) -> subprocess.CompletedProcess[str]:
        """Run the real ``kubectl`` against this server (raises :class:`KubectlError` on failure when ``check``)."""
        command = [self.kubectl_binary, "--kubeconfig", str(self.kubeconfig), "--context", self.context, *args]
        result = subprocess.run(command, env=self.env, input=input, capture_output=True, text=True, check=False)
        if check and result.returncode != 0:
            raise KubectlError(result.returncode, command, result.stdout, result.stderr)
        return result

    def install_crds(self, folders: Iterable[Path], timeout: float = 60.0) -> list[str]:
        """Server-side apply every CRD in ``folders`` and wait until each is Established; their resource names."""
        files = [arg for folder in folders for arg in ("-f", str(folder))]
        applied = self.kubectl("apply", "--server-side", "--force-conflicts", "-o", "name", *files).stdout.split()
        self.kubectl("wait", "--for=condition=Established", f"--timeout={timeout:.0f}s", *applied)
        return applied


@dataclass
class ControlPlane:
    """etcd and kube-apiserver started by :func:`start`; :meth:`stop` ends both."""

    api: KubeApi
    processes: list[Process]

    def stop(self) -> None:
        """Stop the API server, then etcd."""
        for process in reversed(self.processes):
            process.stop()

    def logs(self) -> dict[str, Path]:
        """Each process's log file."""
        return {p.name: p.log for p in self.processes}


PORT_ATTEMPTS = 3


def _retrying_ports(starter: Callable[[], tuple[Process, str]]) -> tuple[Process, str]:
    """Run ``starter`` again when another process took its free port between choosing and binding it."""
    for attempt in range(1, PORT_ATTEMPTS + 1):
        try:
            return starter()
        except StartError as error:
            if attempt == PORT_ATTEMPTS or "address already in use" not in str(error):
                raise
    raise AssertionError("unreachable")


def start(etcd: Path, apiserver: Path, kubectl: str, openssl: str, workdir: Path) -> ControlPlane:
    """Start etcd and kube-apiserver with state under ``workdir``; stops what started if anything fails."""
    certs = make_certificates(openssl, workdir / "pki")
    etcd_process, etcd_url = _retrying_ports(lambda: start_etcd(etcd, workdir))
    try:
        api_process, server = _retrying_ports(lambda: start_apiserver(apiserver, certs, etcd_url, workdir))
    except BaseException:
        etcd_process.stop()
        raise
    path = workdir / "kubeconfig"
    path.write_text(yaml.safe_dump(kubeconfig(server, certs), sort_keys=False))
    return ControlPlane(KubeApi(path, CONTEXT, server, kubectl, workdir), [etcd_process, api_process])


@contextlib.contextmanager
def running(etcd: Path, apiserver: Path, kubectl: str, openssl: str, workdir: Path) -> Iterator[ControlPlane]:
    """:func:`start` as a context manager that always stops both processes."""
    plane = start(etcd, apiserver, kubectl, openssl, workdir)
    try:
        yield plane
    finally:
        plane.stop()
