"""pytest fixtures for reference data and a real Kubernetes API server (loaded by ``tests/conftest.py``).

``reference`` (any scope) locates CRDs and fixtures; ``kube_api`` (session) runs etcd and kube-apiserver built from
the pinned modules, with CAPI's CRDs installed; ``kube_namespace`` (per test) is a fresh namespace on it. A line at
the end of the run says why tests were skipped for a missing tool and how long the API server took to start.
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

from tests.upstream import apiserver, build, reference, toolchain
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
