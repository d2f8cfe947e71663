"""The one way tests locate reference data: upstream CRD folders (from the pinned Go modules) and the project's own
fixtures under ``tests/fixtures``.

Tests take the ``reference`` fixture; helper modules that are not fixtures (``tests/*/support.py``) call
:func:`reference`, which returns the same object. CRD folders need Go (``go mod download``): without it the asking
test is skipped with one shared reason, or fails when ``CI`` is set (:func:`unavailable`).
"""

from __future__ import annotations

import contextlib
import functools
from collections.abc import Iterator
from pathlib import Path
from typing import NoReturn

import pytest

from tests.upstream import crds, pins, toolchain

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"

CAPI_CRDS = ("capi-core", "kcp", "cabpk", "capd")
"""CAPI v1.14.0's CRDs: core, KubeadmControlPlane, kubeadm bootstrap, and CAPD's Docker* and in-memory Dev* kinds."""
PROVIDER_CRDS = ("aws", "azure", "vsphere", "openstack", "gcp")
"""The five cloud providers' CRDs."""
FLUX_CRDS = ("flux-kustomize", "flux-source")
"""Flux's kustomize-controller and source-controller CRDs."""

MISSING: set[str] = set()
"""The reasons tests were skipped for a missing tool in this session (read by the plugin's summary line)."""


def unavailable(missing: toolchain.ToolMissing) -> NoReturn:
    """Skip the asking test because a tool is missing; fail it instead when ``CI`` is set."""
    if toolchain.in_ci():
        pytest.fail(f"{missing} (CI is set, so this fails instead of skipping)", pytrace=False)
    MISSING.add(str(missing))
    pytest.skip(str(missing))


@contextlib.contextmanager
def tools_needed() -> Iterator[None]:
    """Turns a missing tool inside the block into :func:`unavailable`."""
    try:
        yield
    except toolchain.ToolMissing as missing:
        unavailable(missing)


@functools.cache
def _crd_folders() -> dict[str, Path]:
    return crds.download(pins.load().crds.values())


class Reference:
    """Where reference data lives."""

    fixtures: Path = FIXTURES
    """The project's own fixtures (``tests/fixtures``)."""

    @property
    def capi_status(self) -> Path:
        """Snapshots of CAPI v1.14 objects in seven moments of a cluster's life, with their verdicts (README.md)."""
        return self.fixtures / "capi-status"

    def crds(self, *names: str) -> list[Path]:
        """The CRD folders of the named ``pins.toml`` sources (see ``CAPI_CRDS`` and co.); all by default."""
        with tools_needed():
            folders = _crd_folders()
        unknown = set(names) - set(folders)
        assert not unknown, f"no CRD source {sorted(unknown)} in pins.toml"
        return [folders[name] for name in names or folders]

    def crd_folder(self, name: str) -> Path:
        """One CRD folder."""
        (folder,) = self.crds(name)
        return folder


_REFERENCE = Reference()


def reference() -> Reference:
    """The reference data (the same object as the ``reference`` fixture)."""
    return _REFERENCE
