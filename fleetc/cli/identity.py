"""Who is running a steering command: the name ``fleetc rollout approve`` records with an approval.

In order: ``--as NAME``; ``$USER``; ``git config user.name``; the user of the kubeconfig context (management
cluster); else ``unknown``. Pure apart from the reads passed in, so tests give their own environment.
Caller: :mod:`fleetc.cli.steer_cmds`.
"""

from __future__ import annotations

import subprocess
from collections.abc import Callable, Mapping

UNKNOWN = "unknown"
GIT_SECONDS = 5.0


def git_user() -> str | None:
    """``git config user.name``, or None (no git, no name set)."""
    try:
        done = subprocess.run(
            ["git", "config", "user.name"], capture_output=True, text=True, timeout=GIT_SECONDS, check=False
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return done.stdout.strip() or None


def approver(
    explicit: str | None,
    environ: Mapping[str, str],
    *,
    git: Callable[[], str | None] = git_user,
    kube_user: Callable[[], str | None] = lambda: None,
) -> str:
    """The name to record: the first of ``--as``, ``$USER``, git's user name and the kubeconfig user that is set."""
    sources: tuple[Callable[[], str | None], ...] = (lambda: explicit, lambda: environ.get("USER"), git, kube_user)
    for found in sources:
        value = found()
        if value and value.strip():
            return value.strip()
    return UNKNOWN
