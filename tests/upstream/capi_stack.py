"""Cluster API v1.14.0's own managers, run as local processes against the test API server.

The four managers (core with ``ClusterTopology=true``, KubeadmControlPlane, the kubeadm bootstrap provider and CAPD,
whose in-memory backend serves the ``Dev*`` kinds) are built from the pinned Go modules by
:mod:`tests.upstream.build`. Here they are started the way CAPI's own envtest set-up does it in-process
(``internal/test/envtest/webhooks.go`` at v1.14.0), but as processes:

- CRDs come from ``kubectl kustomize <component>/config/crd`` (not the bare ``bases``): kustomize adds the contract
  labels (``cluster.x-k8s.io/v1beta2: v1beta2``), without which the topology controller cannot resolve a provider's
  API version, and the conversion-webhook patches;
- every webhook (admission and CRD conversion) points at ``https://127.0.0.1:<port>`` with a CA generated per session,
  instead of the in-cluster Service and cert-manager;
- CAPD's in-memory backend serves each workload cluster's API on 127.0.0.1 (``POD_IP``).

- the infrastructure providers' CRDs (AWS, Azure, vSphere, OpenStack, GCP) come from their own kustomizations (contract
  labels) with conversion ``None``: their managers do not run, but ClusterClasses that reference their templates are
  reconciled by CAPI core;
- kube-controller-manager runs the garbage collector and the namespace controller, so owned objects and deleted
  namespaces go away as on a real management cluster.

Pure parts (which manifests, how they are patched) are functions of their inputs; starting and stopping processes is
in :class:`CapiStack` and :func:`start_stack`. One stack per test session: the ``capi`` fixture
(``tests/upstream/plugin.py``) calls :func:`session_stack`.
"""

from __future__ import annotations

import base64
import contextlib
import os
import socket
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from tests.upstream import apiserver

READY_TIMEOUT_SECONDS = 90.0
"""How long a manager may take to answer ``/readyz`` (it runs a CRD migration at start)."""


@dataclass(frozen=True)
class Component:
    """One CAPI manager: where its CRDs and webhooks come from, and its binary."""

    name: str
    binary: Path
    crd_kustomization: Path
    """A folder holding the component's ``config/crd/kustomization.yaml``."""
    webhook_manifests: Path
    """The component's ``config/webhook/manifests.yaml``."""
    env: Mapping[str, str] = field(default_factory=dict)


def components(capi_module: Path, capi_test_module: Path, bin_dir: Path) -> list[Component]:
    """The four managers of a CAPI release, given its two module folders and the folder of the built binaries."""
    return [
        Component(
            "core",
            bin_dir / "capi-core",
            capi_module / "core/config/crd",
            capi_module / "core/config/webhook/manifests.yaml",
        ),
        Component(
            "kcp",
            bin_dir / "capi-kcp",
            capi_module / "controlplane/kubeadm/config/crd",
            capi_module / "controlplane/kubeadm/config/webhook/manifests.yaml",
        ),
        Component(
            "cabpk",
            bin_dir / "capi-cabpk",
            capi_module / "bootstrap/kubeadm/config/crd",
            capi_module / "bootstrap/kubeadm/config/webhook/manifests.yaml",
        ),
        Component(
            "capd",
            bin_dir / "capd",
            capi_test_module / "infrastructure/docker/config/crd",
            capi_test_module / "infrastructure/docker/config/webhook/manifests.yaml",
            env={"POD_IP": "127.0.0.1"},
        ),
    ]


def loopback_client_config(port: int, path: str, ca_bundle: bytes) -> dict[str, Any]:
    """A webhook ``clientConfig`` that reaches a manager on loopback."""
    return {"url": f"https://127.0.0.1:{port}{path}", "caBundle": base64.b64encode(ca_bundle).decode()}


def without_conversion(crd: dict[str, Any]) -> dict[str, Any]:
    """A CRD whose versions convert by rewriting ``apiVersion`` only (for providers whose manager does not run)."""
    crd["spec"]["conversion"] = {"strategy": "None"}
    crd.get("metadata", {}).get("annotations", {}).pop("cert-manager.io/inject-ca-from", None)
    return crd


def patch_crd(crd: dict[str, Any], port: int, ca_bundle: bytes) -> dict[str, Any]:
    """A CRD whose conversion webhook (if any) reaches the manager on loopback; cert-manager's injection removed."""
    conversion = crd.get("spec", {}).get("conversion")
    if conversion and conversion.get("strategy") == "Webhook":
        conversion["webhook"]["clientConfig"] = loopback_client_config(port, "/convert", ca_bundle)
    annotations = crd.get("metadata", {}).get("annotations", {})
    annotations.pop("cert-manager.io/inject-ca-from", None)
    return crd


