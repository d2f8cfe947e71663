"""Helpers for the hostile-input corpus: the real CLI in a subprocess with a timeout, fleets to tamper with.

Every call runs ``python -m fleetc`` in its own process, so a hang is cut by the timeout, a crash shows as a
traceback on stderr, and what reaches the terminal is exactly the bytes checked here.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from tests.loading.support import EXAMPLE_FLEET

SECONDS = 30.0
"""Longest any one command of the corpus may take (real work is well under a second; the machine is shared)."""
FLEETC_CODES = (0, 1, 2, 3, 4)


@dataclass(frozen=True)
class Run:
    """What one fleetc process did."""

    code: int
    stdout: str
    stderr: str
    seconds: float

    @property
    def output(self) -> str:
        """stdout and stderr together."""
        return self.stdout + self.stderr

    @property
    def clean(self) -> bool:
        """Ended with one of fleetc's exit codes and no traceback."""
        return self.code in FLEETC_CODES and "Traceback" not in self.output


def fleetc(
    cwd: Path,
    *args: str | bytes,
    env: dict[str, str] | None = None,
    timeout: float = SECONDS,
    modes_bite: bool = False,
) -> Run:
    """Run ``python -m fleetc ARGS`` in ``cwd``; raises ``subprocess.TimeoutExpired`` when it takes too long."""
    import time

    started = time.monotonic()
    full_env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1", **(env or {})}
    full_env.pop("FORCE_COLOR", None)
    done = subprocess.run(
        [*(without_root_override() if modes_bite else []), sys.executable, "-m", "fleetc", *args],
        cwd=cwd,
        env=full_env,
        capture_output=True,
        timeout=timeout,
        check=False,
    )
    decode = lambda raw: raw.decode("utf-8", "backslashreplace")  # noqa: E731
    return Run(done.returncode, decode(done.stdout), decode(done.stderr), time.monotonic() - started)


def example(tmp: Path, name: str = "fleet") -> Path:
    """A fresh copy of examples/fleet at ``tmp/name``."""
    return Path(shutil.copytree(EXAMPLE_FLEET, tmp / name))


def tree_bytes(root: Path) -> dict[str, bytes]:
    """Every file under ``root`` (hidden ones included) by relative path."""
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def store_matrix(count: int) -> str:
    """A ClusterSet of ``count`` vSphere store clusters (replaces the example's stores.yaml)."""
    items = "".join(f'      - {{name: "s{i:05d}", vip: 10.{i // 250 % 250}.{i % 250}.10}}\n' for i in range(count))
    return (
        "apiVersion: fleetc.io/v1alpha1\nkind: ClusterSet\nmetadata:\n  name: stores\nspec:\n  matrix:\n"
        f"    store:\n{items}  template:\n    metadata:\n      name: store-${{store}}\n"
        "      labels: {ring: broad, env: prod}\n    spec:\n      class: edge\n      provider: vsphere-dc1\n"
        '      controlPlaneEndpoint: {host: "${store.vip}"}\n'
    )


def cluster_doc(name: str, spec_extra: str = "", *, labels: str = "{ring: broad}") -> str:
    """A valid local-docker Cluster document, with extra lines under ``spec`` (each indented two spaces)."""
    return (
        f"apiVersion: fleetc.io/v1alpha1\nkind: Cluster\nmetadata:\n  name: {name}\n  labels: {labels}\n"
        f"spec:\n  class: edge\n  provider: local-docker\n{spec_extra}"
    )


def without_root_override() -> list[str]:
    """A command prefix under which file modes bite even for root (which reads anything otherwise)."""
    if os.geteuid() != 0:
        return []
    setpriv = shutil.which("setpriv")
    if setpriv is None:
        raise RuntimeError("running as root without setpriv: file modes cannot be tested")
    caps = "-dac_override,-dac_read_search"
    return [setpriv, f"--inh-caps={caps}", f"--bounding-set={caps}"]
