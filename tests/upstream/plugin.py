"""pytest fixtures for reference data and a real Kubernetes API server (loaded by ``tests/conftest.py``).

``reference`` (any scope) locates CRDs and fixtures; ``kube_api`` (session) runs etcd and kube-apiserver built from
the pinned modules, with CAPI's CRDs installed; ``kube_namespace`` (per test) is a fresh namespace on it; ``capi``
(session, started by the first test that asks) runs CAPI v1.14.0's managers against it (``capi_stack.py``). Tests
that use ``capi`` run last, so CAPI's controllers never see another test's objects; when one fails, the tails of the
managers' logs are added to its report. A line at the end of the run says why tests were skipped for a missing tool
and how long the API server (and the CAPI stack) took to start.
"""

from __future__ import annotations

import re
import secrets
import shutil
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.upstream import apiserver, build, capi_stack, crds, pins, reference, toolchain
from tests.upstream.apiserver import KubeApi
from tests.upstream.reference import Reference

_TIMINGS: dict[str, float] = {}


@pytest.fixture(scope="session", name="reference")
def reference_fixture() -> Reference:
    """Where reference data lives: upstream CRD folders and ``tests/fixtures``."""
    return reference.reference()


@pytest.fixture(scope="session")
def kube_api() -> Iterator[KubeApi]:
    """A real etcd + kube-apiserver on loopback (RBAC on, admin by client certificate) with CAPI's CRDs installed."""
    started = time.monotonic()
    with reference.tools_needed():
        kubectl, openssl = toolchain.tool("kubectl"), toolchain.tool("openssl")
        etcd = build.binary("etcd", "etcd")
        kube_apiserver = build.binary("apiserver", "kube-apiserver")
    crd_folders = reference.reference().crds(*reference.CAPI_CRDS)
    _TIMINGS["binaries"] = time.monotonic() - started
    workdir = Path(tempfile.mkdtemp(prefix="fleetc-kube-"))
    try:
        with apiserver.running(etcd, kube_apiserver, kubectl, openssl, workdir) as plane:
            _TIMINGS["servers"] = time.monotonic() - started - _TIMINGS["binaries"]
            plane.api.install_crds(crd_folders)
            _TIMINGS["total"] = time.monotonic() - started
            yield plane.api
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


@pytest.fixture(scope="session")
def capi(kube_api: KubeApi, tmp_path_factory: pytest.TempPathFactory) -> Iterator[capi_stack.Session]:
    """CAPI v1.14.0's core, KubeadmControlPlane, kubeadm bootstrap and CAPD managers (webhooks on loopback, topology
    on) plus a garbage collector, running against ``kube_api``; logs stay in pytest's temporary folder."""
    started = time.monotonic()
    with reference.tools_needed():
        openssl = toolchain.tool("openssl")
        bin_dir = build.binary("capi", "capi-core").parent
        controller_manager = build.binary("apiserver", "kube-controller-manager")
        modules = pins.load().modules
        dirs = crds.module_dirs([modules["capi"], modules["capi-test"]])
    providers = [folder.parent for folder in reference.reference().crds(*reference.PROVIDER_CRDS)]
    workdir = tmp_path_factory.mktemp("capi")
    with capi_stack.session_stack(
        kube_api,
        workdir,
        openssl=openssl,
        bin_dir=bin_dir,
        controller_manager=controller_manager,
        capi_module=dirs[modules["capi"]],
        capi_test_module=dirs[modules["capi-test"]],
        providers=providers,
    ) as session:
        _TIMINGS["capi"] = time.monotonic() - started
        yield session


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Tests that use the CAPI stack run after all others (stable order otherwise)."""
    items.sort(key=lambda item: "capi" in getattr(item, "fixturenames", ()))


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item) -> Iterator[None]:
    """A failed test that used the CAPI stack gets the tails of the managers' logs in its report."""
    outcome = yield
    report = outcome.get_result()  # type: ignore[attr-defined]
    session = getattr(item, "funcargs", {}).get("capi")
    if report.failed and isinstance(session, capi_stack.Session):
        report.sections.append(("CAPI manager logs (tails)", session.log_tails()))


def namespace_name(test_name: str) -> str:
    """A valid, unique namespace name derived from a test's name."""
    slug = re.sub(r"[^a-z0-9]+", "-", test_name.lower()).strip("-")[:40].strip("-")
    return f"t-{slug}-{secrets.token_hex(3)}"


@pytest.fixture
def kube_namespace(kube_api: KubeApi, request: pytest.FixtureRequest) -> Iterator[str]:
    """A namespace of its own for one test (deletion is requested afterwards; nothing here finalises it)."""
    name = namespace_name(request.node.name)
    kube_api.kubectl("create", "namespace", name)
    yield name
    kube_api.kubectl("delete", "namespace", name, "--wait=false", check=False)


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """One line on tests skipped for a missing tool, one on the API server's start-up time."""
    for reason in sorted(reference.MISSING):
        count = sum(
            isinstance(report.longrepr, tuple) and reason in report.longrepr[2]
            for report in terminalreporter.stats.get("skipped", [])
        )
        terminalreporter.write_line(f"upstream: {count} tests SKIPPED: {reason}", yellow=True, bold=True)
    if "total" in _TIMINGS:
        terminalreporter.write_line(
            f"upstream: kube_api ready in {_TIMINGS['total']:.1f} s (binaries and CRDs located "
            f"{_TIMINGS['binaries']:.1f} s, etcd + kube-apiserver {_TIMINGS['servers']:.1f} s, CRDs installed "
            f"{_TIMINGS['total'] - _TIMINGS['binaries'] - _TIMINGS['servers']:.1f} s)"
        )
    if "capi" in _TIMINGS:
        terminalreporter.write_line(f"upstream: CAPI stack (CRDs, webhooks, managers) up in {_TIMINGS['capi']:.1f} s")