def patch_webhook_configuration(config: dict[str, Any], component: str, port: int, ca_bundle: bytes) -> dict[str, Any]:
    """An admission webhook configuration named per component (upstream names collide) that calls the manager."""
    config["metadata"]["name"] = f"{component}-{config['metadata']['name']}"
    config["metadata"].pop("annotations", None)
    for webhook in config.get("webhooks", []):
        path = webhook["clientConfig"]["service"]["path"]
        webhook["clientConfig"] = loopback_client_config(port, path, ca_bundle)
    return config


def component_manifests(
    component: Component, crd_documents: Iterable[dict[str, Any]], port: int, ca_bundle: bytes
) -> list[dict[str, Any]]:
    """Every CRD and webhook configuration of one component, pointed at its manager on ``port``."""
    manifests = [patch_crd(crd, port, ca_bundle) for crd in crd_documents if crd]
    for config in yaml.safe_load_all(component.webhook_manifests.read_text()):
        if config:
            manifests.append(patch_webhook_configuration(config, component.name, port, ca_bundle))
    return manifests


def kustomize(folder: Path) -> list[dict[str, Any]]:
    """``kubectl kustomize FOLDER`` as documents."""
    out = subprocess.run(["kubectl", "kustomize", str(folder)], check=True, capture_output=True, text=True).stdout
    return [doc for doc in yaml.safe_load_all(out) if doc]


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def wait_ready(url: str, process: subprocess.Popen[bytes], log: Path, timeout: float = READY_TIMEOUT_SECONDS) -> None:
    """Wait until ``url`` answers 200; fail with the tail of the manager's log if it exits or times out."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{process.args!r} exited with {process.returncode}:\n{tail(log)}")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        time.sleep(0.5)
    raise RuntimeError(f"{process.args!r} not ready at {url} after {timeout:.0f} s:\n{tail(log)}")


def tail(log: Path, lines: int = 20) -> str:
    """The last lines of a log file (for failure messages)."""
    try:
        return "\n".join(log.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


@dataclass
class RunningManager:
    """One started manager process and where it logs."""

    component: Component
    process: subprocess.Popen[bytes]
    log: Path
    webhook_port: int
    health_port: int


@dataclass
class CapiStack:
    """CAPI's managers running against one API server; stop with :meth:`stop`."""

    managers: list[RunningManager]
    workdir: Path
    extra: list[tuple[str, subprocess.Popen[bytes], Path]] = field(default_factory=list)
    """Other processes of the stack (kube-controller-manager): name, process, log."""

    def logs(self) -> dict[str, Path]:
        """Each process's log file by name."""
        found = {manager.component.name: manager.log for manager in self.managers}
        found.update({name: log for name, _, log in self.extra})
        return found

    def assert_running(self) -> None:
        """Fail naming the manager (with its log) that has exited."""
        for manager in self.managers:
            if manager.process.poll() is not None:
                raise RuntimeError(
                    f"CAPI {manager.component.name} exited with {manager.process.returncode}:\n{tail(manager.log)}"
                )

    def stop(self) -> None:
        """Terminate every manager (kill after 10 s)."""
        for manager in self.managers:
            if manager.process.poll() is None:
                manager.process.terminate()
        for manager in self.managers:
            try:
                manager.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                manager.process.kill()
                manager.process.wait()


def start_manager(
    component: Component, kubeconfig: Path, webhook_port: int, cert_dir: Path, workdir: Path
) -> RunningManager:
    """Start one manager process with its webhook server on ``webhook_port`` and health probes on a free port."""
    health_port, diagnostics_port = free_port(), free_port()
    log = workdir / f"{component.name}.log"
    command = [
        str(component.binary),
        f"--kubeconfig={kubeconfig}",
        f"--webhook-port={webhook_port}",
        f"--webhook-cert-dir={cert_dir}",
        f"--health-addr=127.0.0.1:{health_port}",
        f"--diagnostics-address=127.0.0.1:{diagnostics_port}",
        "--insecure-diagnostics",
        "--feature-gates=ClusterTopology=true",
    ]
    with log.open("wb") as out:
        process = subprocess.Popen(
            command,
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            env={**os.environ, **component.env},
            preexec_fn=apiserver._die_with_parent,  # noqa: PLW1509 - one FFI call between fork and exec
        )
    return RunningManager(component, process, log, webhook_port, health_port)


def make_webhook_certificates(openssl: str, folder: Path) -> bytes:
    """A CA of its own and ``tls.crt``/``tls.key`` for 127.0.0.1 signed by it in ``folder``; the CA in PEM."""
    folder.mkdir(parents=True, exist_ok=True)
    apiserver._ec_key(openssl, folder, "ca.key")
    apiserver._openssl(openssl, folder, "req", "-x509", "-new", "-key", "ca.key", "-subj", "/CN=fleetc-capi-webhooks",
                       "-days", "2", "-out", "ca.crt")  # fmt: skip
    apiserver._signed(openssl, folder, "tls", "/CN=capi-webhooks",
                      "keyUsage=critical,digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\n"
                      "subjectAltName=IP:127.0.0.1,DNS:localhost\n")  # fmt: skip
    return (folder / "ca.crt").read_bytes()


