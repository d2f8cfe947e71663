"""fleetc's own kinds on the test API server: install the CRDs that :mod:`fleetc.rollout.crds` renders (once per
server), for the tests that run rollouts against it."""

from __future__ import annotations

import tempfile
from pathlib import Path

import yaml

from fleetc.rollout import crds
from tests.kube.support import KubeApi

_INSTALLED: set[str] = set()


def install_fleetc_crds(api: KubeApi) -> list[str]:
    """Server-side apply the three CRDs and wait until they are Established; their resource names."""
    with tempfile.TemporaryDirectory(prefix="fleetc-crds-") as folder:
        path = Path(folder) / "crds.yaml"
        path.write_text(yaml.safe_dump_all(crds.crds(), sort_keys=False))
        applied = api.kubectl("apply", "--server-side", "--force-conflicts", "-o", "name", "-f", str(path))
    names: list[str] = applied.stdout.split()
    api.kubectl("wait", "--for=condition=Established", "--timeout=60s", *names)
    _INSTALLED.add(api.server)
    return names


def ensure_fleetc_crds(api: KubeApi) -> None:
    """:func:`install_fleetc_crds` unless this server has them already."""
    if api.server not in _INSTALLED:
        install_fleetc_crds(api)
