"""Finding the Go toolchain and the cache the upstream binaries live in.

Go is the one tool the real-Kubernetes tests need that a Python set-up does not bring: without it they are skipped
(or, when ``CI`` is set, failed) by ``reference``/``plugin``; ``build`` prints the same reason and stops.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path


class ToolMissing(RuntimeError):
    """A command-line tool the upstream tests need is not installed."""


def go() -> str:
    """The ``go`` command on PATH (raises :class:`ToolMissing` without it)."""
    found = shutil.which("go")
    if found is None:
        raise ToolMissing(
            "Go is not installed (no `go` on PATH): it builds kube-apiserver, etcd and CAPI and fetches the upstream "
            "CRDs from the Go modules pinned in tests/upstream/pins.toml; install Go >= 1.26"
        )
    return found


def tool(name: str) -> str:
    """Another command (``kubectl``, ``openssl``) on PATH (raises :class:`ToolMissing` without it)."""
    found = shutil.which(name)
    if found is None:
        raise ToolMissing(f"`{name}` is not installed: the tests that use a real kube-apiserver need it")
    return found


def in_ci() -> bool:
    """True on CI, where a missing tool fails the run instead of skipping tests."""
    return bool(os.environ.get("CI"))


def cache_root() -> Path:
    """``$FLEETC_CACHE`` or ``$XDG_CACHE_HOME/fleetc`` or ``~/.cache/fleetc``, then ``upstream``."""
    configured = os.environ.get("FLEETC_CACHE")
    if configured:
        return Path(configured) / "upstream"
    xdg = os.environ.get("XDG_CACHE_HOME")
    base = Path(xdg) if xdg else Path.home() / ".cache"
    return base / "fleetc" / "upstream"


def go_env() -> dict[str, str]:
    """The environment for ``go``: static binaries (no C toolchain needed), no workspace file from the caller."""
    return {**os.environ, "CGO_ENABLED": "0", "GOWORK": "off"}