def start_garbage_collector(binary: Path, kubeconfig: Path, workdir: Path) -> subprocess.Popen[bytes]:
    """kube-controller-manager with only the garbage collector and the namespace controller (no serving port)."""
    command = [
        str(binary),
        f"--kubeconfig={kubeconfig}",
        "--controllers=garbagecollector,namespace",
        "--leader-elect=false",
        "--secure-port=0",
    ]
    with (workdir / "kube-controller-manager.log").open("wb") as out:
        return subprocess.Popen(
            command,
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            preexec_fn=apiserver._die_with_parent,  # noqa: PLW1509 - one FFI call between fork and exec
        )


Apply = Callable[[list[dict[str, Any]]], None]


def start_stack(
    parts: list[Component],
    kubeconfig: Path,
    cert_dir: Path,
    ca_bundle: bytes,
    apply: Apply,
    workdir: Path,
    providers: Iterable[Path] = (),
) -> CapiStack:
    """Install every component's CRDs and webhooks (``apply`` takes a list of manifests), then start the managers.

    ``cert_dir`` holds ``tls.crt``/``tls.key`` valid for 127.0.0.1, signed by the CA in ``ca_bundle``;
    ``providers`` are kustomization folders of infrastructure providers whose CRDs are installed without conversion.
    """
    ports = {part.name: free_port() for part in parts}
    manifests: list[dict[str, Any]] = []
    for part in parts:
        manifests.extend(component_manifests(part, kustomize(part.crd_kustomization), ports[part.name], ca_bundle))
    for folder in providers:
        manifests.extend(without_conversion(crd) for crd in kustomize(folder))
    apply(manifests)
    stack = CapiStack([], workdir)
    try:
        for part in parts:
            stack.managers.append(start_manager(part, kubeconfig, ports[part.name], cert_dir, workdir))
        for manager in stack.managers:
            wait_ready(f"http://127.0.0.1:{manager.health_port}/readyz", manager.process, manager.log)
    except BaseException:
        stack.stop()
        raise
    return stack


def apply_with(api: apiserver.KubeApi, workdir: Path) -> Apply:
    """An ``apply`` for :func:`start_stack`: one server-side apply of every manifest, then CRDs waited Established."""

    def apply(manifests: list[dict[str, Any]]) -> None:
        path = workdir / "capi-manifests.yaml"
        path.write_text(yaml.safe_dump_all(manifests, sort_keys=False))
        applied = api.kubectl("apply", "--server-side", "--force-conflicts", "-o", "name", "-f", str(path)).stdout
        crds = [name for name in applied.split() if name.startswith("customresourcedefinition")]
        api.kubectl("wait", "--for=condition=Established", "--timeout=60s", *crds)

    return apply


@dataclass
class Session:
    """What the ``capi`` fixture hands to tests: the API server, the running stack and how long it took to start."""

    api: apiserver.KubeApi
    stack: CapiStack
    seconds: dict[str, float]

    def log_tails(self, lines: int = 25) -> str:
        """The end of every manager's log (printed when a test that uses the stack fails)."""
        return "\n\n".join(f"--- {name} ({log}) ---\n{tail(log, lines)}" for name, log in self.stack.logs().items())


@contextlib.contextmanager
def session_stack(
    api: apiserver.KubeApi,
    workdir: Path,
    *,
    openssl: str,
    bin_dir: Path,
    controller_manager: Path,
    capi_module: Path,
    capi_test_module: Path,
    providers: Iterable[Path],
) -> Iterator[Session]:
    """CAPI's managers (and a garbage collector) running against ``api`` until the block ends; logs in ``workdir``."""
    started = time.monotonic()
    ca_bundle = make_webhook_certificates(openssl, workdir / "pki")
    certified = time.monotonic()
    gc = start_garbage_collector(controller_manager, api.kubeconfig, workdir)
    try:
        stack = start_stack(
            components(capi_module, capi_test_module, bin_dir),
            api.kubeconfig,
            workdir / "pki",
            ca_bundle,
            apply_with(api, workdir),
            workdir,
            providers,
        )
        stack.extra.append(("kube-controller-manager", gc, workdir / "kube-controller-manager.log"))
        seconds = {"certificates": certified - started, "total": time.monotonic() - started}
        try:
            yield Session(api, stack, seconds)
        finally:
            stack.stop()
    finally:
        if gc.poll() is None:
            gc.terminate()
            gc.wait(10)


def documents_of(text: str) -> Iterator[dict[str, Any]]:
    """The non-empty YAML documents of a multi-document string."""
    for doc in yaml.safe_load_all(text):
        if doc:
            yield doc
